"""The payment engine (services/payments.py) on the in-memory repository and the sandbox gateway: renewal,
added seats, paying an open invoice, and every way a payment can go wrong (SPEC 2.4, 2.5, 2.9, 2.13)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from selfservice.adapters.clock import ManualClock
from selfservice.domain.errors import (
    AlreadyRenewed,
    BelowActiveUsers,
    CardExpired,
    ConcurrentUpdate,
    GatewayUnavailable,
    IdempotencyKeyReused,
    InvoiceOpen,
    NoPaymentMethod,
    NotFound,
    PaymentFailed,
    PaymentInProgress,
    PaymentRefunded,
    PriceChanged,
    SeatReductionPending,
)
from selfservice.domain.invoices import InvoiceNotOpen
from selfservice.domain.model import PaymentMethod, PrepaidRenewal
from selfservice.domain.terms import iso, utc
from selfservice.ports import Changeset
from selfservice.services import Caller, Deps, payments
from selfservice.services import subscriptions as flows
from selfservice.services import users as user_flows
from support.invoices import store_invoice

from ..builders import NOW, SAO, TENANT_ID, TERM_END, Provision, SetSubscription
from .conftest import (
    DECLINED,
    NO_FUNDS,
    PROCESSING_ERROR,
    AddCard,
    CrashingRepository,
    WatchedGateway,
    last_number,
    request,
    stored_sub,
)

# Business monthly EUR, SE buyer. Renewal at 12 seats: 10 x 3000 + 2 x 2700 = 35400, VAT 8850, 44250.
RENEWAL_12 = 44250
NEXT_TERM = (TERM_END, utc(2026, 5, 1))


def renew(deps: Deps, caller: Caller, sub_id: str, key: str = "key-1", seats: int = 12,
          expected_total: int = RENEWAL_12, payment_method_id: str | None = None) -> payments.PaymentOutcome:
    return payments.renew(deps, caller, sub_id, request(key, seats, expected_total, payment_method_id))


def increase_total(deps: Deps, caller: Caller, sub_id: str, seats: int) -> int:
    return flows.quote(deps, caller, sub_id, "increase", seats).total


def events(repo: CrashingRepository) -> list[str]:
    return [e.type for e in repo.all_events(TENANT_ID)]


# --- renewal ------------------------------------------------------------------------------------------

def test_a_renewal_charges_the_term_and_issues_the_paid_invoice(
        deps: Deps, caller: Caller, repo: CrashingRepository, provision: Provision, add_card: AddCard,
        gateway: WatchedGateway) -> None:
    sub_id = provision().subscription.id
    card = add_card()

    outcome = renew(deps, caller, sub_id)

    invoice = outcome.invoice
    assert invoice is not None
    assert (invoice.number, invoice.status, invoice.total, invoice.currency) == ("INV-000001", "paid", RENEWAL_12, "EUR")
    assert (invoice.period_start, invoice.period_end) == NEXT_TERM
    assert invoice.payment is not None
    assert (invoice.payment.brand, invoice.payment.last4) == ("visa", "4242")
    assert invoice.buyer is not None and invoice.buyer.company_name == "Acme AB"
    assert [(c.amount, c.currency, c.status) for c in gateway.charged] == [(RENEWAL_12, "EUR", "succeeded")]
    assert invoice.payment.charge_id == gateway.charged[0].id
    sub = stored_sub(repo)
    assert sub.renewal == PrepaidRenewal(12, *NEXT_TERM, invoice.id)
    assert sub.seats == 10 and sub.pending_payment is None
    assert outcome.subscription.subscription == sub
    assert repo.get_invoice(TENANT_ID, invoice.id) == invoice
    assert last_number(repo) == 1
    assert events(repo)[-3:] == ["subscription.renewed", "invoice.issued", "invoice.paid"]
    assert gateway.sandbox.card_details(card.token).last4 == "4242"  # the default (only) card was charged


def test_a_named_card_is_charged(deps: Deps, caller: Caller, provision: Provision, add_card: AddCard,
                                 gateway: WatchedGateway) -> None:
    sub_id = provision().subscription.id
    add_card()
    amex = add_card("3782 822463 10005")
    outcome = renew(deps, caller, sub_id, payment_method_id=amex.id)
    assert outcome.invoice is not None and outcome.invoice.payment is not None
    assert (outcome.invoice.payment.brand, outcome.invoice.payment.last4) == ("amex", "0005")


def test_renewal_withdraws_a_cancellation_and_replaces_a_reduction(
        deps: Deps, caller: Caller, repo: CrashingRepository, provision: Provision, add_card: AddCard) -> None:
    sub_id = provision().subscription.id
    add_card()
    flows.schedule_seat_reduction(deps, caller, sub_id, 6, True)
    flows.schedule_cancellation(deps, caller, sub_id, True)

    renew(deps, caller, sub_id, seats=8, expected_total=30000)  # 8 x 3000 = 24000 + 25 % = 30000

    sub = stored_sub(repo)
    assert (sub.cancellation, sub.scheduled_reduction) == (None, None)
    assert sub.renewal is not None and sub.renewal.seats == 8


def test_an_ended_subscription_renews_from_the_moment_of_payment(
        deps: Deps, caller: Caller, repo: CrashingRepository, provision: Provision, add_card: AddCard,
        set_subscription: SetSubscription) -> None:
    sub_id = provision().subscription.id
    add_card()
    set_subscription(status="ended", ended_at=utc(2026, 3, 1), ended_reason="cancelled")

    outcome = renew(deps, caller, sub_id, seats=4, expected_total=15000)  # 4 x 3000 + 25 %

    sub = stored_sub(repo)
    assert (sub.status, sub.seats, sub.current_period_start, sub.current_period_end) == (
        "active", 4, NOW, utc(2026, 4, 10, 9))
    assert sub.renewal is None and sub.ended_at is None
    assert outcome.invoice is not None and (outcome.invoice.period_start, outcome.invoice.period_end) == (
        NOW, utc(2026, 4, 10, 9))


@pytest.mark.parametrize("prepare", ["renewed", "past_due"])
def test_refused_renewals_charge_nothing(
        deps: Deps, caller: Caller, repo: CrashingRepository, provision: Provision, add_card: AddCard,
        set_subscription: SetSubscription, gateway: WatchedGateway, prepare: str) -> None:
    sub_id = provision().subscription.id
    add_card()
    if prepare == "renewed":
        renew(deps, caller, sub_id, key="first")
        with pytest.raises(AlreadyRenewed):
            renew(deps, caller, sub_id, key="second")
        assert len(gateway.charged) == 1
    else:
        set_subscription(status="past_due", open_invoice_id="inv_open")
        with pytest.raises(InvoiceOpen) as refused:
            renew(deps, caller, sub_id)
        assert refused.value.details == {"invoice_id": "inv_open"}
        assert gateway.charged == []
    assert stored_sub(repo).pending_payment is None


def test_renewal_seats_respect_the_licence_floor(deps: Deps, caller: Caller, provision: Provision,
                                                  add_card: AddCard, gateway: WatchedGateway) -> None:
    sub_id = provision(users=4).subscription.id  # the SAO + 4 users
    add_card()
    with pytest.raises(BelowActiveUsers):
        renew(deps, caller, sub_id, seats=4, expected_total=15000)
    assert gateway.calls == []


def test_a_changed_price_charges_nothing(deps: Deps, caller: Caller, repo: CrashingRepository, provision: Provision,
                                         add_card: AddCard, gateway: WatchedGateway) -> None:
    sub_id = provision().subscription.id
    add_card()
    with pytest.raises(PriceChanged) as refused:
        renew(deps, caller, sub_id, expected_total=RENEWAL_12 - 1)
    assert refused.value.details == {"expected": RENEWAL_12 - 1, "actual": RENEWAL_12, "currency": "EUR"}
    assert gateway.calls == []
    assert stored_sub(repo).pending_payment is None


# --- cards --------------------------------------------------------------------------------------------

def test_without_a_card_nothing_is_charged(deps: Deps, caller: Caller, provision: Provision) -> None:
    sub_id = provision().subscription.id
    with pytest.raises(NoPaymentMethod):
        renew(deps, caller, sub_id)


def test_an_expired_card_is_refused(deps: Deps, caller: Caller, repo: CrashingRepository, provision: Provision,
                                    add_card: AddCard) -> None:
    sub_id = provision().subscription.id
    card = add_card()
    expired = replace(card, exp_month=2, exp_year=2026, version=card.version + 1)
    repo.commit(Changeset(TENANT_ID).write(expired))
    with pytest.raises(CardExpired) as refused:
        renew(deps, caller, sub_id)
    assert refused.value.details == {"payment_method_id": card.id, "exp_month": 2, "exp_year": 2026}


def test_another_tenants_card_is_not_found(deps: Deps, caller: Caller, provision: Provision, add_card: AddCard) -> None:
    sub_id = provision().subscription.id
    add_card()
    provision(tenant_id="ten_other")
    theirs = add_card(caller_=Caller("ten_other", SAO))
    with pytest.raises(NotFound):
        renew(deps, caller, sub_id, payment_method_id=theirs.id)


# --- declined, failed, timed out ----------------------------------------------------------------------

@pytest.mark.parametrize(("number", "code"), [(DECLINED, "card_declined"), (NO_FUNDS, "insufficient_funds")])
def test_a_declined_card_changes_nothing(
        deps: Deps, caller: Caller, repo: CrashingRepository, provision: Provision, add_card: AddCard,
        gateway: WatchedGateway, number: str, code: str) -> None:
    sub_id = provision().subscription.id
    add_card(number)
    flows.schedule_cancellation(deps, caller, sub_id, True)
    before = stored_sub(repo)

    with pytest.raises(PaymentFailed) as declined:
        renew(deps, caller, sub_id)

    assert declined.value.code == code
    assert declined.value.details["decline_code"] == code
    after = stored_sub(repo)
    assert replace(after, version=before.version) == before  # seats, terms, renewal, cancellation as they were
    assert after.pending_payment is None
    assert last_number(repo) == 0
    assert repo.list_invoices(TENANT_ID, 10, None).items == []
    assert events(repo)[-1] == "payment.declined"
    # and the SAO can act again at once: undo the cancellation
    flows.undo_cancellation(deps, caller, sub_id, True)


def test_a_processing_error_releases_the_payment(deps: Deps, caller: Caller, repo: CrashingRepository,
                                                 provision: Provision, add_card: AddCard,
                                                 gateway: WatchedGateway) -> None:
    sub_id = provision().subscription.id
    add_card(PROCESSING_ERROR)
    with pytest.raises(GatewayUnavailable) as failed:
        renew(deps, caller, sub_id)
    assert failed.value.outcome_unknown is False
    assert stored_sub(repo).pending_payment is None
    assert gateway.charged == [] and last_number(repo) == 0


def test_a_time_out_after_the_charge_is_resumed_by_the_same_key_without_a_second_charge(
        deps: Deps, caller: Caller, repo: CrashingRepository, provision: Provision, add_card: AddCard,
        gateway: WatchedGateway) -> None:
    sub_id = provision().subscription.id
    add_card()
    gateway.sandbox.inject_fault("timeout_after_charge")

    with pytest.raises(GatewayUnavailable) as timed_out:
        renew(deps, caller, sub_id)
    assert timed_out.value.outcome_unknown is True
    pending = stored_sub(repo).pending_payment
    assert pending is not None and pending.request_key == "key-1"
    assert len(gateway.charged) == 1 and last_number(repo) == 0

    outcome = renew(deps, caller, sub_id)  # the client's retry with the same Idempotency-Key

    assert len(gateway.charged) == 1
    assert gateway.calls == [f"charge {pending.id}", f"charge {pending.id}"]  # the same gateway key
    assert outcome.invoice is not None and outcome.invoice.id == pending.invoice_id
    assert outcome.invoice.payment is not None and outcome.invoice.payment.charge_id == gateway.charged[0].id
    assert last_number(repo) == 1
    assert stored_sub(repo).pending_payment is None


def test_a_time_out_before_the_charge_charges_once_on_the_retry(
        deps: Deps, caller: Caller, repo: CrashingRepository, provision: Provision, add_card: AddCard,
        gateway: WatchedGateway) -> None:
    sub_id = provision().subscription.id
    add_card()
    gateway.sandbox.inject_fault("timeout_before_charge")
    with pytest.raises(GatewayUnavailable):
        renew(deps, caller, sub_id)
    assert gateway.charged == []
    renew(deps, caller, sub_id)
    assert len(gateway.charged) == 1 and last_number(repo) == 1


def test_while_a_payment_is_under_way_everything_else_waits(
        deps: Deps, caller: Caller, repo: CrashingRepository, provision: Provision, add_card: AddCard,
        gateway: WatchedGateway) -> None:
    sub_id = provision().subscription.id
    add_card()
    gateway.sandbox.inject_fault("timeout_after_charge")
    with pytest.raises(GatewayUnavailable):
        renew(deps, caller, sub_id)

    for change in (
        lambda: renew(deps, caller, sub_id, key="another-key"),
        lambda: payments.add_seats(deps, caller, sub_id, request("another-key", 12, 1)),
        lambda: flows.schedule_seat_reduction(deps, caller, sub_id, 6, True),
        lambda: flows.schedule_cancellation(deps, caller, sub_id, True),
    ):
        with pytest.raises(PaymentInProgress) as refused:
            change()
        assert refused.value.details["retry_after"] == iso(NOW + timedelta(seconds=30))
    assert len(gateway.charged) == 1


def test_the_same_key_with_another_request_is_refused_while_resuming(
        deps: Deps, caller: Caller, provision: Provision, add_card: AddCard, gateway: WatchedGateway) -> None:
    sub_id = provision().subscription.id
    add_card()
    gateway.sandbox.inject_fault("timeout_before_charge")
    with pytest.raises(GatewayUnavailable):
        renew(deps, caller, sub_id)
    with pytest.raises(IdempotencyKeyReused):
        renew(deps, caller, sub_id, seats=13, expected_total=47625)
    assert gateway.charged == []


# --- a crash between the charge and the commit -------------------------------------------------------

def test_a_crash_after_the_charge_is_completed_by_the_retry_without_a_second_charge(
        deps: Deps, caller: Caller, repo: CrashingRepository, provision: Provision, add_card: AddCard,
        gateway: WatchedGateway) -> None:
    sub_id = provision().subscription.id
    add_card()
    repo.crashes = 1
    with pytest.raises(RuntimeError):
        renew(deps, caller, sub_id)
    assert len(gateway.charged) == 1 and last_number(repo) == 0
    assert stored_sub(repo).pending_payment is not None

    outcome = renew(deps, caller, sub_id)

    assert len(gateway.charged) == 1
    assert outcome.invoice is not None and outcome.invoice.number == "INV-000001"
    assert stored_sub(repo).renewal is not None


def test_a_crash_after_the_charge_is_completed_by_the_reconciliation(
        deps: Deps, caller: Caller, repo: CrashingRepository, provision: Provision, add_card: AddCard,
        gateway: WatchedGateway) -> None:
    sub_id = provision().subscription.id
    add_card()
    repo.crashes = 1
    with pytest.raises(RuntimeError):
        renew(deps, caller, sub_id)

    assert payments.complete_pending_payment(deps, TENANT_ID, sub_id) == "completed"

    sub = stored_sub(repo)
    assert sub.pending_payment is None and sub.renewal is not None
    invoice = repo.get_invoice(TENANT_ID, sub.renewal.invoice_id)
    assert invoice is not None and invoice.payment is not None
    assert invoice.payment.charge_id == gateway.charged[0].id
    assert len(gateway.charged) == 1 and last_number(repo) == 1
    assert events(repo)[-3:] == ["subscription.renewed", "invoice.issued", "invoice.paid"]
    assert repo.all_events(TENANT_ID)[-1].actor == payments.RECONCILIATION_ACTOR


def test_a_late_retry_after_reconciliation_is_already_renewed(
        deps: Deps, caller: Caller, repo: CrashingRepository, provision: Provision, add_card: AddCard,
        gateway: WatchedGateway) -> None:
    sub_id = provision().subscription.id
    add_card()
    repo.crashes = 1
    with pytest.raises(RuntimeError):
        renew(deps, caller, sub_id)
    payments.complete_pending_payment(deps, TENANT_ID, sub_id)
    # Without an idempotency record (the crashed request stored none), the retry is a new request: the
    # next term is paid, so it is refused and charges nothing.
    with pytest.raises(AlreadyRenewed):
        renew(deps, caller, sub_id)
    assert len(gateway.charged) == 1


def test_the_reconciliation_waits_then_abandons_a_payment_that_was_never_charged(
        deps: Deps, caller: Caller, repo: CrashingRepository, provision: Provision, add_card: AddCard,
        gateway: WatchedGateway, clock: ManualClock) -> None:
    sub_id = provision().subscription.id
    add_card()
    assert payments.complete_pending_payment(deps, TENANT_ID, sub_id) == "nothing_pending"
    gateway.sandbox.inject_fault("timeout_before_charge")
    with pytest.raises(GatewayUnavailable):
        renew(deps, caller, sub_id)

    assert payments.complete_pending_payment(deps, TENANT_ID, sub_id) == "waiting"
    assert stored_sub(repo).pending_payment is not None
    clock.advance(payments.ABANDON_AFTER.total_seconds())
    assert payments.complete_pending_payment(deps, TENANT_ID, sub_id) == "abandoned"

    assert stored_sub(repo).pending_payment is None and stored_sub(repo).renewal is None
    assert gateway.charged == [] and last_number(repo) == 0
    assert events(repo)[-1] == "payment.abandoned"


def test_the_reconciliation_abandons_a_declined_payment(
        deps: Deps, caller: Caller, repo: CrashingRepository, provision: Provision, add_card: AddCard,
        gateway: WatchedGateway, clock: ManualClock) -> None:
    sub_id = provision().subscription.id
    add_card(DECLINED)
    gateway.sandbox.inject_fault("timeout_after_charge")  # the decline happened, its answer was lost
    with pytest.raises(GatewayUnavailable):
        renew(deps, caller, sub_id)
    clock.advance(payments.ABANDON_AFTER.total_seconds())
    assert payments.complete_pending_payment(deps, TENANT_ID, sub_id) == "abandoned"
    assert stored_sub(repo).pending_payment is None and last_number(repo) == 0
    assert events(repo)[-1] == "payment.declined"


def test_a_charge_that_lands_after_its_payment_was_abandoned_is_refunded(
        deps: Deps, caller: Caller, repo: CrashingRepository, provision: Provision, add_card: AddCard,
        gateway: WatchedGateway, clock: ManualClock) -> None:
    sub_id = provision().subscription.id
    add_card()
    gateway.sandbox.inject_fault("timeout_before_charge")
    with pytest.raises(GatewayUnavailable):
        renew(deps, caller, sub_id)
    clock.advance(payments.ABANDON_AFTER.total_seconds())
    # The client's retry reaches the gateway just as the reconciliation abandons the payment.
    gateway.during_charge.append(lambda: payments.complete_pending_payment(deps, TENANT_ID, sub_id))

    with pytest.raises(PaymentRefunded):
        renew(deps, caller, sub_id)

    assert len(gateway.charged) == 1
    assert gateway.calls[-1] == f"refund {gateway.charged[0].id}"
    assert gateway.sandbox.find_charge(gateway.charged[0].idempotency_key) is not None
    assert stored_sub(repo).renewal is None and last_number(repo) == 0


# --- races during completion ----------------------------------------------------------------------------

def test_a_number_taken_meanwhile_is_retried_and_stays_gapless(
        deps: Deps, caller: Caller, repo: CrashingRepository, provision: Provision, add_card: AddCard,
        gateway: WatchedGateway) -> None:
    sub_id = provision().subscription.id
    add_card()
    provision(tenant_id="ten_other")
    # While this renewal is at the gateway, another tenant's invoice takes number 1.
    original = repo.last_number

    def stale_once(sequence: str) -> int:
        repo.last_number = original  # type: ignore[method-assign]
        number = original(sequence)
        store_invoice(repo, "ten_other")
        return number

    repo.last_number = stale_once  # type: ignore[method-assign]
    outcome = renew(deps, caller, sub_id)

    assert outcome.invoice is not None and outcome.invoice.number == "INV-000002"
    assert last_number(repo) == 2 and len(gateway.charged) == 1


def test_a_user_assigned_meanwhile_does_not_lose_the_renewal(
        deps: Deps, caller: Caller, repo: CrashingRepository, provision: Provision, add_card: AddCard,
        gateway: WatchedGateway) -> None:
    sub_id = provision().subscription.id
    add_card()
    gateway.during_charge.append(lambda: user_flows.assign_user(deps, caller, "new@acme.example"))

    renew(deps, caller, sub_id)

    sub = stored_sub(repo)
    assert sub.renewal is not None and sub.pending_payment is None
    assert len(gateway.charged) == 1 and last_number(repo) == 1
    assert any(u.email == "new@acme.example" for u in repo.load_tenant(TENANT_ID).users)  # type: ignore[union-attr]


def test_a_second_payment_during_the_first_is_told_to_wait(
        deps: Deps, caller: Caller, repo: CrashingRepository, provision: Provision, add_card: AddCard,
        gateway: WatchedGateway) -> None:
    sub_id = provision().subscription.id
    add_card()
    refused: list[Exception] = []

    def second_payment() -> None:
        try:
            renew(deps, caller, sub_id, key="other-key")
        except PaymentInProgress as error:
            refused.append(error)

    gateway.during_charge.append(second_payment)
    renew(deps, caller, sub_id)

    assert len(refused) == 1 and len(gateway.charged) == 1 and last_number(repo) == 1


def test_a_completion_that_keeps_losing_leaves_the_payment_for_the_retry(
        deps: Deps, caller: Caller, repo: CrashingRepository, provision: Provision, add_card: AddCard,
        gateway: WatchedGateway, monkeypatch: pytest.MonkeyPatch) -> None:
    sub_id = provision().subscription.id
    add_card()
    original = repo.commit

    def always_losing(changeset: Changeset) -> None:
        if changeset.numbers:
            raise ConcurrentUpdate("lost", item="SEQ#invoice")
        original(changeset)

    monkeypatch.setattr(repo, "commit", always_losing)
    with pytest.raises(ConcurrentUpdate):
        renew(deps, caller, sub_id)
    monkeypatch.setattr(repo, "commit", original)
    assert stored_sub(repo).pending_payment is not None

    renew(deps, caller, sub_id)
    assert len(gateway.charged) == 1 and last_number(repo) == 1


# --- added seats --------------------------------------------------------------------------------------

def test_added_seats_are_charged_pro_rata_and_hold_now(
        deps: Deps, caller: Caller, repo: CrashingRepository, provision: Provision, add_card: AddCard,
        gateway: WatchedGateway) -> None:
    sub_id = provision().subscription.id
    add_card()
    total = increase_total(deps, caller, sub_id, 12)

    outcome = payments.add_seats(deps, caller, sub_id, request("seats-1", 12, total))

    assert outcome.invoice is not None and outcome.invoice.total == total == gateway.charged[0].amount
    assert len(outcome.invoice.lines) == 1
    assert stored_sub(repo).seats == 12
    assert events(repo)[-3:] == ["subscription.seats_added", "invoice.issued", "invoice.paid"]


def test_added_seats_with_a_prepaid_next_term_raise_it_too(
        deps: Deps, caller: Caller, repo: CrashingRepository, provision: Provision, add_card: AddCard) -> None:
    sub_id = provision().subscription.id
    add_card()
    renew(deps, caller, sub_id, key="renewal", seats=12)
    total = increase_total(deps, caller, sub_id, 13)

    outcome = payments.add_seats(deps, caller, sub_id, request("seats-1", 13, total))

    assert outcome.invoice is not None and len(outcome.invoice.lines) == 2
    sub = stored_sub(repo)
    assert sub.seats == 13 and sub.renewal is not None and sub.renewal.seats == 15
    assert outcome.invoice.number == "INV-000002"


def test_added_seats_wait_for_a_scheduled_reduction_to_be_undone(
        deps: Deps, caller: Caller, provision: Provision, add_card: AddCard, gateway: WatchedGateway) -> None:
    sub_id = provision().subscription.id
    add_card()
    flows.schedule_seat_reduction(deps, caller, sub_id, 6, True)
    with pytest.raises(SeatReductionPending):
        payments.add_seats(deps, caller, sub_id, request("seats-1", 12, 1))
    assert gateway.calls == []


def test_free_added_seats_are_applied_without_a_charge_or_an_invoice(
        deps: Deps, caller: Caller, repo: CrashingRepository, provision: Provision, add_card: AddCard,
        gateway: WatchedGateway) -> None:
    # Volume pricing: 25 seats at 31000 cost more than 26 at 28500, so going to 26 is free.
    sub_id = provision("business-monthly-sek", seats=25).subscription.id
    add_card()

    outcome = payments.add_seats(deps, caller, sub_id, request("seats-1", 26, 0))

    assert outcome.invoice is None
    assert stored_sub(repo).seats == 26
    assert gateway.calls == [] and last_number(repo) == 0
    assert events(repo)[-1] == "subscription.seats_added"


# --- paying an open invoice ---------------------------------------------------------------------------

def open_invoice_of_past_due_subscription(repo: CrashingRepository, set_subscription: SetSubscription,
                                          sub_id: str) -> str:
    invoice = store_invoice(repo, TENANT_ID, status="open")
    stored = repo.get_invoice(TENANT_ID, invoice.id)
    assert stored is not None
    repo.commit(Changeset(TENANT_ID).write(replace(stored, subscription_id=sub_id, version=2)))
    set_subscription(status="past_due", open_invoice_id=invoice.id, payment_attempts=2,
                     next_retry_at=TERM_END + timedelta(days=3))
    return invoice.id


def test_paying_the_open_invoice_reactivates_the_subscription(
        deps: Deps, caller: Caller, repo: CrashingRepository, provision: Provision, add_card: AddCard,
        set_subscription: SetSubscription, gateway: WatchedGateway) -> None:
    sub_id = provision().subscription.id
    add_card()
    invoice_id = open_invoice_of_past_due_subscription(repo, set_subscription, sub_id)

    outcome = payments.pay_invoice(deps, caller, invoice_id, request("pay-1", None))

    assert outcome.invoice is not None and outcome.invoice.status == "paid"
    assert outcome.invoice.payment is not None and outcome.invoice.payment.last4 == "4242"
    sub = stored_sub(repo)
    assert (sub.status, sub.open_invoice_id, sub.payment_attempts, sub.next_retry_at) == ("active", None, 0, None)
    assert [c.amount for c in gateway.charged] == [outcome.invoice.total]
    assert last_number(repo) == 1  # paying an issued invoice takes no new number
    assert events(repo)[-2:] == ["invoice.paid", "subscription.reactivated"]
    with pytest.raises(InvoiceNotOpen):
        payments.pay_invoice(deps, caller, invoice_id, request("pay-2", None))


def test_a_declined_invoice_payment_leaves_it_open(
        deps: Deps, caller: Caller, repo: CrashingRepository, provision: Provision, add_card: AddCard,
        set_subscription: SetSubscription) -> None:
    sub_id = provision().subscription.id
    add_card(NO_FUNDS)
    invoice_id = open_invoice_of_past_due_subscription(repo, set_subscription, sub_id)
    with pytest.raises(PaymentFailed):
        payments.pay_invoice(deps, caller, invoice_id, request("pay-1", None))
    invoice = repo.get_invoice(TENANT_ID, invoice_id)
    assert invoice is not None and invoice.status == "open"
    assert stored_sub(repo).status == "past_due" and stored_sub(repo).pending_payment is None


def test_an_invoice_closed_while_it_is_paid_is_refunded(
        deps: Deps, caller: Caller, repo: CrashingRepository, provision: Provision, add_card: AddCard,
        set_subscription: SetSubscription, gateway: WatchedGateway) -> None:
    sub_id = provision().subscription.id
    add_card()
    invoice_id = open_invoice_of_past_due_subscription(repo, set_subscription, sub_id)

    def close_it() -> None:
        invoice = repo.get_invoice(TENANT_ID, invoice_id)
        assert invoice is not None
        repo.commit(Changeset(TENANT_ID).write(invoice.mark_uncollectible()))

    gateway.during_charge.append(close_it)
    with pytest.raises(PaymentRefunded):
        payments.pay_invoice(deps, caller, invoice_id, request("pay-1", None))
    assert gateway.calls[-1] == f"refund {gateway.charged[0].id}"
    assert stored_sub(repo).pending_payment is None


def test_another_tenants_invoice_is_not_found(deps: Deps, caller: Caller, repo: CrashingRepository,
                                             provision: Provision, add_card: AddCard) -> None:
    provision()
    add_card()
    provision(tenant_id="ten_other")
    theirs = store_invoice(repo, "ten_other", status="open")
    with pytest.raises(NotFound):
        payments.pay_invoice(deps, caller, theirs.id, request("pay-1", None))


def test_a_payment_whose_card_was_removed_meanwhile_is_released_on_retry(
        deps: Deps, caller: Caller, repo: CrashingRepository, provision: Provision, add_card: AddCard,
        gateway: WatchedGateway) -> None:
    sub_id = provision().subscription.id
    add_card()
    other: PaymentMethod = add_card("5555 5555 5555 4444")
    gateway.sandbox.inject_fault("timeout_before_charge")
    with pytest.raises(GatewayUnavailable):
        renew(deps, caller, sub_id, payment_method_id=other.id)
    # (the payment-method flow refuses this while the payment waits; a race could still slip through)
    repo.commit(Changeset(TENANT_ID).delete(other))

    with pytest.raises(NoPaymentMethod):
        renew(deps, caller, sub_id, payment_method_id=other.id)

    assert stored_sub(repo).pending_payment is None
    assert gateway.charged == [] and last_number(repo) == 0


def test_the_reconciliation_refunds_a_charge_for_an_invoice_closed_meanwhile(
        deps: Deps, caller: Caller, repo: CrashingRepository, provision: Provision, add_card: AddCard,
        set_subscription: SetSubscription, gateway: WatchedGateway) -> None:
    sub_id = provision().subscription.id
    add_card()
    invoice_id = open_invoice_of_past_due_subscription(repo, set_subscription, sub_id)
    repo.crashes = 1
    with pytest.raises(RuntimeError):
        payments.pay_invoice(deps, caller, invoice_id, request("pay-1", None))
    invoice = repo.get_invoice(TENANT_ID, invoice_id)
    assert invoice is not None
    repo.commit(Changeset(TENANT_ID).write(invoice.mark_uncollectible()))

    assert payments.complete_pending_payment(deps, TENANT_ID, sub_id) == "refunded"

    assert gateway.calls[-1] == f"refund {gateway.charged[0].id}"
    assert stored_sub(repo).pending_payment is None
    closed = repo.get_invoice(TENANT_ID, invoice_id)
    assert closed is not None and closed.status == "uncollectible"
