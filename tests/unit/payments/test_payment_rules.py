"""The pure rules of paid changes (domain/payments.py) and the lock a payment under way holds on the
other changes (domain/subscriptions.require_no_pending_payment)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from selfservice.domain import payments
from selfservice.domain import subscriptions as rules
from selfservice.domain.catalog import load_catalog
from selfservice.domain.errors import PaymentInProgress
from selfservice.domain.invoices import InvoicePayment
from selfservice.domain.model import (
    Acknowledgement,
    ChargeLine,
    PendingPayment,
    PrepaidRenewal,
    ScheduledCancellation,
    ScheduledReduction,
    Subscription,
)
from selfservice.domain.terms import iso, utc

from ..builders import NEXT_TERM_END, NOW, TERM_END, make_billing, make_subscription, make_users, plan, prepaid

ACK = Acknowledgement("v", "sao", NOW)
LINE = ChargeLine("Business (monthly): seats 1-12", 12, 3000, 36000, TERM_END, NEXT_TERM_END)


def pending(kind: str = "renewal", seats: int = 12, **changes: object) -> PendingPayment:
    fields: dict[str, object] = {
        "lines": (LINE,), "subtotal": 36000, "tax_rate_bp": 2500, "tax_amount": 9000,
        "period_start": TERM_END, "period_end": NEXT_TERM_END, "invoice_id": "inv_next",
    }
    fields.update(changes)
    return PendingPayment("pay_1", kind, "key-1", "pm_1", NOW, "EUR", 45000, seats, **fields)  # type: ignore[arg-type]


def reduced(sub: Subscription, seats: int = 6) -> Subscription:
    return replace(sub, scheduled_reduction=ScheduledReduction(seats, sub.current_period_end, "sao", NOW, ACK))


def cancelled(sub: Subscription) -> Subscription:
    return replace(sub, cancellation=ScheduledCancellation(sub.current_period_end, "sao", NOW, None, ACK))


# --- renewal ------------------------------------------------------------------------------------------

def test_a_paid_renewal_records_the_prepaid_next_term() -> None:
    sub = make_subscription(seats=10, pending_payment=pending())
    renewed = payments.apply_renewal(sub, pending())
    assert renewed.renewal == PrepaidRenewal(12, TERM_END, NEXT_TERM_END, "inv_next")
    assert (renewed.seats, renewed.current_period_end) == (10, TERM_END)  # this term is unchanged
    assert renewed.pending_payment is None
    assert renewed.version == sub.version + 1


def test_renewing_withdraws_a_scheduled_cancellation() -> None:
    renewed = payments.apply_renewal(cancelled(make_subscription()), pending())
    assert renewed.cancellation is None
    assert renewed.renewal is not None


def test_the_renewal_seat_count_replaces_a_scheduled_reduction() -> None:
    renewed = payments.apply_renewal(reduced(make_subscription(seats=10), 6), pending(seats=8))
    assert renewed.scheduled_reduction is None
    assert renewed.renewal is not None and renewed.renewal.seats == 8


def test_an_ended_subscription_starts_a_new_term_at_the_moment_of_payment() -> None:
    ended = make_subscription(seats=10, start=utc(2025, 1, 1), end=utc(2025, 2, 1), status="ended",
                              ended_at=utc(2025, 2, 1), ended_reason="payment_failed", open_invoice_id="inv_old",
                              payment_attempts=3)
    paid = pending(seats=4, period_start=NOW, period_end=NOW + timedelta(days=31), anchor=NOW)
    renewed = payments.apply_renewal(ended, paid)
    assert renewed.status == "active"
    assert (renewed.billing_anchor, renewed.current_period_start, renewed.current_period_end) == (
        NOW, NOW, NOW + timedelta(days=31))
    assert renewed.seats == 4
    assert renewed.renewal is None  # the paid term is the current one
    assert (renewed.ended_at, renewed.ended_reason, renewed.open_invoice_id, renewed.payment_attempts) == (
        None, None, None, 0)


# --- added seats --------------------------------------------------------------------------------------

def test_added_seats_hold_now() -> None:
    sub = make_subscription(seats=10)
    assert payments.apply_increase(sub, 12, None).seats == 12
    assert payments.apply_increase(sub, 12, None).renewal is None


def test_added_seats_raise_a_prepaid_next_term_by_the_same_number() -> None:
    sub = make_subscription(seats=10, renewal=prepaid(20))
    increased = payments.apply_increase(sub, 13, 23)
    assert (increased.seats, increased.renewal) == (13, replace(prepaid(20), seats=23))


# --- paying an open invoice ---------------------------------------------------------------------------

def test_paying_the_open_invoice_of_a_past_due_subscription_reactivates_it() -> None:
    sub = make_subscription(status="past_due", open_invoice_id="inv_open", payment_attempts=2,
                            next_retry_at=TERM_END + timedelta(days=3))
    paid = payments.apply_invoice_payment(sub, "inv_open")
    assert (paid.status, paid.open_invoice_id, paid.payment_attempts, paid.next_retry_at) == ("active", None, 0, None)


def test_paying_another_invoice_does_not_reactivate() -> None:
    sub = make_subscription(status="past_due", open_invoice_id="inv_open", payment_attempts=2)
    paid = payments.apply_invoice_payment(sub, "inv_other")
    assert (paid.status, paid.open_invoice_id, paid.payment_attempts) == ("past_due", "inv_open", 2)


def test_the_invoice_is_exactly_what_the_payment_priced() -> None:
    sub = make_subscription()
    card = InvoicePayment("visa", "4242", "ch_1", NOW)
    billing = make_billing("DE", "DE123456789")
    invoice = payments.invoice_for_payment(sub, pending(tax_note="note"), sequence=42, billing=billing,
                                           seller=load_catalog().seller, issued_at=NOW, payment=card)
    assert (invoice.id, invoice.number, invoice.status, invoice.payment) == ("inv_next", "INV-000042", "paid", card)
    assert (invoice.lines, invoice.subtotal, invoice.tax_rate_bp, invoice.tax_amount, invoice.total) == (
        (LINE,), 36000, 2500, 9000, 45000)
    assert invoice.buyer is not None and invoice.buyer.vat_id == "DE123456789"
    assert (invoice.period_start, invoice.period_end, invoice.tax_note) == (TERM_END, NEXT_TERM_END, "note")


# --- a payment under way locks out the other changes --------------------------------------------------

Change = Callable[[Subscription], object]


@pytest.mark.parametrize(
    ("prepare", "change"),
    [
        pytest.param(lambda s: s, lambda s: rules.check_reduction(s, plan(s.plan_id), 6, make_users(2), NOW),
                     id="reduce"),
        pytest.param(reduced, lambda s: rules.undo_reduction(s, NOW), id="undo-reduction"),
        pytest.param(lambda s: s, lambda s: rules.check_cancellation(s, NOW), id="cancel"),
        pytest.param(cancelled, lambda s: rules.undo_cancellation(s, NOW), id="undo-cancellation"),
    ],
)
def test_a_payment_under_way_refuses_other_changes(prepare: Callable[[Subscription], Subscription],
                                                    change: Change) -> None:
    sub = prepare(make_subscription(seats=10))
    change(sub)  # allowed without a payment under way
    with pytest.raises(PaymentInProgress) as refused:
        change(replace(sub, pending_payment=pending()))
    assert refused.value.details == {"payment_id": "pay_1", "kind": "renewal",
                                     "retry_after": iso(NOW + rules.PAYMENT_SETTLING)}


def test_retry_after_is_never_in_the_past() -> None:
    sub = make_subscription(pending_payment=pending())
    later = NOW + timedelta(hours=1)
    with pytest.raises(PaymentInProgress) as refused:
        rules.require_no_pending_payment(sub, later)
    assert refused.value.details["retry_after"] == iso(later)
