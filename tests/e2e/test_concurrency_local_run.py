"""Many clients at once on one subscription, against a local run of its own (it moves the clock, which is
global and only goes forward, so the session's run is left alone).

Ten clients, each with its own HTTP session, hammer the seeded monthly tenant's subscription: schedule
a seat reduction (acknowledged) and undo it, cancel (acknowledged) and undo, add seats and pay (each
payment with its own Idempotency-Key), renew (new keys), replay keys already used (also two copies of one
request at the same moment), add and remove users, read the account. Meanwhile another client moves the
local clock (across the term's end) and runs the period-end applier again and again. The local run gives
each function its own container and DynamoDB its isolation, so this is the concurrency the cloud has.

Every answer is 2xx or a documented 4xx in the API's error shape (409 conflicts and 429 rate limits are
legitimate outcomes), never a 5xx. At quiescent points (between the three phases) and at the end the
stored state is checked: the invariants of `support.invariants`, and exactly-once money, asserted here
from the clients' own answers: one successful charge per idempotency key that was answered 2xx with an
invoice (always the same invoice for the same key), plus the applier's automatic renewals, and nothing
else; each paid invoice paid by exactly one charge; invoice numbers gapless."""

from __future__ import annotations

import random
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import boto3
import pytest
import requests
from support.invariants import Snapshot, check_snapshot, read_snapshot

from .conftest import LocalRunProcess, launch

pytestmark = pytest.mark.e2e

CLIENTS = 10
PHASES = 3
OPS_PER_CLIENT_PER_PHASE = 4  # each op is one to four requests
CLOCK_STEPS_PER_PHASE = 2
ALLOWED_4XX = {404, 409, 422, 429}  # not found, conflicts, validation, rate limits
AUTOMATIC_KEY = re.compile(r"-attempt-\d+$")  # the applier's gateway keys (docs/period-end.md)
TIMEOUT = 30


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def own_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRunProcess]:
    # launch() stops it with SIGINT in a finally, and fails on an unclean stop or a traceback in its output.
    yield from launch(tmp_path_factory.mktemp("concurrency-run"))


@dataclass
class Payment:
    kind: str  # "seats" or "renewal"
    key: str
    path: str
    body: dict[str, Any]


@dataclass
class Tally:
    """What every client saw, shared under one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    # key -> invoice ids of its 2xx answers (None: 2xx with nothing charged)
    paid: dict[str, list[str | None]] = field(default_factory=dict)
    payments: list[Payment] = field(default_factory=list)  # sent once at least: the replay pool
    replayed: int = 0  # 2xx answers that were a key's first answer again (Idempotency-Replayed: true)

    @contextmanager
    def failures(self, who: str) -> Iterator[None]:
        """A thread's unexpected exception (a broken connection, an answer that is not JSON) is a problem too."""
        try:
            yield
        except Exception as error:
            with self.lock:
                self.problems.append(f"{who}: {error!r}")

    def record(self, what: str, response: requests.Response, payment: Payment | None = None) -> None:
        status = response.status_code
        problem = None
        code = None
        if status >= 500 or (status >= 400 and status not in ALLOWED_4XX) or status < 200 or 300 <= status < 400:
            problem = f"{what}: {status} {response.text[:300]}"
        elif status >= 400:
            try:
                error = response.json()["error"]
                code = error["code"]
                if not (isinstance(code, str) and isinstance(error["message"], str)
                        and isinstance(error["details"], dict)):
                    raise TypeError(error)
            except (ValueError, KeyError, TypeError):
                problem = f"{what}: {status} not in the API's error shape: {response.text[:300]}"
        with self.lock:
            self.sent += 1
            self.statuses[status] += 1
            if code is not None:
                self.codes[f"{status} {code}"] += 1
            if problem is not None:
                self.problems.append(problem)
            if payment is not None and 200 <= status < 300:
                invoice = response.json().get("invoice")
                self.paid.setdefault(payment.key, []).append(invoice["id"] if invoice else None)
                self.replayed += response.headers.get("Idempotency-Replayed") == "true"


class Client:
    """One SAO's browser tab: its own HTTP session (and so its own connections), its own random choices."""

    def __init__(self, run: LocalRunProcess, token: str, subscription_id: str, tally: Tally, seed: int,
                 pool_lock: threading.Lock) -> None:
        self.run = run
        self.token = token
        self.sub_path = f"/subscriptions/{subscription_id}"
        self.tally = tally
        self.rng = random.Random(seed)
        self.name = f"c{seed}"
        self.session = self._session()
        self.users: list[str] = []
        self.pool_lock = pool_lock
        self.counter = 0

    def _session(self) -> requests.Session:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.token}"
        return session

    def send(self, method: str, path: str, what: str, session: requests.Session | None = None,
             payment: Payment | None = None, **kwargs: Any) -> requests.Response:
        response = (session or self.session).request(method, self.run.url(path), timeout=TIMEOUT, **kwargs)
        self.tally.record(what, response, payment)
        return response

    def subscription(self) -> dict[str, Any] | None:
        reply = self.send("GET", self.sub_path, "GET /subscriptions/{id}")
        return reply.json() if reply.status_code == 200 else None

    def new_key(self) -> str:
        self.counter += 1
        return f"{self.name}-{self.counter}-{uuid.uuid4().hex[:8]}"

    # -- the operations --------------------------------------------------------------------------
    def reduce(self) -> None:
        sub = self.subscription()
        if sub is None:
            return
        target = max(1, sub["active_users"], sub["seats"] - self.rng.randint(1, 3))
        self.send("POST", f"{self.sub_path}/seat-reduction", "POST seat-reduction",
                  json={"seats": target, "acknowledged": True})
        if self.rng.random() < 0.7:
            self.send("POST", f"{self.sub_path}/seat-reduction/undo", "POST seat-reduction/undo",
                      json={"acknowledged": True})

    def cancel(self) -> None:
        self.send("POST", f"{self.sub_path}/cancellation", "POST cancellation",
                  json={"acknowledged": True, "reason": "concurrency test"})
        if self.rng.random() < 0.8:
            self.send("POST", f"{self.sub_path}/cancellation/undo", "POST cancellation/undo",
                      json={"acknowledged": True})

    def _quoted(self, change: str, seats: int) -> int | None:
        quote = self.send("GET", f"{self.sub_path}/quote", f"GET quote {change}",
                          params={"change": change, "seats": str(seats)})
        return int(quote.json()["total"]) if quote.status_code == 200 else None

    def _prepare(self, kind: str) -> Payment | None:
        sub = self.subscription()
        if sub is None:
            return None
        seats = sub["seats"] + 1 if kind == "seats" else max(sub["seats"], sub["active_users"])
        total = self._quoted("increase" if kind == "seats" else "renewal", seats)
        if total is None:
            return None
        path = f"{self.sub_path}/seats" if kind == "seats" else f"{self.sub_path}/renewal"
        return Payment(kind, self.new_key(), path, {"seats": seats, "expected_total": total})

    def pay(self, payment: Payment, session: requests.Session | None = None) -> requests.Response:
        with self.pool_lock:
            self.tally.payments.append(payment)
        return self.send("POST", payment.path, f"POST {payment.kind} (pay)", session=session, payment=payment,
                         headers={"Idempotency-Key": payment.key}, json=payment.body)

    def add_seats(self) -> None:
        payment = self._prepare("seats")
        if payment is not None:
            self.pay(payment)
            if self.rng.random() < 0.3:  # the client did not see the answer: the same request again
                self.pay(payment)

    def renew(self) -> None:
        payment = self._prepare("renewal")
        if payment is not None:
            self.pay(payment)

    def pay_twice_at_once(self) -> None:
        """A double click: the same payment, same key, twice at the same moment."""
        payment = self._prepare(self.rng.choice(["seats", "seats", "renewal"]))
        if payment is None:
            return
        other = self._session()
        start = threading.Barrier(2, timeout=TIMEOUT)

        def second() -> None:
            start.wait()
            self.pay(payment, session=other)

        thread = threading.Thread(target=second)
        thread.start()
        start.wait()
        self.pay(payment)
        thread.join(TIMEOUT)

    def replay(self) -> None:
        """A retry of some earlier payment, of this client or another, with its key and body."""
        with self.pool_lock:
            if not self.tally.payments:
                return
            payment = self.rng.choice(self.tally.payments)
        self.pay(payment)

    def add_user(self) -> None:
        self.counter += 1
        reply = self.send("POST", "/users", "POST /users",
                          json={"email": f"{self.name}.{self.counter}.{uuid.uuid4().hex[:6]}@akerlund-oberg.example"})
        if reply.status_code == 201:
            self.users.append(reply.json()["id"])

    def remove_user(self) -> None:
        if self.users:
            user_id = self.users.pop(self.rng.randrange(len(self.users)))
            self.send("DELETE", f"/users/{user_id}", "DELETE /users/{id}")
        else:
            self.add_user()

    def read(self) -> None:
        self.send("GET", self.rng.choice(["/account", "/invoices", "/users", "/activity"]), "GET (read)")

    def work(self, count: int, renewals: bool) -> None:
        ops: list[tuple[Callable[[], None], int]] = [
            (self.reduce, 3), (self.cancel, 2), (self.add_seats, 3), (self.pay_twice_at_once, 1),
            (self.replay, 1), (self.add_user, 2), (self.remove_user, 2), (self.read, 1),
        ]
        if renewals:
            ops.append((self.renew, 2))
        functions, weights = zip(*ops, strict=True)
        with self.tally.failures(self.name):
            for _ in range(count):
                self.rng.choices(functions, weights)[0]()


def _clock(run: LocalRunProcess, tally: Tally, steps: list[float], pause: float) -> None:
    """The other client: moves the clock (the applier runs on it) and runs the applier on demand."""
    session = requests.Session()
    with tally.failures("clock"):
        for seconds in steps:
            moved = session.post(run.url("/_local/clock"), json={"advance_seconds": seconds}, timeout=60)
            tally.record("POST /_local/clock", moved)
            time.sleep(pause)
            ran = session.post(run.url("/_local/period-end/run"), timeout=60)
            tally.record("POST /_local/period-end/run", ran)
            time.sleep(pause)


def _money(snapshot: Snapshot, tally: Tally) -> tuple[list[str], dict[str, int]]:
    """Exactly-once money from the clients' answers, beside what `check_snapshot` already holds the table
    to (gapless numbers, every paid invoice by exactly one successful charge and every successful charge
    paying one): one successful charge per key answered 2xx with an invoice, the same invoice for every
    answer of a key, and no charge declined or refunded (the card always pays)."""
    problems: list[str] = []
    charges = snapshot.charges
    succeeded = snapshot.succeeded_charges()
    automatic = [c for c in succeeded if AUTOMATIC_KEY.search(c.idempotency_key)]
    by_clients = [c for c in succeeded if not AUTOMATIC_KEY.search(c.idempotency_key)]
    problems += [f"charge {c.id} {c.status}" for c in charges if c.status != "succeeded"]
    problems += [f"charge {c.id} was refunded" for c in charges if c.refunded]

    with tally.lock:
        paid = {key: list(ids) for key, ids in tally.paid.items()}
    charged_keys = {key: ids for key, ids in paid.items() if any(ids)}
    for key, ids in charged_keys.items():
        if len(set(ids)) != 1:
            problems.append(f"key {key} answered 2xx with different invoices: {ids}")
    client_invoices = [ids[0] for ids in charged_keys.values()]
    if len(set(client_invoices)) != len(client_invoices):
        problems.append(f"one invoice answered for different keys: {Counter(client_invoices).most_common(3)}")
    if len(by_clients) != len(charged_keys):
        problems.append(f"{len(by_clients)} successful client charges, but {len(charged_keys)} keys answered "
                        "2xx with an invoice")

    invoices = snapshot.invoices
    by_id = {i.id: i for i in invoices}
    for invoice_id in client_invoices:
        stored = by_id.get(invoice_id or "")
        if stored is None or stored.status != "paid":
            problems.append(f"invoice {invoice_id} of a 2xx payment is not stored as paid")
    return problems, {"charges": len(succeeded), "client": len(by_clients), "automatic": len(automatic),
                      "keys": len(charged_keys), "invoices": len(invoices)}


def test_many_clients_on_one_subscription(own_run: LocalRunProcess, figures: dict[str, Any]) -> None:
    run = own_run
    started = time.monotonic()
    health = requests.get(run.url("/_local/health"), timeout=10).json()
    table = health["resources"]["Table"]
    dynamodb = boto3.client("dynamodb", endpoint_url=run.aws_endpoint_url, region_name=health["region"],
                            aws_access_key_id="local", aws_secret_access_key="local")  # moto takes any
    seeded = requests.get(run.url("/_local/tenants"), timeout=10).json()["items"]
    tenant = next(t for t in seeded if t["default_card"] and "monthly" in t["plan_id"] and t["edition"] == "business")
    tenant_id, subscription_id = tenant["id"], tenant["subscription_ids"][0]
    token = run.token(tenant_id)

    tally = Tally()
    pool_lock = threading.Lock()
    clients = [Client(run, token, subscription_id, tally, seed, pool_lock) for seed in range(CLIENTS)]
    first = clients[0].subscription()
    assert first is not None and first["status"] == "active"

    def clock_plan(phase: int) -> list[float]:
        """Phase 1 crosses the term's end (no renewals yet: the applier renews and charges, unless a
        cancellation lands), phase 2 stays in the new term (renewals prepay the next one), phase 3 crosses
        the next end (a roll-over onto the prepaid term, or another automatic renewal)."""
        if phase == 2:
            return [86400.0] * CLOCK_STEPS_PER_PHASE
        sub = clients[0].subscription()
        assert sub is not None
        now = _time(requests.get(run.url("/_local/clock"), timeout=10).json()["now"])
        to_end = max((_time(sub["current_period_end"]) - now).total_seconds(), 0) + 7200
        return [to_end / CLOCK_STEPS_PER_PHASE] * CLOCK_STEPS_PER_PHASE

    def quiescent(phase: int) -> dict[str, int]:
        before = _time(requests.get(run.url("/_local/clock"), timeout=10).json()["now"])
        ran = requests.post(run.url("/_local/period-end/run"), timeout=60)
        tally.record("POST /_local/period-end/run", ran)
        assert not ran.json()["result"].get("remaining"), ran.json()
        moment = _time(requests.get(run.url("/_local/clock"), timeout=10).json()["now"])
        snapshot = read_snapshot(dynamodb, table)
        violations = check_snapshot(snapshot, tenant_id, moment, applier_ran_at=before)
        money, counts = _money(snapshot, tally)
        assert not violations + money, f"after phase {phase}:\n" + "\n".join(violations + money)
        return counts

    counts: dict[str, int] = {}
    for phase in range(PHASES):
        plan = clock_plan(phase + 1)
        threads = [threading.Thread(target=client.work, args=(OPS_PER_CLIENT_PER_PHASE, phase > 0),
                                    name=f"client-{client.name}") for client in clients]
        threads.append(threading.Thread(target=_clock, args=(run, tally, plan, 0.25), name="clock"))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert not any(thread.is_alive() for thread in threads), "a client hung"
        assert not tally.problems, "\n".join(tally.problems[:20])
        counts = quiescent(phase + 1)

    assert counts["keys"] > 0 and tally.statuses[200] > 0, "nothing went through: the run tested nothing"
    after = clients[0].subscription()
    assert after is not None, "the subscription is gone"
    assert after["status"] == "ended" or after["current_period_start"] > first["current_period_end"], (first, after)
    elapsed = time.monotonic() - started
    statuses = ", ".join(f"{status}: {n}" for status, n in sorted(tally.statuses.items()))
    conflicts = ", ".join(f"{code}: {n}" for code, n in sorted(tally.codes.items()))
    print(f"\nconcurrency: {CLIENTS} concurrent clients + 1 clock/applier client, {tally.sent} operations sent in "
          f"{elapsed:.1f} s; outcomes by status {{{statuses}}} ({conflicts}); charges made {counts['charges']} "
          f"({counts['client']} for {counts['keys']} paid keys, {counts['automatic']} automatic renewals; "
          f"{tally.replayed} replayed answers), invoices {counts['invoices']}")
    figures["concurrency: operations sent by concurrent clients"] = tally.sent
    figures["concurrency: charges made (each exactly once)"] = counts["charges"]
    figures["concurrency: 5xx answers"] = sum(n for status, n in tally.statuses.items() if status >= 500)
