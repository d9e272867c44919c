"""The period-end applier (services/period_end.py) travelling in time on the in-memory repository with the
real sandbox gateway: terms that renew themselves, scheduled changes landing on their date, declined
cards and their retries, recoveries, subscriptions we never charge, and exactly once under reruns,
concurrent copies, crashes and a time budget (SPEC 2.9)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
from selfservice.adapters.clock import ManualClock
from selfservice.domain import period_end as rules
from selfservice.domain.model import Acknowledgement, ScheduledReduction
from selfservice.domain.terms import utc
from selfservice.ports import INVOICE_SEQUENCE, Changeset, Charge
from selfservice.services import Caller, Deps, payments
from selfservice.services import payment_methods as cards
from selfservice.services import subscriptions as flows
from selfservice.services import users as user_flows
from selfservice.services.period_end import apply_due_step, run_period_end

from ..builders import NOW, SAO, TENANT_ID, Provision, SetSubscription
from ..payments.conftest import DECLINED, NO_FUNDS, PROCESSING_ERROR, CrashingRepository, WatchedGateway
from .conftest import AddCard, Run, events_of, invoices_of, sub_of, types_since

DAY = timedelta(days=1)
# Business monthly EUR, SE buyer (25 % VAT): 10 seats x 3000 = 30000 a month, VAT 7500, 37500.
MONTHLY_10 = 37500
# Business annual EUR, DE buyer with a VAT ID (reverse charge, 0 %): 12 x (10 x 3000 + n x 2700).
ANNUAL_25 = 12 * (10 * 3000 + 15 * 2700)  # 846000
ANNUAL_12 = 12 * (10 * 3000 + 2 * 2700)  # 424800
ANNUAL_14 = 12 * (10 * 3000 + 4 * 2700)  # 489600


def just_after(moment: datetime) -> datetime:
    return moment + timedelta(minutes=3)  # the schedule runs every 5 minutes


def succeeded(gateway: WatchedGateway) -> list[Charge]:
    return [c for c in gateway.charged if c.status == "succeeded"]


# --- terms that renew themselves ------------------------------------------------------------------

def test_a_year_of_monthly_terms_renews_itself(provision: Provision, add_card: AddCard, run: Run, clock: ManualClock,
                                              repo: CrashingRepository, gateway: WatchedGateway) -> None:
    clock.set(utc(2026, 1, 31, 10))
    provision("business-monthly-eur", seats=10, start=utc(2026, 1, 31))
    card = add_card()
    # Anchored on the 31st: clamped to short months, back to the 31st when the month has one.
    ends = [utc(2026, m, d) for m, d in ((2, 28), (3, 31), (4, 30), (5, 31), (6, 30), (7, 31), (8, 31), (9, 30),
                                         (10, 31), (11, 30), (12, 31))] + [utc(2027, 1, 31), utc(2027, 2, 28)]

    for n in range(1, 13):
        ended = ends[n - 1]
        assert run(ended - timedelta(minutes=1)).processed == 0  # not due yet
        summary = run(just_after(ended))
        assert (summary.processed, summary.renewed, summary.remaining) == (1, 1, False), summary

        sub = sub_of(repo)
        assert (sub.status, sub.seats) == ("active", 10)
        assert (sub.current_period_start, sub.current_period_end) == (ended, ends[n])
        assert (sub.pending_payment, sub.open_invoice_id, sub.payment_attempts) == (None, None, 0)
        issued = invoices_of(repo)
        assert [i.number for i in issued] == [f"INV-{k:06d}" for k in range(1, n + 1)]  # gapless
        invoice = issued[-1]
        assert (invoice.status, invoice.total, invoice.subtotal, invoice.tax_amount) == ("paid", MONTHLY_10, 30000, 7500)
        assert (invoice.period_start, invoice.period_end) == (ended, ends[n])
        assert invoice.payment is not None and invoice.payment.last4 == card.last4
        charges = succeeded(gateway)
        assert len(charges) == n and charges[-1].amount == MONTHLY_10
        assert charges[-1].idempotency_key == rules.attempt_key(invoice.id, 1)
        assert run().processed == 0  # a rerun at the same moment finds nothing to do

    assert repo.last_number(INVOICE_SEQUENCE) == 12
    assert [e.data["period_end"] for e in events_of(repo, TENANT_ID, "subscription.renewed")] == \
        [f"{d.date()}T00:00:00Z" for d in ends[1:]]


def test_an_automatic_renewal_records_the_new_term_the_invoice_and_the_payment(
        provision: Provision, add_card: AddCard, run: Run, repo: CrashingRepository) -> None:
    provision()
    add_card()
    before = len(events_of(repo))
    run(just_after(sub_of(repo).current_period_end))
    assert types_since(repo, before) == ["subscription.term_started", "invoice.issued", "invoice.paid",
                                         "subscription.renewed"]
    started, issued, paid, renewed = events_of(repo)[before:]
    assert started.actor == "system:period-end"
    assert started.data | {"invoice_id": None} == {"source": "automatic_renewal", "seats": 10, "charged": True,
                                                   "period_start": "2026-04-01T00:00:00Z", "invoice_id": None,
                                                   "period_end": "2026-05-01T00:00:00Z"}
    assert issued.data["status"] == "open" and paid.data["amount"] == MONTHLY_10
    assert renewed.data["automatic"] is True and renewed.data["invoice_id"] == issued.subject_id


def test_two_annual_terms_with_a_reduction_applied_then_one_clamped_to_the_active_users(
        provision: Provision, add_card: AddCard, run: Run, clock: ManualClock, repo: CrashingRepository,
        caller: Caller, deps: Deps, gateway: WatchedGateway, set_subscription: SetSubscription) -> None:
    clock.set(utc(2025, 6, 1, 9))
    provision("business-annual-eur", seats=25, users=9, start=utc(2025, 6, 1), country="DE", vat_id="DE811907980")
    add_card()
    sub = sub_of(repo)
    assert sub.current_period_end == utc(2026, 6, 1)

    # First term: reduce to 12 (10 users are active), effective at the term's end.
    clock.set(utc(2026, 2, 1))
    flows.schedule_seat_reduction(deps, caller, sub.id, 12, True)
    run(just_after(utc(2026, 6, 1)))
    sub = sub_of(repo)
    assert (sub.seats, sub.scheduled_reduction, sub.current_period_end) == (12, None, utc(2027, 6, 1))
    [applied] = events_of(repo, TENANT_ID, "subscription.reduction_applied")
    assert (applied.data["requested_seats"], applied.data["applied_seats"], applied.data["clamped"]) == (12, 12, False)
    invoice = invoices_of(repo)[-1]
    assert (invoice.total, invoice.tax_amount, invoice.tax_note is not None) == (ANNUAL_12, 0, True)  # reverse charge
    assert invoice.lines[1].quantity == 2 and invoice.lines[1].unit_amount == 12 * 2700

    # Second term: a reduction to 11 is on the books (written by the back office, say) while 12 users
    # are active at the term's end: the renewal keeps 12 and says so.
    clock.set(utc(2027, 1, 10))
    user_flows.assign_user(deps, caller, "late.joiner@acme.example")
    user_flows.assign_user(deps, caller, "later.joiner@acme.example")
    ack = Acknowledgement("seat-reduction/2026-01", SAO, clock.now())
    set_subscription(scheduled_reduction=ScheduledReduction(11, utc(2027, 6, 1), SAO, clock.now(), ack))
    run(just_after(utc(2027, 6, 1)))
    sub = sub_of(repo)
    assert (sub.seats, sub.current_period_start, sub.current_period_end) == (12, utc(2027, 6, 1), utc(2028, 6, 1))
    clamped = events_of(repo, TENANT_ID, "subscription.reduction_applied")[-1]
    assert clamped.data | {"effective_at": None} == {
        "requested_seats": 11, "applied_seats": 12, "active_users": 12, "clamped": True, "previous_seats": 12,
        "effective_at": None}
    assert [i.total for i in invoices_of(repo)] == [ANNUAL_12, ANNUAL_12]
    assert [c.amount for c in succeeded(gateway)] == [ANNUAL_12, ANNUAL_12]


def test_a_cancellation_undone_renews_and_one_kept_ends_the_subscription_without_a_charge(
        provision: Provision, add_card: AddCard, run: Run, clock: ManualClock, repo: CrashingRepository,
        caller: Caller, deps: Deps, gateway: WatchedGateway) -> None:
    provision()
    add_card()
    sub_id = sub_of(repo).id
    flows.schedule_cancellation(deps, caller, sub_id, True, "trying something else")
    flows.undo_cancellation(deps, caller, sub_id, True)
    run(just_after(utc(2026, 4, 1)))
    assert (sub_of(repo).status, sub_of(repo).current_period_end, len(succeeded(gateway))) == (
        "active", utc(2026, 5, 1), 1)

    clock.set(utc(2026, 4, 20))
    flows.schedule_cancellation(deps, caller, sub_id, True, "too expensive")
    summary = run(just_after(utc(2026, 5, 1)))
    sub = sub_of(repo)
    assert summary.ended == 1
    assert (sub.status, sub.ended_reason, sub.ended_at) == ("ended", "cancelled", utc(2026, 5, 1))
    assert len(succeeded(gateway)) == 1 and len(invoices_of(repo)) == 1  # no charge, no invoice
    [ended] = events_of(repo, TENANT_ID, "subscription.ended")
    assert ended.data["reason"] == "cancelled" and ended.data["cancellation_reason"] == "too expensive"
    assert all(not repo.due_subscriptions(shard, utc(2030, 1, 1), 10, None).items for shard in range(16))


def test_a_prepaid_renewal_rolls_over_without_a_charge_and_the_term_after_renews_itself(
        provision: Provision, add_card: AddCard, run: Run, repo: CrashingRepository, caller: Caller, deps: Deps,
        gateway: WatchedGateway) -> None:
    provision()
    add_card()
    sub_id = sub_of(repo).id
    # 12 seats: 10 x 3000 + 2 x 2700 = 35400, VAT 8850: 44250.
    payments.renew(deps, caller, sub_id, payments.PaymentRequest("renew-1", None, 12, 44250))
    assert len(succeeded(gateway)) == 1

    summary = run(just_after(utc(2026, 4, 1)))
    sub = sub_of(repo)
    assert (summary.rolled_over, summary.renewed) == (1, 0)
    assert (sub.seats, sub.renewal, sub.current_period_start, sub.current_period_end) == (
        12, None, utc(2026, 4, 1), utc(2026, 5, 1))
    assert len(succeeded(gateway)) == 1 and len(invoices_of(repo)) == 1
    assert events_of(repo, TENANT_ID, "subscription.term_started")[-1].data["source"] == "prepaid"

    run(just_after(utc(2026, 5, 1)))
    assert [c.amount for c in succeeded(gateway)] == [44250, 44250]
    assert sub_of(repo).current_period_end == utc(2026, 6, 1)


@pytest.mark.parametrize("plan_id, channel", [("enterprise-annual-eur", "direct"), ("business-annual-eur", "reseller")])
def test_enterprise_and_reseller_terms_roll_over_and_are_never_charged(
        provision: Provision, add_card: AddCard, run: Run, repo: CrashingRepository, gateway: WatchedGateway,
        plan_id: str, channel: str) -> None:
    provision(plan_id, seats=150, channel=channel)
    add_card()
    for year in (2027, 2028):
        end = sub_of(repo).current_period_end
        assert end.year == year
        assert run(just_after(end)).rolled_over == 1
    sub = sub_of(repo)
    assert (sub.status, sub.seats, sub.current_period_end) == ("active", 150, utc(2029, 3, 1))
    assert gateway.charged == [] and invoices_of(repo) == [] and repo.last_number(INVOICE_SEQUENCE) == 0
    assert {e.data["source"] for e in events_of(repo, TENANT_ID, "subscription.term_started")} == {"managed"}


# --- declined cards, retries and recovery ----------------------------------------------------------

def test_a_declined_card_is_retried_one_three_and_five_days_later_then_the_subscription_ends(
        provision: Provision, add_card: AddCard, run: Run, repo: CrashingRepository, gateway: WatchedGateway) -> None:
    provision()
    add_card(DECLINED)
    term_end = utc(2026, 4, 1)

    summary = run(just_after(term_end))
    sub = sub_of(repo)
    assert summary.past_due == 1
    assert (sub.status, sub.seats, sub.payment_attempts, sub.next_retry_at) == ("past_due", 10, 1, term_end + DAY)
    assert (sub.current_period_start, sub.current_period_end) == (term_end, utc(2026, 5, 1))  # seats stay usable
    [invoice] = invoices_of(repo)
    assert (invoice.status, invoice.number, sub.open_invoice_id) == ("open", "INV-000001", invoice.id)

    for attempt, retry_day in ((2, 1), (3, 3)):
        assert run(term_end + (retry_day * DAY) - timedelta(minutes=1)).processed == 0
        summary = run(just_after(term_end + retry_day * DAY))
        assert (summary.retried, summary.past_due) == (1, 1)
        assert sub_of(repo).payment_attempts == attempt
    assert sub_of(repo).next_retry_at == term_end + 5 * DAY

    summary = run(just_after(term_end + 5 * DAY))
    sub = sub_of(repo)
    assert (summary.retried, summary.ended) == (1, 1)
    assert (sub.status, sub.ended_reason, sub.payment_attempts, sub.open_invoice_id) == ("ended", "payment_failed", 4, None)
    [invoice] = invoices_of(repo)
    assert invoice.status == "uncollectible" and repo.last_number(INVOICE_SEQUENCE) == 1
    assert [c.idempotency_key for c in gateway.charged] == [rules.attempt_key(invoice.id, n) for n in (1, 2, 3, 4)]
    assert {c.status for c in gateway.charged} == {"declined"}
    failures = events_of(repo, TENANT_ID, "payment.failed")
    assert [(f.data["attempt"], f.data["decline_code"], f.data["final"]) for f in failures] == [
        (1, "card_declined", False), (2, "card_declined", False), (3, "card_declined", False),
        (4, "card_declined", True)]
    assert [e.type for e in events_of(repo)[-3:]] == ["payment.failed", "subscription.ended", "invoice.uncollectible"]
    assert run(just_after(term_end + 30 * DAY)).processed == 0  # it left the due-work index


def test_paying_the_open_invoice_reactivates_and_stops_the_retries(
        provision: Provision, add_card: AddCard, run: Run, repo: CrashingRepository, gateway: WatchedGateway,
        caller: Caller, deps: Deps) -> None:
    provision()
    add_card(NO_FUNDS)
    good = add_card()
    run(just_after(utc(2026, 4, 1)))
    sub = sub_of(repo)
    assert sub.status == "past_due"
    assert events_of(repo, TENANT_ID, "payment.failed")[-1].data["decline_code"] == "insufficient_funds"

    outcome = payments.pay_invoice(deps, caller, sub.open_invoice_id or "",
                                   payments.PaymentRequest("pay-1", good.id))
    sub = sub_of(repo)
    assert (outcome.invoice and outcome.invoice.status, sub.status, sub.next_retry_at) == ("paid", "active", None)
    assert events_of(repo)[-1].type == "subscription.reactivated"
    assert run(just_after(utc(2026, 4, 2))).processed == 0  # no retry any more
    assert len(succeeded(gateway)) == 1
    # Paying with another card does not make it the default: the next term is charged to the default.
    assert run(just_after(utc(2026, 5, 1))).past_due == 1


def test_making_a_card_the_default_retries_the_open_invoice_at_once(
        provision: Provision, add_card: AddCard, run: Run, repo: CrashingRepository, gateway: WatchedGateway,
        caller: Caller, deps: Deps) -> None:
    provision()
    add_card(DECLINED)
    also_declined = add_card(NO_FUNDS)
    good = add_card()
    run(just_after(utc(2026, 4, 1)))
    invoice_id = sub_of(repo).open_invoice_id

    # Another bad card: the retry fails, the change of default stands, the schedule is kept.
    view = cards.make_default_payment_method(deps, caller, also_declined.id)
    assert view.is_default and view.retry is not None
    assert (view.retry.status, view.retry.decline_code, view.retry.invoice_id) == ("failed", "insufficient_funds",
                                                                                    invoice_id)
    sub = sub_of(repo)
    assert (sub.status, sub.payment_attempts, sub.next_retry_at) == ("past_due", 2, utc(2026, 4, 2))

    view = cards.make_default_payment_method(deps, caller, good.id)
    assert view.retry is not None and (view.retry.status, view.retry.subscription_status) == ("paid", "active")
    sub = sub_of(repo)
    assert (sub.status, sub.open_invoice_id, sub.payment_attempts) == ("active", None, 0)
    assert [c.idempotency_key for c in gateway.charged] == [rules.attempt_key(invoice_id or "", n) for n in (1, 2, 3)]
    assert invoices_of(repo)[-1].payment is not None and invoices_of(repo)[-1].payment.last4 == good.last4  # type: ignore[union-attr]
    assert run(just_after(utc(2026, 4, 2))).processed == 0


def test_the_first_card_added_becomes_the_default_and_retries_at_once(
        provision: Provision, run: Run, repo: CrashingRepository, gateway: WatchedGateway, caller: Caller,
        deps: Deps) -> None:
    provision()
    run(just_after(utc(2026, 4, 1)))  # no card at all: past_due
    assert sub_of(repo).status == "past_due"
    details = gateway.sandbox.tokenise(number="4242 4242 4242 4242", exp_month=12, exp_year=2030, cvc="123",
                                       name="Åsa Öberg")
    added = cards.add_payment_method(deps, caller, details.token)
    assert added.view.is_default and added.view.retry is not None and added.view.retry.status == "paid"
    assert sub_of(repo).status == "active" and len(succeeded(gateway)) == 1


def test_making_a_card_the_default_without_anything_open_retries_nothing(
        provision: Provision, add_card: AddCard, caller: Caller, deps: Deps, repo: CrashingRepository) -> None:
    provision()
    add_card()
    second = add_card(NO_FUNDS)
    commits = repo.commits
    view = cards.make_default_payment_method(deps, caller, second.id)
    assert view.retry is None and repo.commits == commits + 1


@pytest.mark.parametrize(("setup", "code"), [("none", "no_payment_method"), ("expired", "expired_card")])
def test_no_usable_card_fails_the_renewal_without_a_charge(
        provision: Provision, add_card: AddCard, run: Run, repo: CrashingRepository, gateway: WatchedGateway,
        clock: ManualClock, setup: str, code: str) -> None:
    provision()
    if setup == "expired":
        add_card(exp_year=2026, exp_month=3)  # valid when saved, expired by the term's end
    summary = run(just_after(utc(2026, 4, 1)))
    sub = sub_of(repo)
    assert (summary.past_due, sub.status, sub.payment_attempts) == (1, "past_due", 1)
    assert gateway.charged == []
    assert events_of(repo)[-1].data["decline_code"] == code
    assert invoices_of(repo)[0].status == "open"


def test_a_processing_error_counts_as_a_failed_attempt(provision: Provision, add_card: AddCard, run: Run,
                                                      repo: CrashingRepository) -> None:
    provision()
    add_card(PROCESSING_ERROR)
    run(just_after(utc(2026, 4, 1)))
    sub = sub_of(repo)
    assert (sub.status, sub.payment_attempts, sub.pending_payment) == ("past_due", 1, None)
    assert events_of(repo)[-1].data["decline_code"] == "processing_error"


def test_a_lost_gateway_answer_keeps_the_payment_for_the_next_run_which_charges_once(
        provision: Provision, add_card: AddCard, run: Run, repo: CrashingRepository, gateway: WatchedGateway) -> None:
    provision()
    add_card()
    gateway.sandbox.inject_fault("timeout_after_charge")
    summary = run(just_after(utc(2026, 4, 1)))
    sub = sub_of(repo)
    assert summary.payment_pending == 1
    assert sub.pending_payment is not None and sub.open_invoice_id is not None  # the term has started
    assert len(succeeded(gateway)) == 1

    assert run(just_after(utc(2026, 4, 1)) + timedelta(minutes=1)).processed == 0  # still someone's work in flight
    summary = run(just_after(utc(2026, 4, 1)) + rules.SETTLE_AFTER)
    assert (summary.reconciled, summary.renewed) == (1, 1)
    sub = sub_of(repo)
    assert (sub.status, sub.pending_payment, sub.open_invoice_id) == ("active", None, None)
    assert len(succeeded(gateway)) == 1 and invoices_of(repo)[0].status == "paid"


def test_a_time_out_before_the_charge_is_charged_by_the_next_run(provision: Provision, add_card: AddCard, run: Run,
                                                                repo: CrashingRepository, gateway: WatchedGateway) -> None:
    provision()
    add_card()
    gateway.sandbox.inject_fault("timeout_before_charge")
    run(just_after(utc(2026, 4, 1)))
    assert gateway.charged == []
    run(just_after(utc(2026, 4, 1)) + rules.SETTLE_AFTER)
    assert len(succeeded(gateway)) == 1 and sub_of(repo).status == "active"


# --- exactly once ----------------------------------------------------------------------------------

class CrashAfterCharge:
    """The gateway charges, then the function dies before anything is recorded."""

    def __init__(self, real: WatchedGateway) -> None:
        self.real = real
        self.crashes = 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def charge(self, **kwargs: Any) -> Charge:
        charge = self.real.charge(**kwargs)
        if self.crashes:
            self.crashes -= 1
            raise RuntimeError("the Lambda was killed after the charge")
        return charge


def test_a_crash_between_charge_and_commit_is_completed_by_the_next_run_without_a_second_charge(
        provision: Provision, add_card: AddCard, repo: CrashingRepository, gateway: WatchedGateway,
        deps: Deps, clock: ManualClock) -> None:
    provision()
    add_card()
    crashing = Deps(deps.repo, deps.clock, deps.catalog, gateway=CrashAfterCharge(gateway))  # type: ignore[arg-type]
    clock.set(just_after(utc(2026, 4, 1)))
    summary = run_period_end(crashing)
    assert (summary.failed, summary.errors[0]["error"]) == (1, "RuntimeError")
    assert len(succeeded(gateway)) == 1 and sub_of(repo).pending_payment is not None
    assert invoices_of(repo)[0].status == "open"

    clock.advance(rules.SETTLE_AFTER.total_seconds())
    summary = run_period_end(deps)
    assert (summary.reconciled, summary.renewed) == (1, 1)
    assert len(succeeded(gateway)) == 1  # completed with the first charge, not charged again
    assert invoices_of(repo)[0].status == "paid" and sub_of(repo).status == "active"
    assert len(events_of(repo, TENANT_ID, "invoice.paid")) == 1


def test_a_crash_in_the_completion_commit_is_completed_by_the_next_run(
        provision: Provision, add_card: AddCard, run: Run, repo: CrashingRepository, gateway: WatchedGateway) -> None:
    provision()
    add_card()
    original = repo.commit
    crashes = [1]

    def commit(changes: Changeset) -> None:
        if crashes[0] and any(getattr(w, "status", None) == "paid" for w in changes.writes):
            crashes[0] -= 1
            raise RuntimeError("the function crashed before the commit")
        original(changes)

    repo.commit = commit  # type: ignore[method-assign]
    assert run(just_after(utc(2026, 4, 1))).failed == 1
    summary = run(just_after(utc(2026, 4, 1)) + rules.SETTLE_AFTER)
    assert (summary.reconciled, summary.renewed) == (1, 1)
    assert len(succeeded(gateway)) == 1 and invoices_of(repo)[0].status == "paid"


def test_a_second_copy_that_read_the_same_state_collapses_into_the_first(
        provision: Provision, add_card: AddCard, repo: CrashingRepository, gateway: WatchedGateway, deps: Deps,
        clock: ManualClock) -> None:
    """Copy A reads the subscription; before it writes, copy B renews it completely. A's write of the
    same invoice (same derived id) loses, A reads again and finds nothing left to do."""
    provision()
    add_card()
    clock.set(just_after(utc(2026, 4, 1)))
    indexed = sub_of(repo)
    original = repo.load_tenant
    interleaved: list[list[str]] = []
    started = threading.Event()

    def load_tenant(tenant_id: str) -> Any:
        state = original(tenant_id)
        if not started.is_set():
            started.set()
            interleaved.append(apply_due_step(deps, indexed))  # copy B, start to finish
        return state

    repo.load_tenant = load_tenant  # type: ignore[method-assign]
    outcome_a = apply_due_step(deps, indexed)
    assert interleaved == [["renewed"]] and outcome_a == ["skipped"]
    assert len(succeeded(gateway)) == 1 and len(invoices_of(repo)) == 1 and repo.last_number(INVOICE_SEQUENCE) == 1
    assert len(events_of(repo, TENANT_ID, "subscription.renewed")) == 1


def test_a_copy_that_resumes_a_charge_in_flight_charges_nothing_twice(
        provision: Provision, add_card: AddCard, repo: CrashingRepository, gateway: WatchedGateway, deps: Deps,
        clock: ManualClock) -> None:
    """While copy A waits for the gateway, time passes and copy B settles A's payment (same key: the
    gateway answers with the same charge). A then finds its payment completed and is done."""
    provision()
    add_card()
    clock.set(just_after(utc(2026, 4, 1)))
    other: list[Any] = []

    def copy_b() -> None:
        clock.advance(rules.SETTLE_AFTER.total_seconds())
        # B charges first (A's charge comes right after): both under the same derived key.
        other.append(run_period_end(deps))

    gateway.during_charge.append(copy_b)
    summary_a = run_period_end(deps)
    assert (other[0].reconciled, other[0].renewed) == (1, 1)
    assert summary_a.renewed == 1  # A's completion found B's: the same charge paid the same invoice
    assert len(succeeded(gateway)) == 1 and len(events_of(repo, TENANT_ID, "invoice.paid")) == 1
    assert invoices_of(repo)[0].status == "paid" and sub_of(repo).status == "active"


def test_concurrent_runs_renew_each_subscription_once(provision: Provision, add_card: AddCard, deps: Deps,
                                                     repo: CrashingRepository, gateway: WatchedGateway,
                                                     clock: ManualClock, caller: Caller) -> None:
    tenants = [f"ten_{n:02d}" for n in range(12)]
    for tenant_id in tenants:
        provision(tenant_id=tenant_id)
        details = gateway.sandbox.tokenise(number="4242 4242 4242 4242", exp_month=12, exp_year=2030, cvc="123",
                                           name="A")
        cards.add_payment_method(deps, Caller(tenant_id, SAO), details.token)
    clock.set(just_after(utc(2026, 4, 1)))
    barrier = threading.Barrier(3)
    summaries: list[Any] = []

    def copy() -> None:
        barrier.wait()
        summaries.append(run_period_end(deps))

    threads = [threading.Thread(target=copy) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sum(s.renewed for s in summaries) == len(tenants)
    assert len(succeeded(gateway)) == len(tenants)
    assert repo.last_number(INVOICE_SEQUENCE) == len(tenants)
    numbers = sorted(i.number for t in tenants for i in invoices_of(repo, t))
    assert numbers == [f"INV-{k:06d}" for k in range(1, len(tenants) + 1)]
    assert all(sub_of(repo, t).current_period_end == utc(2026, 5, 1) for t in tenants)
    assert all(len(events_of(repo, t, "subscription.renewed")) == 1 for t in tenants)


# --- the time budget ---------------------------------------------------------------------------------

def test_a_run_out_of_time_leaves_the_rest_to_the_next_run(provision: Provision, deps: Deps,
                                                          repo: CrashingRepository, clock: ManualClock) -> None:
    tenants = [f"ten_{n:02d}" for n in range(10)]
    for tenant_id in tenants:
        provision("enterprise-annual-eur", seats=150, tenant_id=tenant_id)
    clock.set(just_after(utc(2027, 3, 1)))
    commits = repo.commits

    # The budget runs out once four subscriptions have been rolled over (one commit each).
    first = run_period_end(deps, out_of_time=lambda: repo.commits - commits >= 4)
    assert (first.processed, first.rolled_over, first.remaining) == (4, 4, True)
    second = run_period_end(deps)
    assert (second.processed, second.rolled_over, second.remaining) == (6, 6, False)
    assert all(sub_of(repo, t).current_period_end == utc(2028, 3, 1) for t in tenants)
    assert run_period_end(deps).processed == 0


def test_a_run_with_no_time_left_touches_nothing(provision: Provision, deps: Deps, repo: CrashingRepository,
                                                clock: ManualClock) -> None:
    provision("enterprise-annual-eur", seats=150)
    clock.set(just_after(utc(2027, 3, 1)))
    commits = repo.commits
    summary = run_period_end(deps, out_of_time=lambda: True)
    assert (summary.processed, summary.remaining, repo.commits) == (0, True, commits)


# --- a client's payment left unfinished --------------------------------------------------------------

def test_a_clients_payment_charged_but_never_recorded_is_completed_by_the_applier(
        provision: Provision, add_card: AddCard, run: Run, repo: CrashingRepository, gateway: WatchedGateway,
        caller: Caller, deps: Deps) -> None:
    provision()
    add_card()
    repo.crashes = 1  # the renewal's completion crashes after the charge
    with pytest.raises(RuntimeError):
        payments.renew(deps, caller, sub_of(repo).id, payments.PaymentRequest("renew-1", None, 12, 44250))
    assert sub_of(repo).pending_payment is not None and len(succeeded(gateway)) == 1

    summary = run(NOW + timedelta(minutes=5))
    assert summary.reconciled == 1
    sub = sub_of(repo)
    assert sub.pending_payment is None and sub.renewal is not None and sub.renewal.seats == 12
    assert len(succeeded(gateway)) == 1 and invoices_of(repo)[0].status == "paid"


def test_the_applier_looks_only_at_what_the_index_says_is_due(provision: Provision, repo: CrashingRepository,
                                                             deps: Deps, clock: ManualClock) -> None:
    provision()
    asked: list[tuple[int, datetime]] = []
    original = repo.due_subscriptions

    def due(shard: int, now: datetime, limit: int, cursor: str | None) -> Any:
        asked.append((shard, now))
        return original(shard, now, limit, cursor)

    repo.due_subscriptions = due  # type: ignore[method-assign]
    run_period_end(deps)
    assert sorted(shard for shard, _ in asked) == list(range(16))  # one page per shard, nothing else read

