"""The whole lifecycle as a stateful property test: a Hypothesis rule-based state machine that drives the
REAL function handlers (functions/<flow>/app.py, invoked like Lambda) on moto, with a clock that only moves
when a rule moves it and the period-end applier's handler run the way the schedule would.

Every example starts from nothing: a fresh `mock_aws` with the template's tables, one tenant provisioned
by the provisioning function (a Business plan bought directly: monthly or annual, graduated or volume
pricing). Then up to `STEPS` rules, each a request as the portal would send it: users added and removed,
quotes, seat reductions and cancellations (acknowledged, with the wording version the quote or the
refusal returned) and their undo, renewals and added seats paid by card (with an Idempotency-Key, and
replays of it), cards tokenised at the sandbox and saved, made the default, removed (the sandbox's
declining and failing test cards too), open invoices paid, and the clock moved by seconds, days, or across
the term's end and the payment retries, followed by the applier.

A rule accepts every documented refusal (4xx in the error shape, with a code the route may give), never
a 5xx (except 503 `gateway_unavailable` for the one test card whose charges fail with a processing
error, SPEC 2.11), and where the outcome follows from what the machine knows it asserts it: a quote that
passed means the change passes, a refused quote means the change is refused the same way, a payment
succeeds, is declined (402, the card's decline code) or fails exactly as its card behaves. Every 2xx
updates the model (users, cards, the default card, the charges that must exist).

After every step, `support.invariants.check_invariants` reads the table and checks the licence floor,
the gapless invoice numbers, charges <-> paid invoices, that nothing scheduled survived the applier's
last run, and that status and term dates agree; the machine adds that the stored users and cards are the
model's and that the gateway holds exactly the successful charges the model counted.

`-s` shows one line: examples run, steps explored, requests made, applier runs, charges, time taken.
The size is tuned for `make test` (25 examples of up to 25 steps, well under a minute on 2 cores; the
emulator's cost per request grows with the table): LIFECYCLE_EXAMPLES and LIFECYCLE_STEPS change it, and
LIFECYCLE_VERBOSE=1 also prints where the time went and every (request, status, code) reached. A failure
prints its steps and a `@reproduce_failure` blob; Hypothesis' example database replays it on the next run.
"""

from __future__ import annotations

import itertools
import os
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from moto import mock_aws
from selfservice import bootstrap
from selfservice.adapters.clock import ManualClock
from selfservice.adapters.dynamo_items import from_item
from selfservice.domain.model import Subscription
from selfservice_local.resources import ENVIRONMENT, create_resources_from_template, environment_for, shared_session
from support.aws import REGION, use_fake_aws
from support.events import http_event, load_event
from support.functions import HttpResult, LambdaContext, call, invoke, load_function
from support.invariants import Snapshot, active_users, check_snapshot, due_at, read_snapshot

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
START = datetime(2026, 3, 10, 12, 0, 0, tzinfo=UTC)
SAO_ROLE = "[service_account_owner]"

EXAMPLES = int(os.environ.get("LIFECYCLE_EXAMPLES", "25"))
STEPS = int(os.environ.get("LIFECYCLE_STEPS", "25"))

# The sandbox's test cards (SPEC 2.11) and what their charges do. (Hypothesis draws the first entry of a
# `sampled_from` more often than the others, so every list below starts with the common case.)
CARDS: dict[str, str] = {
    "4242 4242 4242 4242": "succeed",
    "5555 5555 5555 4444": "succeed",
    "3782 822463 10005": "succeed",
    "4000 0000 0000 0341": "card_declined",
    "4000 0000 0000 9995": "insufficient_funds",
    "4000 0000 0000 0119": "processing_error",
}
REFUSED_AT_TOKENISATION = "4000 0000 0000 0002"
CARD_CHOICES = [*CARDS, "4242 4242 4242 4242", "5555 5555 5555 4444", REFUSED_AT_TOKENISATION]
DECLINES = {"card_declined", "insufficient_funds"}

# The refusals each operation may give while nothing else is in flight (no `payment_in_progress` and no
# `concurrent_update`: in this single client's world a payment never stays pending and nobody races).
ACK = {"acknowledgement_required"}
REDUCTION_REFUSALS = {"below_active_users", "invalid_seat_count", "renewal_already_paid", "cancellation_scheduled",
                      "period_closing", "invoice_open", "subscription_not_active"} | ACK
UNDO_REDUCTION_REFUSALS = {"nothing_scheduled", "change_already_effective"} | ACK
CANCEL_REFUSALS = {"cancellation_scheduled", "invoice_open", "subscription_not_active", "period_closing"} | ACK
UNDO_CANCEL_REFUSALS = {"nothing_scheduled", "change_already_effective"} | ACK
RENEWAL_REFUSALS = {"invoice_open", "already_renewed", "below_active_users"}
INCREASE_REFUSALS = {"invoice_open", "subscription_not_active", "seat_reduction_pending", "invalid_seat_count",
                     "period_closing"}
QUOTE_REFUSALS = REDUCTION_REFUSALS | RENEWAL_REFUSALS | INCREASE_REFUSALS
ASSIGN_REFUSALS = {"no_free_seats", "seat_reduction_pending", "user_exists", "no_active_subscription"}

STATS: dict[str, int] = {"examples": 0, "steps": 0, "requests": 0, "applier_runs": 0, "charges": 0,
                         "declines": 0, "invariant_checks": 0}
_keys = itertools.count(1)
# (request, status, error code) -> how often: printed with LIFECYCLE_VERBOSE=1, to see what the rules reach.
OUTCOMES: Counter[tuple[str, int, str | None]] = Counter()
TIMES: defaultdict[str, float] = defaultdict(float)  # seconds in requests, applier runs, invariant reads, set-up


@dataclass
class Card:
    number: str
    behaviour: str
    name: str


@dataclass
class Paid:
    """A paying request that succeeded (2xx), kept to replay it under its Idempotency-Key."""

    flow: str
    event: str
    path: dict[str, str]
    body: dict[str, Any]
    key: str
    status: int
    response: Any


@dataclass
class Model:
    users: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (email, status)
    cards: dict[str, Card] = field(default_factory=dict)
    default_card: str | None = None
    charges: int = 0  # successful charges the gateway must hold
    paid: list[Paid] = field(default_factory=list)

    def active_emails(self) -> dict[str, str]:
        return {email: uid for uid, (email, status) in self.users.items() if status == "active"}


def _refusal(result: HttpResult) -> str | None:
    return result.error_code if 400 <= result.status < 500 else None


class LifecycleMachine(RuleBasedStateMachine):
    """One tenant's life, through the handlers, with the invariants checked after every step."""

    def __init__(self) -> None:
        super().__init__()
        STATS["examples"] += 1
        started = time.perf_counter()
        self._mock = mock_aws()
        self._mock.start()
        try:
            resources = create_resources_from_template(TEMPLATE, region=REGION)
            os.environ.update(environment_for(resources))
            self.table = resources["Table"]
            self.dynamodb = shared_session().client("dynamodb", region_name=REGION)
            self.clock = ManualClock(START)
            bootstrap.reset()
            bootstrap.override(clock=self.clock)
        except BaseException:
            self._mock.stop()
            raise
        self.model = Model()
        self.applier_ran_at: datetime | None = None
        self.snapshot: Snapshot | None = None  # the table as the last invariant check read it
        self.tenant_id = ""
        self.subscription_id = ""
        self.claims: dict[str, Any] = {}
        self._emails = itertools.count(1)
        TIMES["set-up"] += time.perf_counter() - started

    def teardown(self) -> None:
        STATS["charges"] += self.model.charges
        bootstrap.reset()
        self._mock.stop()

    # --- plumbing ------------------------------------------------------------------------------------

    def _send(self, flow: str, event: str, *, gateway_may_fail: bool = False, **options: Any) -> HttpResult:
        """The request as the SAO, through the flow's handler: never a 5xx (save a processing error where
        the card says so), every refusal in the error shape."""
        started = time.perf_counter()
        result = call(flow, http_event(event, claims=self.claims, **options))
        TIMES["requests"] += time.perf_counter() - started
        STATS["requests"] += 1
        OUTCOMES[(event, result.status, result.error_code)] += 1
        if result.status >= 500:
            assert gateway_may_fail and (result.status, result.error_code) == (503, "gateway_unavailable"), (
                f"{event} answered {result.status}: {result.body}")
        if result.status >= 400:
            error = result.body.get("error") if isinstance(result.body, dict) else None
            assert isinstance(error, dict) and isinstance(error.get("code"), str) and \
                isinstance(error.get("message"), str) and isinstance(error.get("details"), dict), (
                    f"{event} answered {result.status} outside the error shape: {result.body}")
        return result

    def _refused(self, result: HttpResult, allowed: set[str], what: str) -> str:
        code = _refusal(result)
        assert code is not None and code in allowed, (
            f"{what}: expected a refusal among {sorted(allowed)}, got {result.status}: {result.body}")
        return code

    def _stored(self) -> Subscription:
        """The subscription as stored: from the table read of the invariant check after the last step (nothing
        has happened since)."""
        assert self.snapshot is not None
        return next(s for s in self.snapshot.tenants[self.tenant_id].subscriptions if s.id == self.subscription_id)

    def _active_users(self) -> int:
        assert self.snapshot is not None
        return active_users(self.snapshot.tenants[self.tenant_id].users, self.clock.now())

    def _read_subscription(self) -> Subscription:
        item = self.dynamodb.get_item(TableName=self.table, ConsistentRead=True, Key={
            "PK": {"S": f"TENANT#{self.tenant_id}"}, "SK": {"S": f"A#SUB#{self.subscription_id}"}})["Item"]
        sub = from_item(item)
        assert isinstance(sub, Subscription), item
        return sub

    def _unchanged(self, what: str, result: HttpResult | None = None) -> None:
        """A refused change wrote nothing: the stored subscription is still the version read before. A charge
        that was declined or failed (402, 503) wrote its pending payment and released it (two versions), and
        nothing else."""
        fresh, stored = self._read_subscription(), self._stored()
        if result is not None and result.status in (402, 503):
            assert fresh.version == stored.version + 2, (what, fresh.version, stored.version)
            fresh = replace(fresh, version=stored.version)
        assert fresh == stored, f"{what} changed the subscription"

    def _quote(self, change: str, seats: int) -> HttpResult:
        result = self._send("account", "account-quote", path={"subscription_id": self.subscription_id},
                            query={"change": change, "seats": str(seats)})
        if result.status == 200:
            quote = result.body
            assert (quote["change"], quote["seats"]) == (change, seats), quote
            assert quote["total"] == quote["amount_due"] + quote["tax_amount"], quote
            if change == "reduction":
                assert quote["acknowledgement"]["version"], quote
        else:
            self._refused(result, QUOTE_REFUSALS, f"quote {change} {seats}")
        return result

    def _charged_card(self, named: str | None) -> Card | None:
        card_id = named or self.model.default_card
        return self.model.cards.get(card_id) if card_id else None

    def _expect_payment(self, result: HttpResult, card: Card | None, what: str) -> bool:
        """A payment that passed every rule: its outcome is the card's. True when it charged."""
        if result.status == 429:
            self._refused(result, {"rate_limited"}, what)
            return False
        if card is None:
            assert (result.status, result.error_code) == (409, "no_payment_method"), (what, result.body)
            return False
        if card.behaviour == "succeed":
            assert result.status in (200, 201), (what, card, result.body)
            return True
        if card.behaviour == "processing_error":
            assert (result.status, result.error_code) == (503, "gateway_unavailable"), (what, card, result.body)
            return False
        assert (result.status, result.error_code) == (402, card.behaviour), (what, card, result.body)
        assert result.body["error"]["details"]["decline_code"] == card.behaviour
        STATS["declines"] += 1
        return False

    def _card_choice(self, data: st.DataObject) -> str | None:
        """The card a payment names: none (the default) or one of the saved cards."""
        # Draws pick from the model in the order things were made, never by id: ids carry random bits, and a
        # draw that depended on them would make an example unreproducible (Hypothesis: flaky strategy).
        return data.draw(st.sampled_from([None, None, *self.model.cards]), label="payment_method_id")

    def _paying(self, flow: str, event: str, path: dict[str, str], body: dict[str, Any], key: str,
                card: Card | None) -> HttpResult:
        return self._send(flow, event, path=path, body=body, headers={"idempotency-key": key},
                          gateway_may_fail=card is not None and card.behaviour == "processing_error")

    def _retry_outcome(self, added: dict[str, Any], card: Card) -> None:
        """Making a card the default (or adding the first one) retries a past_due subscription's open
        invoice with it at once (SPEC 2.9)."""
        retry = added.get("retry")
        if retry is None:
            return
        assert retry["subscription_id"] == self.subscription_id, retry
        match retry["status"]:
            case "paid":
                assert card.behaviour == "succeed", (retry, card)
                assert retry["subscription_status"] == "active", retry
                self.model.charges += 1
            case "failed":
                assert card.behaviour != "succeed", (retry, card)
                assert retry["subscription_status"] in ("past_due", "ended"), retry
            case "not_attempted":
                pass  # over the hourly limit of charges: the schedule stands
            case other:
                raise AssertionError(f"a retry with no fault injected ended {other}: {retry}")

    def _step(self) -> None:
        STATS["steps"] += 1

    # --- the tenant -----------------------------------------------------------------------------------

    @initialize(plan=st.sampled_from(["business-monthly-eur", "business-monthly-eur", "business-monthly-sek",
                                      "business-annual-sek"]),
                start=st.sampled_from(["2026-01-31T00:00:00Z", "2026-02-10T12:00:00Z", "2025-12-15T08:30:00Z"]),
                seats=st.sampled_from([10, 5, 4]),
                card=st.sampled_from([*[c for c, behaviour in CARDS.items() if behaviour == "succeed"] * 2, None,
                                      *[c for c, behaviour in CARDS.items() if behaviour != "succeed"]]))
    def provision(self, plan: str, start: str, seats: int, card: str | None) -> None:
        payload = load_event("provisioning")
        payload.update(plan_id=plan, start=start, seats=seats)
        result = invoke("provisioning", payload)
        assert "error" not in result, result
        self.tenant_id, self.subscription_id = result["tenant_id"], result["subscription_id"]
        self.claims = {"tenant_id": self.tenant_id, "sub": result["sao_subject"], "roles": SAO_ROLE}
        self.model.users = {u["id"]: (u["email"], "active") for u in result["users"]}
        if card is not None:  # most SAOs save a card first; the rules below add, change and remove cards
            self._add_card(card, "Maria Berg", expired=False)

    # --- users ----------------------------------------------------------------------------------------

    @rule(times=st.integers(1, 3))
    def add_users(self, times: int) -> None:
        """Assign licences to `times` new users, one after the other."""
        self._step()
        for _ in range(times):
            self._add_user("new")

    @rule(kind=st.sampled_from(["removed", "active"]))
    def add_user_again(self, kind: str) -> None:
        """Assign a licence again: to a removed user (the same assignment comes back), or to one who has it."""
        self._step()
        self._add_user(kind)

    def _add_user(self, kind: str) -> None:
        removed = sorted(e for e, s in self.model.users.values() if s == "removed")
        active = sorted(self.model.active_emails())
        if kind == "removed" and removed:
            email = removed[0]
        elif kind == "active" and active:
            email = active[-1]
        else:
            email, kind = f"analyst{next(self._emails)}@acme.example", "new"
        result = self._send("users", "users-assign", body={"email": email})
        if result.status == 201:
            assert kind != "active", result.body
            user = result.body
            assert (user["email"], user["status"], user["removed_at"]) == (email, "active", None), user
            if kind == "removed":  # a removed user's assignment comes back, with the same id
                assert self.model.users[user["id"]] == (email, "removed"), (user, self.model.users)
            else:
                assert user["id"] not in self.model.users, user
            self.model.users[user["id"]] = (email, "active")
            return
        code = self._refused(result, ASSIGN_REFUSALS, f"assign {email}")
        if kind == "active":
            assert code in ("user_exists", "no_active_subscription"), result.body
        else:
            assert code != "user_exists", result.body

    @rule(data=st.data())
    def remove_user(self, data: st.DataObject) -> None:
        self._step()
        user_id = data.draw(st.sampled_from(list(self.model.users)), label="user")
        email, status = self.model.users[user_id]
        result = self._send("users", "users-remove", path={"user_id": user_id})
        if status == "removed":
            assert (result.status, result.error_code) == (409, "user_already_removed"), result.body
            return
        assert result.status == 200, result.body  # removing an assigned user is always possible
        assert (result.body["status"], result.body["removed_at"]) == ("removed", _iso(self.clock.now())), result.body
        self.model.users[user_id] = (email, "removed")

    @rule()
    def look_at_the_account(self) -> None:
        """GET /account shows what is stored: the subscription's tile, the active users, the default card."""
        self._step()
        result = self._send("account", "account-get")
        assert result.status == 200, result.body
        account = result.body
        stored = self._stored()
        assert self.snapshot is not None
        assert account["default_payment_method_id"] == self.model.default_card, account
        [tile] = [s for s in account["subscriptions"] if s["id"] == self.subscription_id]
        reduction, renewal = stored.scheduled_reduction, stored.renewal
        assert tile == tile | {
            "seats": stored.seats, "status": stored.status,
            "active_users": active_users(self.snapshot.tenants[self.tenant_id].users, self.clock.now()),
            "current_period_start": _iso(stored.current_period_start),
            "current_period_end": _iso(stored.current_period_end),
            "cancel_at": _iso(stored.cancel_at) if stored.cancel_at else None,
            "open_invoice_id": stored.open_invoice_id if stored.status == "past_due" else None,
        }, (tile, stored)
        assert (tile["scheduled_reduction"] or {}).get("seats") == (reduction.seats if reduction else None), tile
        assert (tile["renewal"] or {}).get("seats") == (renewal.seats if renewal else None), tile

    # --- quotes, reductions, cancellations --------------------------------------------------------------

    @rule(change=st.sampled_from(["renewal", "increase", "reduction"]), delta=st.integers(-4, 3))
    def get_quote(self, change: str, delta: int) -> None:
        self._step()
        seats = max(1, self._stored().seats + delta)
        self._quote(change, seats)

    @rule(offset=st.integers(-1, 3), mode=st.sampled_from(["quoted", "quoted", "no_version", "unacknowledged"]))
    def schedule_seat_reduction(self, offset: int, mode: str) -> None:
        """To `offset` seats above the active users (-1: below them; at or above the seats: no reduction)."""
        self._step()
        before = self._stored()
        target = max(1, self._active_users() + offset)
        quote = self._quote("reduction", target)
        body: dict[str, Any] = {"seats": target, "acknowledged": mode != "unacknowledged"}
        if mode == "quoted" and quote.status == 200:
            body["acknowledgement_version"] = quote.body["acknowledgement"]["version"]
        path = {"subscription_id": self.subscription_id}
        result = self._send("seats", "seats-reduce", path=path, body=body)
        if quote.status != 200:  # the rules refuse it the same way, ticked or not
            assert (result.status, result.error_code) == (quote.status, quote.error_code), (quote.body, result.body)
            return
        if mode == "unacknowledged":
            assert (result.status, result.error_code) == (409, "acknowledgement_required"), result.body
            assert result.body["error"]["details"]["acknowledgement"]["version"] == \
                quote.body["acknowledgement"]["version"]
            self._unchanged("an unacknowledged reduction")
            return
        assert result.status == 200, (quote.body, result.body)  # the quote passed, so does the change
        sub = result.body
        assert sub["scheduled_reduction"]["seats"] == target, sub
        assert sub["scheduled_reduction"]["effective_at"] == _iso(before.current_period_end) == \
            quote.body["effective_at"], sub
        assert sub["seats"] == before.seats, sub

    @rule(mode=st.sampled_from(["direct", "two_step", "stale_version"]))
    def undo_seat_reduction(self, mode: str) -> None:
        self._step()
        result = self._acknowledged("seats", "seats-undo", {}, mode, "seat-reduction-undo/2025-01",
                                    UNDO_REDUCTION_REFUSALS, "undo the reduction")
        if result is not None:
            assert result.body["scheduled_reduction"] is None, result.body

    @rule(mode=st.sampled_from(["direct", "two_step", "stale_version"]),
          reason=st.sampled_from([None, "Moving to another tool", "Budget cut, Göteborg office"]))
    def cancel(self, mode: str, reason: str | None) -> None:
        self._step()
        extra = {"reason": reason} if reason is not None else {}
        result = self._acknowledged("cancellation", "cancellation-cancel", extra, mode, "cancellation/2025-01",
                                    CANCEL_REFUSALS, "cancel")
        if result is not None:
            sub = result.body
            last_paid = sub["renewal"]["period_end"] if sub["renewal"] else sub["current_period_end"]
            assert sub["cancel_at"] == last_paid, sub
            assert sub["cancellation_reason"] == reason, sub

    @rule(mode=st.sampled_from(["direct", "two_step", "stale_version"]))
    def undo_cancellation(self, mode: str) -> None:
        self._step()
        result = self._acknowledged("cancellation", "cancellation-undo", {}, mode, "cancellation-undo/2025-01",
                                    UNDO_CANCEL_REFUSALS, "undo the cancellation")
        if result is not None:
            assert result.body["cancel_at"] is None, result.body

    def _acknowledged(self, flow: str, event: str, extra: dict[str, Any], mode: str, stale: str,
                      refusals: set[str], what: str) -> HttpResult | None:
        """An acknowledged change: `direct` ticks the box; `two_step` first sends it unticked, reads the
        wording's version from the refusal and sends that; `stale_version` names an old wording. Returns
        the 200, or None when refused."""
        path = {"subscription_id": self.subscription_id}
        if mode == "two_step":
            first = self._send(flow, event, path=path, body={"acknowledged": False, **extra})
            code = self._refused(first, refusals, what)
            if code != "acknowledgement_required":
                return None
            self._unchanged(f"{what} without the box ticked")
            version = first.body["error"]["details"]["acknowledgement"]["version"]
            result = self._send(flow, event, path=path,
                                body={"acknowledged": True, "acknowledgement_version": version, **extra})
            assert result.status == 200, result.body  # every rule passed before the box was asked for
            return result
        body = {"acknowledged": True, **extra} | ({"acknowledgement_version": stale} if mode == "stale_version" else {})
        result = self._send(flow, event, path=path, body=body)
        if result.status == 200:
            assert mode == "direct", (mode, result.body)
            return result
        code = self._refused(result, refusals, what)
        if code == "acknowledgement_required":  # a ticked box is enough; an old wording's version is not
            assert mode == "stale_version", (mode, result.body)
        return None

    # --- money ----------------------------------------------------------------------------------------

    @rule(data=st.data(), offset=st.integers(-1, 6), price=st.sampled_from(["quoted", "quoted", "quoted", "stale"]))
    def renew(self, data: st.DataObject, offset: int, price: str) -> None:
        """For `offset` seats above the active users (-1: below them)."""
        self._step()
        before = self._stored()
        seats = max(1, self._active_users() + offset)
        named = self._card_choice(data)
        card = self._charged_card(named)
        quote = self._quote("renewal", seats)
        total = quote.body["total"] if quote.status == 200 else 0
        body: dict[str, Any] = {"seats": seats, "expected_total": total + (1 if price == "stale" else 0)} | (
            {"payment_method_id": named} if named else {})
        key = f"renewal-{next(_keys)}"
        path = {"subscription_id": self.subscription_id}
        result = self._paying("renewal", "renewal", path, body, key, card)
        if quote.status != 200:
            self._refused(result, {quote.error_code or "", "rate_limited"}, "renew after a refused quote")
            self._unchanged("renew after a refused quote")
            return
        if price == "stale":
            self._refused(result, {"price_changed", "rate_limited"}, "renew at a stale price")
            self._unchanged("renew at a stale price")
            return
        if not self._expect_payment(result, card, "renew"):
            self._unchanged("a renewal that was not paid", result)
            return
        assert result.status == 201, result.body
        sub, invoice = result.body["subscription"], result.body["invoice"]
        assert (invoice["status"], invoice["total"]) == ("paid", total), invoice
        if before.status == "ended":  # a new term from the moment of payment
            assert (sub["status"], sub["seats"], sub["current_period_start"]) == (
                "active", seats, _iso(self.clock.now())), sub
        else:
            assert sub["renewal"]["seats"] == seats and sub["renewal"]["invoice_id"] == invoice["id"], sub
            assert sub["renewal"]["period_start"] == _iso(before.current_period_end), sub
            assert (sub["cancel_at"], sub["scheduled_reduction"]) == (None, None), sub
        self.model.charges += 1
        self.model.paid.append(Paid("renewal", "renewal", path, body, key, result.status, result.body))

    @rule(data=st.data(), added=st.integers(1, 4), price=st.sampled_from(["quoted", "quoted", "quoted", "stale"]))
    def add_seats(self, data: st.DataObject, added: int, price: str) -> None:
        self._step()
        before = self._stored()
        seats = before.seats + added
        named = self._card_choice(data)
        card = self._charged_card(named)
        quote = self._quote("increase", seats)
        total = quote.body["total"] if quote.status == 200 else 0
        body: dict[str, Any] = {"seats": seats, "expected_total": total + (1 if price == "stale" else 0)} | (
            {"payment_method_id": named} if named else {})
        key = f"seats-{next(_keys)}"
        path = {"subscription_id": self.subscription_id}
        result = self._paying("seats", "seats-increase", path, body, key, card)
        if quote.status != 200:
            self._refused(result, {quote.error_code or "", "rate_limited"}, "add seats after a refused quote")
            self._unchanged("add seats after a refused quote")
            return
        if price == "stale":
            self._refused(result, {"price_changed", "rate_limited"}, "add seats at a stale price")
            self._unchanged("add seats at a stale price")
            return
        if total == 0:  # nothing due (volume pricing): applied without a charge or an invoice
            if result.status == 429:
                return
            assert result.status == 200 and result.body["invoice"] is None, result.body
            charged = False
        else:
            charged = self._expect_payment(result, card, "add seats")
            if not charged:
                self._unchanged("seats that were not paid", result)
                return
            assert result.status == 201, result.body
            invoice = result.body["invoice"]
            assert (invoice["status"], invoice["total"]) == ("paid", total), invoice
        sub = result.body["subscription"]
        assert sub["seats"] == seats, sub
        if before.renewal is not None:
            assert sub["renewal"]["seats"] == before.renewal.seats + added, sub
        self.model.charges += 1 if charged else 0
        self.model.paid.append(Paid("seats", "seats-increase", path, body, key, result.status, result.body))

    @rule(data=st.data())
    def pay_open_invoice(self, data: st.DataObject) -> None:
        self._step()
        before = self._stored()
        named = self._card_choice(data)
        card = self._charged_card(named)
        open_invoice = before.open_invoice_id if before.status == "past_due" else None
        invoice_id = open_invoice
        if invoice_id is None:  # nothing open: paying a closed invoice is refused
            listed = self._send("invoices", "invoices-list", query=None)
            assert listed.status == 200, listed.body
            if not listed.body["items"]:
                return
            numbered = sorted(listed.body["items"], key=lambda i: str(i["number"]))
            invoice_id = data.draw(st.sampled_from([i["id"] for i in numbered]), label="invoice")
        body = {"payment_method_id": named} if named else {}
        key = f"pay-{next(_keys)}"
        path = {"invoice_id": invoice_id}
        result = self._paying("invoices", "invoices-pay", path, body, key, card)
        if open_invoice is None:
            self._refused(result, {"invoice_not_open", "rate_limited"}, "pay a closed invoice")
            self._unchanged("paying a closed invoice")
            return
        if not self._expect_payment(result, card, "pay the open invoice"):
            self._unchanged("an open invoice that was not paid", result)
            return
        assert result.status == 200, result.body
        assert result.body["invoice"]["status"] == "paid", result.body
        assert (result.body["subscription"]["status"], result.body["subscription"]["open_invoice_id"]) == (
            "active", None), result.body
        self.model.charges += 1
        self.model.paid.append(Paid("invoices", "invoices-pay", path, body, key, result.status, result.body))

    @precondition(lambda self: bool(self.model.paid))
    @rule(data=st.data(), same_body=st.booleans())
    def replay_payment(self, data: st.DataObject, same_body: bool) -> None:
        """The same Idempotency-Key again: the same body replays the first response and charges nothing;
        another body is refused (422)."""
        self._step()
        paid = data.draw(st.sampled_from(self.model.paid), label="replayed")
        body = dict(paid.body)
        if not same_body:
            if "expected_total" in body:
                body["expected_total"] += 1
            elif body.get("payment_method_id"):
                del body["payment_method_id"]
            else:
                body["payment_method_id"] = "pm_" + "0" * 26
        result = self._send(paid.flow, paid.event, path=paid.path, body=body, headers={"idempotency-key": paid.key})
        if same_body:
            assert (result.status, result.body) == (paid.status, paid.response), (paid, result.body)
            assert result.headers.get("Idempotency-Replayed") == "true", result.headers
        else:
            assert (result.status, result.error_code) == (422, "idempotency_key_reused"), result.body

    # --- cards ----------------------------------------------------------------------------------------

    @rule(number=st.sampled_from(CARD_CHOICES), name=st.sampled_from(["Maria Berg", "Maria Berg", "M. Berg"]),
          expired=st.sampled_from([False, False, False, False, True]))
    def add_card(self, number: str, name: str, expired: bool) -> None:
        self._step()
        self._add_card(number, name, expired=expired)

    def _add_card(self, number: str, name: str, *, expired: bool) -> None:
        cvc = "1234" if number.startswith("37") else "123"
        token = self._send("sandbox_tokens", "sandbox_tokens", body={
            "number": number, "exp_month": 1 if expired else 12, "exp_year": 2026 if expired else 2035,
            "cvc": cvc, "name": name})
        if expired:
            assert (token.status, token.error_code) == (422, "invalid_input"), token.body
            return
        if number == REFUSED_AT_TOKENISATION:
            assert (token.status, token.error_code) == (402, "card_declined"), token.body
            return
        assert token.status == 201, token.body
        added = self._send("payment_methods", "payment_methods-add", body={"token": token.body["token"]})
        known = next((cid for cid, c in self.model.cards.items() if c.number == number), None)
        if added.status == 200:  # the same card number: the saved card (brought up to date)
            assert known is not None and added.body["id"] == known, (added.body, self.model.cards)
            self.model.cards[known].name = name
            assert added.body["name"] == name and "retry" not in added.body, added.body
            return
        if added.status != 201:
            self._refused(added, {"too_many_payment_methods"}, "add a card")
            return
        assert known is None, (added.body, self.model.cards)
        card = Card(number, CARDS[number], name)
        self.model.cards[added.body["id"]] = card
        first = self.model.default_card is None
        assert added.body["is_default"] is first, added.body
        if first:
            self.model.default_card = added.body["id"]
            self._retry_outcome(added.body, card)
        else:
            assert "retry" not in added.body, added.body

    @precondition(lambda self: bool(self.model.cards))
    @rule(data=st.data())
    def make_default(self, data: st.DataObject) -> None:
        self._step()
        card_id = data.draw(st.sampled_from(list(self.model.cards)), label="card")
        result = self._send("payment_methods", "payment_methods-default", path={"payment_method_id": card_id})
        assert result.status == 200, result.body  # no card here expires before 2035
        assert result.body["is_default"] is True, result.body
        was_default = self.model.default_card == card_id
        self.model.default_card = card_id
        if was_default:
            assert "retry" not in result.body, result.body
        else:
            self._retry_outcome(result.body, self.model.cards[card_id])

    @precondition(lambda self: len(self.model.cards) > 1)
    @rule(data=st.data())
    def remove_card(self, data: st.DataObject) -> None:
        self._step()
        card_id = data.draw(st.sampled_from(list(self.model.cards)), label="card")
        result = self._send("payment_methods", "payment_methods-remove", path={"payment_method_id": card_id})
        if card_id == self.model.default_card:
            assert (result.status, result.error_code) == (409, "default_payment_method"), result.body
            return
        assert result.status == 200 and result.body["id"] == card_id, result.body
        del self.model.cards[card_id]

    # --- time and the period-end applier ----------------------------------------------------------------

    @rule(seconds=st.sampled_from([30, 119, 121, 3600, 86400, 7 * 86400]), applier=st.sampled_from([True, False]))
    def time_passes(self, seconds: int, applier: bool) -> None:
        self._step()
        self.clock.advance(seconds)
        if applier:
            self._run_applier()

    @rule(to=st.sampled_from(["term_end", "term_end", "retry", "after_last_retry"]),
          offset=st.sampled_from([0, 1, 180, 3600]), applier=st.sampled_from([True, True, True, False]))
    def jump(self, to: str, offset: int, applier: bool) -> None:
        """Across the term's end (the renewal, the roll-over, the ending), to the next payment retry, or past
        the last one."""
        self._step()
        sub = self._stored()
        now = self.clock.now()
        if sub.status == "ended":
            moment = now + timedelta(days=3)
        elif to == "retry" and sub.next_retry_at is not None:
            moment = sub.next_retry_at
        elif to == "after_last_retry":
            moment = (sub.current_period_start if sub.status == "past_due" else sub.current_period_end) + \
                timedelta(days=5)
        else:
            moment = sub.current_period_end
        self.clock.set(max(now, moment + timedelta(seconds=offset)))
        if applier:
            self._run_applier()

    @rule()
    def run_applier(self) -> None:
        self._step()
        self._run_applier()

    def _run_applier(self) -> None:
        """The applier's handler as the schedule invokes it, again while the subscription is still due now
        (the schedule runs every 5 minutes: a clock jump over several due dates is caught up run by run)."""
        handler = load_function("period_end").lambda_handler
        for _ in range(30):
            started = time.perf_counter()
            summary: dict[str, Any] = handler(load_event("period_end"), LambdaContext(function_name="period-end"))
            TIMES["applier"] += time.perf_counter() - started
            STATS["applier_runs"] += 1
            assert (summary["failed"], summary["errors"], summary["remaining"]) == (0, [], False), summary
            # No faults here, and nobody races the applier: nothing is left pending or settled later, and the
            # due-work index hands out only work (a `skipped` subscription was not due after all).
            assert (summary["payment_pending"], summary["reconciled"], summary["skipped"]) == (0, 0, 0), summary
            self.model.charges += summary["renewed"] + summary["reactivated"]
            if summary["processed"] == 0 or not self._still_due():
                break
        else:
            raise AssertionError("the applier still found due work after 30 runs at the same time")
        self.applier_ran_at = self.clock.now()

    def _still_due(self) -> bool:
        sub = self._read_subscription()
        return sub.status != "ended" and due_at(sub) <= self.clock.now()

    # --- after every step ---------------------------------------------------------------------------------

    @invariant()
    def invariants_hold(self) -> None:
        STATS["invariant_checks"] += 1
        now = self.clock.now()
        started = time.perf_counter()
        snapshot = self.snapshot = read_snapshot(self.dynamodb, self.table)
        TIMES["invariant reads"] += time.perf_counter() - started
        violations = check_snapshot(snapshot, self.tenant_id, now, applier_ran_at=self.applier_ran_at)
        stored = snapshot.tenants[self.tenant_id]
        active = {u.id for u in stored.users if u.status == "active"}
        expected_active = set(self.model.active_emails().values())
        if active != expected_active:
            violations.append(f"assigned users {sorted(active)} are not the model's {sorted(expected_active)}")
        if {c.id for c in stored.cards} != set(self.model.cards):
            violations.append(f"saved cards {sorted(c.id for c in stored.cards)} are not the model's "
                              f"{sorted(self.model.cards)}")
        assert stored.tenant is not None
        if stored.tenant.default_payment_method_id != self.model.default_card:
            violations.append(f"the default card is {stored.tenant.default_payment_method_id}, the model says "
                              f"{self.model.default_card}")
        succeeded = len(snapshot.succeeded_charges())
        if succeeded != self.model.charges:
            violations.append(f"the gateway holds {succeeded} successful charges, the model counted "
                              f"{self.model.charges}")
        assert not violations, "invariants violated at " + _iso(now) + ":\n  " + "\n  ".join(violations)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@pytest.fixture
def lifecycle_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The `aws` fixture's environment (credentials and region; each example starts its own mock_aws and
    sets the resource names), restored afterwards; the applier's INFO log lines silenced for `-s`."""
    use_fake_aws(monkeypatch)
    for name in ENVIRONMENT:
        monkeypatch.setenv(name, "unset")  # so that monkeypatch restores whatever the examples write
    logger = load_function("period_end").logger
    level = logger.log_level
    logger.setLevel("WARNING")
    yield
    logger.setLevel(level)
    bootstrap.reset()


def test_the_lifecycle_keeps_its_invariants(lifecycle_env: None, figures: dict[str, Any]) -> None:
    before = dict(STATS)
    started = time.perf_counter()
    try:
        run_state_machine_as_test(LifecycleMachine, settings=settings(
            max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, derandomize=False, print_blob=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
        ))
    finally:
        done = {name: STATS[name] - before[name] for name in STATS}
        print(f"\nlifecycle state machine: {done['examples']} examples, {done['steps']} steps "
              f"({done['invariant_checks']} invariant checks), {done['requests']} requests, "
              f"{done['applier_runs']} applier runs, {done['charges']} successful charges, {done['declines']} declined (402) "
              f"in {time.perf_counter() - started:.1f} s")
        figures["lifecycle state machine: steps explored"] = done["steps"]
        figures["lifecycle state machine: examples"] = done["examples"]
        if os.environ.get("LIFECYCLE_VERBOSE"):
            print("  seconds:", {name: round(seconds, 1) for name, seconds in TIMES.items()})
            for (event, status, code), count in sorted(OUTCOMES.items()):
                print(f"  {event:28} {status} {code or '':28} {count}")

