"""The period-end applier through its real handler (functions/period_end/app.py) on moto, with the sandbox
gateway on the table and a clock that travels from term end to term end: a year of monthly terms, a
declined card's retries and the recoveries as the SAO meets them through the API, concurrent copies,
a crash between charge and commit, the time budget, and the cost of every transition in DynamoDB
requests, measured with botocore's event hooks (docs/period-end.md)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from selfservice import bootstrap
from selfservice.adapters.clock import ManualClock
from selfservice.domain import period_end as rules
from selfservice.ports import Charge
from selfservice.services.period_end import run_period_end
from support.events import load_event
from support.functions import LambdaContext, load_function
from support.money import (
    DECLINED,
    Request,
    add_card,
    invoices,
    last_invoice_number,
    pay_invoice,
    stored_charges,
    subscription,
    succeeded_charges,
)

from .conftest import Tenant

DAY = timedelta(days=1)
MONTHLY_10 = 37500  # 10 seats x 3000, SE buyer: + 25 % VAT


def utc(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def just_after(moment: datetime) -> datetime:
    return moment + timedelta(minutes=3)


def run(clock: ManualClock, at: datetime | None = None, context: Any = None) -> dict[str, Any]:
    """The applier's handler on events/period_end.json, as the schedule invokes it."""
    if at is not None:
        clock.set(at)
    result: dict[str, Any] = load_function("period_end").lambda_handler(
        load_event("period_end"), context or LambdaContext(function_name="period-end-function"))
    assert result["failed"] == 0, result["errors"]
    return result


def activity_types(request_as: Request, tenant: Tenant) -> list[str]:
    """Oldest first."""
    return [item["type"] for item in reversed(request_as(tenant, "activity", "activity",
                                                         query={"limit": "100"}).body["items"])]


# --- a year, through the handler ------------------------------------------------------------------

def test_a_year_of_monthly_terms_renews_itself_through_the_handler(business: Tenant, request_as: Request,
                                                                   api: ManualClock) -> None:
    add_card(request_as, business)
    ends = [utc(2026, m, d) for m, d in ((3, 31), (4, 30), (5, 31), (6, 30), (7, 31), (8, 31), (9, 30), (10, 31),
                                         (11, 30), (12, 31))] + [utc(2027, 1, 31), utc(2027, 2, 28), utc(2027, 3, 31)]
    for n in range(1, 13):
        summary = run(api, just_after(ends[n - 1]))
        assert (summary["processed"], summary["renewed"], summary["remaining"]) == (1, 1, False), summary
        sub = subscription(request_as, business)
        assert (sub["status"], sub["seats"]) == ("active", 10)
        assert (sub["current_period_start"], sub["current_period_end"]) == (
            f"{ends[n - 1].date()}T00:00:00Z", f"{ends[n].date()}T00:00:00Z")
    listed = invoices(request_as, business, limit="50")["items"]
    assert [i["number"] for i in reversed(listed)] == [f"INV-{k:06d}" for k in range(1, 13)]
    assert {(i["status"], i["total"]) for i in listed} == {("paid", MONTHLY_10)}
    assert last_invoice_number() == 12
    assert [int(c["amount"]["N"]) for c in succeeded_charges()] == [MONTHLY_10] * 12
    assert run(api)["processed"] == 0


# --- a declined card, and the ways back -----------------------------------------------------------

def test_a_declined_card_is_retried_then_ends_the_subscription_and_the_invoice_is_uncollectible(
        business: Tenant, request_as: Request, api: ManualClock) -> None:
    add_card(request_as, business, DECLINED)
    term_end = utc(2026, 3, 31)
    assert run(api, just_after(term_end))["past_due"] == 1
    sub = subscription(request_as, business)
    [invoice] = invoices(request_as, business)["items"]
    assert (sub["status"], sub["open_invoice_id"], sub["next_retry_at"]) == (
        "past_due", invoice["id"], "2026-04-01T00:00:00Z")
    assert invoice["status"] == "open"

    for day in (1, 3):
        assert run(api, just_after(term_end + day * DAY))["retried"] == 1
        assert subscription(request_as, business)["status"] == "past_due"
    summary = run(api, just_after(term_end + 5 * DAY))
    assert (summary["retried"], summary["ended"]) == (1, 1)
    sub = subscription(request_as, business)
    assert (sub["status"], sub["ended_reason"], sub["open_invoice_id"]) == ("ended", "payment_failed", None)
    assert invoices(request_as, business)["items"][0]["status"] == "uncollectible"
    assert [c["idempotency_key"]["S"] for c in stored_charges()] == [
        rules.attempt_key(invoice["id"], n) for n in (1, 2, 3, 4)]
    # one transaction: its records share a millisecond, so their order in the history is not defined
    assert set(activity_types(request_as, business)[-3:]) == {"payment.failed", "subscription.ended",
                                                              "invoice.uncollectible"}


def test_paying_the_open_invoice_through_the_api_reactivates(business: Tenant, request_as: Request,
                                                            api: ManualClock) -> None:
    add_card(request_as, business, DECLINED)
    good = add_card(request_as, business)
    run(api, just_after(utc(2026, 3, 31)))
    invoice_id = subscription(request_as, business)["open_invoice_id"]

    paid = pay_invoice(request_as, business, invoice_id, {"payment_method_id": good})
    assert paid.status in (200, 201), paid.body
    sub = subscription(request_as, business)
    assert (sub["status"], sub["open_invoice_id"], sub["next_retry_at"]) == ("active", None, None)
    assert run(api, just_after(utc(2026, 4, 1)))["processed"] == 0
    history = activity_types(request_as, business)
    assert (history.count("invoice.paid"), history.count("subscription.reactivated")) == (1, 1)


def test_making_a_new_card_the_default_through_the_api_retries_at_once(business: Tenant, request_as: Request,
                                                                       api: ManualClock) -> None:
    add_card(request_as, business, DECLINED)
    good = add_card(request_as, business)
    run(api, just_after(utc(2026, 3, 31)))
    invoice_id = subscription(request_as, business)["open_invoice_id"]

    made = request_as(business, "payment_methods", "payment_methods-default", path={"payment_method_id": good})
    assert made.status == 200, made.body
    assert made.body["is_default"] is True
    assert made.body["retry"] == {"status": "paid", "invoice_id": invoice_id, "subscription_id": business.subscription_id,
                                  "subscription_status": "active", "decline_code": None}
    assert subscription(request_as, business)["status"] == "active"
    assert invoices(request_as, business)["items"][0]["status"] == "paid"


# --- exactly once --------------------------------------------------------------------------------

@pytest.mark.usefixtures("atomic_moto_transactions")
def test_concurrent_copies_renew_and_charge_each_subscription_once(provision: Any, request_as: Request,
                                                                   api: ManualClock) -> None:
    tenants = [provision(tenant_name=f"Tenant {n}") for n in range(6)]
    for tenant in tenants:
        add_card(request_as, tenant)
    api.set(just_after(utc(2026, 3, 31)))
    deps = bootstrap.deps()
    barrier = threading.Barrier(3)
    summaries: list[Any] = []

    def copy() -> None:
        barrier.wait()
        summaries.append(run_period_end(deps))

    threads = [threading.Thread(target=copy) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sum(s.renewed for s in summaries) == len(tenants), summaries
    assert sum(s.failed for s in summaries) == 0
    assert len(succeeded_charges()) == len(tenants) == last_invoice_number()
    for tenant in tenants:
        assert subscription(request_as, tenant)["current_period_end"] == "2026-04-30T00:00:00Z"
        assert activity_types(request_as, tenant).count("subscription.renewed") == 1
    numbers = sorted(i["number"] for t in tenants for i in invoices(request_as, t)["items"])
    assert numbers == [f"INV-{k:06d}" for k in range(1, len(tenants) + 1)]


class LambdaKilled(BaseException):
    """The runtime stopping an invocation: no code of the function runs on."""


def test_a_crash_between_charge_and_commit_is_completed_by_the_next_run(business: Tenant, request_as: Request,
                                                                       api: ManualClock) -> None:
    add_card(request_as, business)
    real = bootstrap.deps().gateway

    class KilledAfterCharging:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def charge(self, **kwargs: Any) -> Charge:
            assert real is not None
            real.charge(**kwargs)  # the card is charged; then the invocation dies
            raise LambdaKilled()

    bootstrap.override(gateway=KilledAfterCharging())  # type: ignore[arg-type]
    api.set(just_after(utc(2026, 3, 31)))
    with pytest.raises(LambdaKilled):
        load_function("period_end").lambda_handler(load_event("period_end"), LambdaContext())
    bootstrap.override(gateway=real)
    assert len(succeeded_charges()) == 1
    assert invoices(request_as, business)["items"][0]["status"] == "open"

    assert run(api, just_after(utc(2026, 3, 31)) + timedelta(minutes=1))["processed"] == 0  # not yet settled
    summary = run(api, just_after(utc(2026, 3, 31)) + rules.SETTLE_AFTER)
    assert (summary["reconciled"], summary["renewed"]) == (1, 1)
    assert len(succeeded_charges()) == 1  # the first charge paid the invoice
    assert invoices(request_as, business)["items"][0]["status"] == "paid"
    assert subscription(request_as, business)["status"] == "active"


# --- the time budget -------------------------------------------------------------------------------

@dataclass
class ShrinkingContext(LambdaContext):
    """A 15-minute invocation in which every look at the clock costs `step_ms`: the handler keeps the
    last 60 s (a tenth of its 900 s, at most a minute), so 21 looks fit; the run needs one per shard's
    page (16) and one per subscription, so 24 subscriptions never all fit, and at least 4 do."""

    remaining_ms: int = 900_000
    step_ms: int = 42_000

    def get_remaining_time_in_millis(self) -> int:
        left = self.remaining_ms
        self.remaining_ms -= self.step_ms
        return left


def test_a_run_that_runs_out_of_time_stops_cleanly_and_the_next_one_finishes(provision: Any,
                                                                            api: ManualClock) -> None:
    for n in range(24):
        provision(tenant_name=f"Enterprise {n}", plan_id="enterprise-annual-eur", seats=150)
    api.set(utc(2027, 1, 31) + timedelta(minutes=3))

    first = run(api, context=ShrinkingContext())
    assert first["remaining"] is True and 4 <= first["processed"] <= 20
    assert first["rolled_over"] == first["processed"]
    second = run(api)
    assert (second["rolled_over"], second["remaining"]) == (24 - first["processed"], False)
    assert run(api)["processed"] == 0


# --- the index, never a scan; the cost of each transition ---------------------------------------------

@dataclass
class Requests:
    sent: list[tuple[str, str]] = field(default_factory=list)  # (operation, "table" | "index" | "gateway")

    def of(self, where: str) -> list[str]:
        return [operation for operation, kind in self.sent if kind == where]


@pytest.fixture
def requests_sent(api: ManualClock) -> Iterator[Requests]:
    recorded = Requests()
    events = bootstrap.aws_session().events

    def before_call(model: Any, params: dict[str, Any], **_: Any) -> None:
        keys = [params.get("Key", {}), params.get("Item", {})] + [
            action.get(kind, {}).get("Item") or action.get(kind, {}).get("Key") or {}
            for action in params.get("TransactItems", []) for kind in action]
        if params.get("IndexName"):
            kind = "index"
        elif any(str(key.get("PK", {}).get("S", "")).startswith("SANDBOX#") for key in keys):
            kind = "gateway"
        else:
            kind = "table"
        recorded.sent.append((model.name, kind))

    events.register("before-parameter-build.dynamodb", before_call, unique_id="period-end-requests")
    yield recorded
    events.unregister("before-parameter-build.dynamodb", unique_id="period-end-requests")


def measured(clock: ManualClock, requests_sent: Requests, at: datetime) -> tuple[dict[str, Any], Requests]:
    requests_sent.sent.clear()
    summary = run(clock, at)
    found = Requests(list(requests_sent.sent))
    requests_sent.sent.clear()
    return summary, found


INDEX = ["Query"] * 16  # one Query of the due-work index per shard, whatever is due


def test_due_work_is_found_through_the_index_never_a_scan(provision: Any, api: ManualClock,
                                                         requests_sent: Requests) -> None:
    provision(plan_id="enterprise-annual-eur", seats=150)
    summary, sent = measured(api, requests_sent, api.now())
    assert summary["processed"] == 0
    assert sent.sent == [("Query", "index")] * 16
    summary, sent = measured(api, requests_sent, utc(2027, 1, 31) + timedelta(minutes=3))
    assert summary["rolled_over"] == 1
    assert "Scan" not in [operation for operation, _ in sent.sent]
    assert sent.of("index") == INDEX


def test_dynamodb_requests_per_subscription_for_each_transition(provision: Any, request_as: Request,
                                                                api: ManualClock, requests_sent: Requests) -> None:
    """The applier's cost: on top of the 16 index Queries of a run, per subscription."""
    costs: dict[str, tuple[list[str], list[str]]] = {}

    def record(name: str, at: datetime, expect: dict[str, int]) -> None:
        summary, sent = measured(api, requests_sent, at)
        assert {k: summary[k] for k in expect} == expect, summary
        assert sent.of("index") == INDEX
        costs[name] = (sent.of("table"), sent.of("gateway"))

    managed = provision(plan_id="enterprise-annual-eur", seats=150, start="2026-03-12T00:00:00Z",
                        tenant_name="Managed")
    record("roll over (Enterprise, reseller)", utc(2027, 3, 12) + timedelta(minutes=3), {"rolled_over": 1})
    assert subscription(request_as, managed)["current_period_end"] == "2028-03-12T00:00:00Z"

    paying = provision(start="2026-03-13T00:00:00Z", tenant_name="Paying")
    add_card(request_as, paying)
    record("automatic renewal, paid", utc(2027, 3, 13) + timedelta(minutes=3), {"renewed": 1})

    declined = provision(start="2026-03-14T00:00:00Z", tenant_name="Declined")
    add_card(request_as, declined, DECLINED)
    record("automatic renewal, declined", utc(2027, 3, 14) + timedelta(minutes=3), {"past_due": 1})
    record("retry, declined", utc(2027, 3, 15) + timedelta(minutes=3), {"retried": 1, "past_due": 1})
    good = add_card(request_as, declined)
    assert request_as(declined, "payment_methods", "payment_methods-default",
                      path={"payment_method_id": good}).body["retry"]["status"] == "paid"

    no_card = provision(start="2026-03-16T00:00:00Z", tenant_name="No card")
    record("automatic renewal, no card", utc(2027, 3, 16) + timedelta(minutes=3), {"past_due": 1})
    add_card(request_as, no_card, DECLINED)  # the first card is the default; the retry is then declined
    good = add_card(request_as, no_card)
    record("retry, declined (2)", utc(2027, 3, 17) + timedelta(minutes=3), {"retried": 1})
    request_as(no_card, "payment_methods", "payment_methods-default", path={"payment_method_id": good})

    cancelled = provision(start="2026-03-18T00:00:00Z", tenant_name="Cancelled")
    api.set(utc(2027, 3, 1))
    assert request_as(cancelled, "cancellation", "cancellation-cancel", path={"subscription_id": cancelled.subscription_id},
                      body={"acknowledged": True}).status == 200
    record("end (cancelled)", utc(2027, 3, 18) + timedelta(minutes=3), {"ended": 1})

    reconciled = provision(start="2026-03-19T00:00:00Z", tenant_name="Crashed")
    add_card(request_as, reconciled)
    bootstrap.deps().gateway.inject_fault("timeout_after_charge")  # type: ignore[union-attr]
    record("automatic renewal, the gateway's answer lost", utc(2027, 3, 19) + timedelta(minutes=3),
           {"payment_pending": 1})
    record("settle the applier's own payment", utc(2027, 3, 19) + timedelta(minutes=6),
           {"reconciled": 1, "renewed": 1})

    query, get, write = "Query", "GetItem", "TransactWriteItems"
    sandbox_charge = [get, get, write]  # the key's first outcome, the token, the stored charge
    assert costs == {
        "roll over (Enterprise, reseller)": ([write], []),
        # the account; the invoice counter; invoice + number + new term + pending charge; completion
        "automatic renewal, paid": ([query, get, write, write], sandbox_charge),
        "automatic renewal, declined": ([query, get, write, write], sandbox_charge),
        "automatic renewal, no card": ([query, get, write], []),
        # the account; the open invoice; the pending charge; the failure (or the completion)
        "retry, declined": ([query, get, write, write], sandbox_charge),
        "retry, declined (2)": ([query, get, write, write], sandbox_charge),
        "end (cancelled)": ([write], []),
        "automatic renewal, the gateway's answer lost": ([query, get, write], [get, get, write]),
        # the account; the invoice; the completion; the charge replayed under its key (one GetItem)
        "settle the applier's own payment": ([query, get, write], [get]),
    }
    print("\nDynamoDB requests per subscription (besides the run's 16 index Queries):")
    for name, (table, gateway) in costs.items():
        print(f"  {name}: table {table}, sandbox gateway {gateway}")
