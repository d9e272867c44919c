"""Warm latency of the HTTP flows through their handlers, against a moto server (`moto_server.py`, a process
of its own), and the floor of one bare DynamoDB call (a consistent GetItem of a tenant item) on the same
server; and the AWS calls each flow makes (`awscalls.py`) against the least the data allows.

Every request goes through the function's real `lambda_handler` (template.yaml's functions, loaded by
the local run's loader): routing, JWT-claim checks, validation, the service, the DynamoDB adapter and
botocore over HTTP to moto. One untimed call per flow first: the container is warm."""

from __future__ import annotations

import json
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks import events
from benchmarks.awscalls import GATEWAY, IDEMPOTENCY, LIMIT, STORE, CallCounter
from benchmarks.machine import REGION, TEMPLATE, fake_aws_environment

STACK = "bench"


@dataclass(frozen=True)
class Minimum:
    """The least the data allows, per kind of call, and why."""

    store: int
    gateway: int = 0
    idempotency: int = 0
    limit: int = 0
    why: str = ""

    @property
    def total(self) -> int:
        return self.store + self.gateway + self.idempotency + self.limit


READ = Minimum(1, why="one Query of the tenant's item collection")
CHANGE = Minimum(2, why="one read (Query) + one TransactWriteItems")
# A charging change: the account Query; the pending payment written before the charge (the lock and the
# resume point: without it a crash after the charge loses the money's trace); the last invoice number
# (GetItem: the gapless number is conditioned on it inside the transaction); the transaction that issues
# the invoice and applies the change. The gateway: one charge. Powertools' idempotency record: written
# "in progress" before the work and "completed" with the response after it (two writes). The abuse
# limit (services/limits.py): one conditional counter update per charge attempt.
MONEY = Minimum(4, gateway=1, idempotency=2, limit=1,
                why="Query + pending-payment write + invoice-number GetItem + TransactWriteItems; "
                    "1 gateway charge (the sandbox gateway makes it 3 DynamoDB calls); idempotency record in "
                    "progress + completed; 1 attempt counter")


@dataclass
class FlowResult:
    name: str
    function: str
    route: str
    minimum: Minimum
    ms: list[float] = field(default_factory=list)
    calls: CallCounter | None = None  # the calls of the last timed request
    store: int = 0
    gateway: int = 0
    idempotency: int = 0
    limit: int = 0
    other: int = 0
    status: int = 0

    @property
    def median_ms(self) -> float:
        return statistics.median(self.ms)

    @property
    def p95_ms(self) -> float:
        return percentile(self.ms, 95)

    @property
    def total_calls(self) -> int:
        return self.store + self.gateway + self.idempotency + self.limit + self.other

    def against_minimum(self) -> str:
        """Each kind of call, measured / least: 'store 4/4, gateway 1 charge (3 sandbox calls), ...'."""
        parts = [f"store {self.store}/{self.minimum.store}"]
        if self.minimum.gateway or self.gateway:
            parts.append(f"gateway {'1 charge' if self.gateway else 'none'} ({self.gateway} sandbox calls)/"
                         f"{self.minimum.gateway}")
        if self.minimum.idempotency or self.idempotency:
            parts.append(f"idempotency {self.idempotency}/{self.minimum.idempotency}")
        if self.minimum.limit or self.limit:
            parts.append(f"attempt counter {self.limit}/{self.minimum.limit}")
        if self.other:
            parts.append(f"other {self.other}/0")
        return ", ".join(parts)

    @property
    def calls_met(self) -> bool:
        """Store calls at the minimum, and each other kind no more than its minimum. The sandbox
        gateway's own DynamoDB calls stand for one gateway call (a real gateway: one HTTP request)."""
        gateway_ok = (self.gateway == 0) if self.minimum.gateway == 0 else self.gateway >= 1
        return self.store <= self.minimum.store and gateway_ok \
            and self.idempotency <= self.minimum.idempotency and self.limit <= self.minimum.limit \
            and self.other == 0


@dataclass
class FlowsReport:
    floor_ms: list[float]  # one bare GetItem
    flows: list[FlowResult]
    query_ms: list[float] = field(default_factory=list)  # the account view's Query, bare

    @property
    def query_median(self) -> float:
        return statistics.median(self.query_ms)

    @property
    def query_p95(self) -> float:
        return percentile(self.query_ms, 95)

    @property
    def floor_median(self) -> float:
        return statistics.median(self.floor_ms)

    @property
    def floor_p95(self) -> float:
        return percentile(self.floor_ms, 95)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


# --- the environment: a moto server with the template's resources ---------------------------------

@contextmanager
def aws_emulation() -> Iterator[dict[str, str]]:
    """A moto server (`moto_server.py`, its own process) with template.yaml's tables, bucket and bus; the
    environment of this process points boto3 and the composition root at it (the harness runs in its
    own process). Yields the settings (TABLE_NAME ...)."""
    import os

    from selfservice_local.resources import create_resources_from_template, environment_for

    from benchmarks import moto_server

    saved = dict(os.environ)
    try:
        with moto_server.start() as endpoint:
            os.environ.pop("AWS_PROFILE", None)
            os.environ.update(fake_aws_environment(endpoint))
            resources = create_resources_from_template(TEMPLATE, endpoint_url=endpoint, region=REGION)
            settings = environment_for(resources) | {"PAYMENT_GATEWAY": "sandbox"}
            os.environ.update(settings)
            yield settings
    finally:
        os.environ.clear()
        os.environ.update(saved)


class Handlers:
    """The template's functions, invoked in this process as Lambda would, with the AWS calls counted."""

    def __init__(self, settings: dict[str, str]) -> None:
        from selfservice import bootstrap
        from selfservice_local.functions import LocalFunctions
        from selfservice_local.template import load_template

        self.settings = settings
        self.counter = CallCounter(settings.get("IDEMPOTENCY_TABLE_NAME"))
        bootstrap.reset()
        # The clients copy the session's handlers when they are built: attach first, then build.
        self.counter.attach(bootstrap.aws_session().events)
        self.functions = LocalFunctions(load_template(TEMPLATE), STACK, REGION)

    def invoke(self, function: str, event: Any) -> Any:
        return self.functions.invoke(function, event).result

    def http(self, function: str, event: dict[str, Any]) -> tuple[int, Any]:
        response = self.invoke(function, event)
        body = response.get("body")
        return int(response["statusCode"]), json.loads(body) if body else None


# --- tenants -------------------------------------------------------------------------------------------

# Sandbox test cards that succeed (two different cards: the same number twice is the same saved card).
TEST_CARDS = ("4242 4242 4242 4242", "5555 5555 5555 4444")


@dataclass
class Tenant:
    tenant_id: str
    subscription_id: str
    subject: str
    cards: list[str] = field(default_factory=list)
    user_ids: list[str] = field(default_factory=list)

    def event(self, name: str, **options: Any) -> dict[str, Any]:
        return events.http_event(name, tenant_id=self.tenant_id, subject=self.subject, **options)


def provision(handlers: Handlers, n: int, *, seats: int = 10, cards: int = 1) -> Tenant:
    """A tenant through the provisioning function: Business monthly, started 10 days ago, the SAO and
    three users; then `cards` cards through the sandbox tokeniser and POST /payment-methods."""
    payload = events.load("provisioning")
    start = (datetime.now(UTC) - timedelta(days=10)).replace(hour=0, minute=0, second=0, microsecond=0)
    payload |= {"tenant_name": f"Bench {n}", "sao_subject": f"bench-sao-{n}-{uuid.uuid4().hex[:8]}",
                "sao_email": f"sao{n}@bench.example", "seats": seats,
                "start": start.isoformat().replace("+00:00", "Z")}
    created = handlers.invoke("ProvisioningFunction", payload)
    if "error" in created:
        raise RuntimeError(f"provisioning failed: {created}")
    tenant = Tenant(created["tenant_id"], created["subscription_id"], created["sao_subject"],
                    user_ids=[user["id"] for user in created["users"]])
    for number in TEST_CARDS[:cards]:
        tenant.cards.append(add_card(handlers, tenant, number))
    return tenant


def add_card(handlers: Handlers, tenant: Tenant, number: str = "4242 4242 4242 4242") -> str:
    status, token = handlers.http("SandboxTokensFunction", tenant.event(
        "sandbox_tokens", body={"number": number, "exp_month": 12, "exp_year": 2035, "cvc": "123",
                                "name": "Bench Card"}))
    if status != 201:
        raise RuntimeError(f"tokenising failed: {status} {token}")
    status, card = handlers.http("PaymentMethodsFunction", tenant.event("payment_methods-add",
                                                                        body={"token": token["token"]}))
    if status not in (200, 201):
        raise RuntimeError(f"adding a card failed: {status} {card}")
    return str(card["id"])


def quote_total(handlers: Handlers, tenant: Tenant, change: str, seats: int) -> int:
    status, quote = handlers.http("AccountFunction", tenant.event(
        "account-quote", path={"subscription_id": tenant.subscription_id},
        query={"change": change, "seats": str(seats)}))
    if status != 200:
        raise RuntimeError(f"quote failed: {status} {quote}")
    return int(quote["total"])


# --- the flows ------------------------------------------------------------------------------------------

Prepare = Callable[[int], tuple[str, dict[str, Any]]]  # call number -> (function, event)


@dataclass(frozen=True)
class Flow:
    name: str
    route: str
    minimum: Minimum
    prepare: Prepare  # untimed, uncounted set-up of call i (may call other handlers), returns the request
    expect: tuple[int, ...] = (200,)
    after: Callable[[Any], None] = lambda _body: None  # sees each response body (what the next call needs)
    paired: bool = False  # calls alternate between a change and its undo: end on an undo


def _flows(handlers: Handlers, calls: int) -> tuple[list[Flow], Tenant]:
    main = provision(handlers, 0, seats=10, cards=2)
    # A removed user keeps the seat to the end of the period: the assign/remove flow needs a seat per call.
    staff = provision(handlers, 2, seats=calls + 12, cards=0)
    # The abuse limit allows 10 charge attempts per subscription an hour: a tenant per 8 added seats.
    paying = [provision(handlers, 1000 + i, seats=10, cards=1) for i in range(calls // 8 + 1)]
    # Renewal is once per term: one tenant per call (and one for the warm-up).
    renewing = [provision(handlers, 100 + i, seats=10, cards=1) for i in range(calls + 1)]
    sub = {"subscription_id": main.subscription_id}

    def fixed(function: str, name: str, **options: Any) -> Prepare:
        return lambda _i: (function, main.event(name, **options))

    def alternate(first: tuple[str, str, dict[str, Any]], second: tuple[str, str, dict[str, Any]]) -> Prepare:
        def prepare(i: int) -> tuple[str, dict[str, Any]]:
            function, name, options = first if i % 2 == 0 else second
            return function, main.event(name, **options)
        return prepare

    assigned: list[str] = []

    def users(i: int) -> tuple[str, dict[str, Any]]:
        if i % 2 == 0:
            return "UsersFunction", staff.event("users-assign", body={"email": f"bench.user{i}@bench.example"})
        return "UsersFunction", staff.event("users-remove", path={"user_id": assigned[-1]})

    def add_seats(i: int) -> tuple[str, dict[str, Any]]:
        tenant, seats = paying[i // 8], 10 + i % 8 + 1
        total = quote_total(handlers, tenant, "increase", seats)
        return "SeatsFunction", tenant.event(
            "seats-increase", path={"subscription_id": tenant.subscription_id},
            body={"seats": seats, "payment_method_id": tenant.cards[0], "expected_total": total},
            headers={"idempotency-key": uuid.uuid4().hex})

    def renew(i: int) -> tuple[str, dict[str, Any]]:
        tenant = renewing[i]
        total = quote_total(handlers, tenant, "renewal", 10)
        return "RenewalFunction", tenant.event(
            "renewal", path={"subscription_id": tenant.subscription_id},
            body={"seats": 10, "expected_total": total}, headers={"idempotency-key": uuid.uuid4().hex})

    billing = events.load("account-billing-info-put")
    billing_body = json.loads(billing["body"])

    flows = [
        Flow("account view", "GET /account", READ, fixed("AccountFunction", "account-get")),
        Flow("one subscription", "GET /subscriptions/{id}", READ,
             fixed("AccountFunction", "account-subscription", path=sub)),
        Flow("quote", "GET /subscriptions/{id}/quote", READ,
             fixed("AccountFunction", "account-quote", path=sub, query={"change": "reduction", "seats": "8"})),
        Flow("users", "GET /users", READ, fixed("UsersFunction", "users-list")),
        Flow("activity page", "GET /activity", READ, fixed("ActivityFunction", "activity", query={"limit": "25"})),
        Flow("invoice list", "GET /invoices", READ, fixed("InvoicesFunction", "invoices-list", query={"limit": "10"})),
        Flow("cards", "GET /payment-methods", READ, fixed("PaymentMethodsFunction", "payment_methods-list")),
        Flow("billing information", "PUT /billing-info", CHANGE,
             lambda i: ("AccountFunction", main.event("account-billing-info-put",
                                                      body=billing_body | {"po_reference": f"PO-{i}"}))),
        Flow("seat reduction / undo", "POST .../seat-reduction[/undo]", CHANGE, alternate(
            ("SeatsFunction", "seats-reduce", {"path": sub, "body": {"seats": 8, "acknowledged": True}}),
            ("SeatsFunction", "seats-undo", {"path": sub, "body": {"acknowledged": True}})), paired=True),
        Flow("cancellation / undo", "POST .../cancellation[/undo]", CHANGE, alternate(
            ("CancellationFunction", "cancellation-cancel", {"path": sub, "body": {"acknowledged": True}}),
            ("CancellationFunction", "cancellation-undo", {"path": sub, "body": {"acknowledged": True}})),
             paired=True),
        Flow("upgrade request", "POST .../upgrade-request", CHANGE,
             fixed("UpgradeFunction", "upgrade", path=sub, body={"message": "More seats, please."})),
        Flow("assign / remove user", "POST /users, DELETE /users/{id}", CHANGE, users, expect=(200, 201), paired=True,
             after=lambda body: assigned.append(str(body["id"])) if isinstance(body, dict) and "id" in body
             else None),
        Flow("default card", "POST /payment-methods/{id}/default", CHANGE,
             lambda i: ("PaymentMethodsFunction", main.event(
                 "payment_methods-default", path={"payment_method_id": main.cards[i % 2]}))),
        Flow("add seats and pay", "POST /subscriptions/{id}/seats", MONEY, add_seats, expect=(201,)),
        Flow("renew and pay", "POST /subscriptions/{id}/renewal", MONEY, renew, expect=(201,)),
    ]
    return flows, main


class _Floors:
    """The bare calls, through a plain client on the same server: one consistent GetItem of a tenant
    item (the floor), and the account view's Query of a tenant's collection (for reference: what the
    read flows spend outside DynamoDB is their time minus this)."""

    def __init__(self, handlers: Handlers, tenant: Tenant) -> None:
        import boto3

        self.table = handlers.settings["TABLE_NAME"]
        self.client = boto3.session.Session().client("dynamodb")
        self.key = {"PK": {"S": "TENANT#bench-floor"}, "SK": {"S": "A#TENANT"}}
        self.client.put_item(TableName=self.table, Item=self.key | {"entity": {"S": "floor"}})
        self.query_input = {
            "TableName": self.table, "KeyConditionExpression": "PK = :pk AND begins_with(SK, :account)",
            "ExpressionAttributeValues": {":pk": {"S": f"TENANT#{tenant.tenant_id}"}, ":account": {"S": "A#"}},
            "ConsistentRead": True,
        }
        self.get_ms: list[float] = []
        self.query_ms: list[float] = []
        self.run(1)
        self.get_ms.clear()
        self.query_ms.clear()

    def run(self, calls: int) -> None:
        for _ in range(calls):
            started = time.perf_counter()
            self.client.get_item(TableName=self.table, Key=self.key, ConsistentRead=True)
            self.get_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            self.client.query(**self.query_input)  # type: ignore[arg-type]
            self.query_ms.append((time.perf_counter() - started) * 1000)


def measure(calls: int, handlers: Handlers) -> FlowsReport:
    """Run every flow `calls` times (after one warm-up call) and the floor as many times, interleaved
    flow by flow with slices of the floor so that machine load hits both alike."""
    flows, main = _flows(handlers, calls)
    floors = _Floors(handlers, main)
    results = []
    for flow in flows:
        result = FlowResult(flow.name, "", flow.route, flow.minimum)
        for i in range(calls + 1):
            function, event = flow.prepare(i)
            handlers.counter.reset()
            started = time.perf_counter()
            status, body = handlers.http(function, event)
            elapsed = (time.perf_counter() - started) * 1000
            if status not in flow.expect and not (flow.expect == (200,) and status == 201):
                raise RuntimeError(f"{flow.name}: {status} {body}")
            flow.after(body)
            if i == 0:
                continue  # the warm-up call
            result.ms.append(elapsed)
            kinds = handlers.counter.by_kind()
            result.store, result.gateway = kinds.get(STORE, 0), kinds.get(GATEWAY, 0)
            result.idempotency, result.limit = kinds.get(IDEMPOTENCY, 0), kinds.get(LIMIT, 0)
            result.other = handlers.counter.total - result.store - result.gateway - result.idempotency - result.limit
            result.status = status
            result.function = function
            snapshot = CallCounter(handlers.counter.idempotency_table)
            snapshot.calls = handlers.counter.calls.copy()
            result.calls = snapshot
        if flow.paired and (calls + 1) % 2:  # leave the tenant as it was: undo the last change, untimed
            function, event = flow.prepare(calls + 1)
            status, body = handlers.http(function, event)
            flow.after(body)
        floors.run(max(1, calls // len(flows) + 1))
        results.append(result)
    floors.run(max(0, calls - len(floors.get_ms)))
    return FlowsReport(floors.get_ms, results, floors.query_ms)


def run(calls: int) -> FlowsReport:
    with aws_emulation() as settings:
        return measure(calls, Handlers(settings))


if __name__ == "__main__":
    report = run(10)
    print(f"floor {report.floor_median:.2f} ms")
    for r in report.flows:
        print(f"{r.name:<24} {r.median_ms:7.2f} ms p95 {r.p95_ms:7.2f} {r.median_ms / report.floor_median:5.1f}x "
              f"calls {r.total_calls} ({r.calls.describe() if r.calls else ''}) min {r.minimum.total} "
              f"{'ok' if r.calls_met else 'NOT MET'}")
