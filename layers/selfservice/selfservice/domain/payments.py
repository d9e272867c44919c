"""The pure part of the changes that charge (SPEC 2.4, 2.5, 2.9, 2.13): how a paid renewal, a paid
seat increase and a paid open invoice change the subscription, and the invoice a payment issues. What
a payment under way blocks is `subscriptions.require_no_pending_payment`. No I/O: the payment engine
(services/payments.py) reads, charges and commits around these functions."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from selfservice.domain.catalog import Seller
from selfservice.domain.invoices import Buyer, Invoice, InvoicePayment, format_number
from selfservice.domain.model import BillingInfo, PendingPayment, PrepaidRenewal, Subscription


def start_payment(sub: Subscription, pending: PendingPayment) -> Subscription:
    """Record the payment on the subscription before the gateway is asked to charge."""
    return sub.bump(pending_payment=pending)


def drop_payment(sub: Subscription) -> Subscription:
    """Nothing was charged (declined, a processing error, or abandoned): the subscription is as before."""
    return sub.bump(pending_payment=None)


def apply_renewal(sub: Subscription, pending: PendingPayment) -> Subscription:
    """The renewal is paid. An active subscription records the next term as prepaid with its seats;
    renewing means continuing, so a scheduled cancellation is withdrawn, and the renewal's seat count
    replaces a scheduled reduction. An ended subscription starts a new term from the moment of payment
    (the period the payment priced and the invoice names)."""
    assert pending.kind == "renewal" and pending.invoice_id is not None
    assert pending.period_start is not None and pending.period_end is not None
    if sub.status == "ended":
        return sub.bump(
            status="active", seats=pending.seats, billing_anchor=pending.anchor or pending.period_start,
            current_period_start=pending.period_start, current_period_end=pending.period_end,
            scheduled_reduction=None, cancellation=None, renewal=None, ended_at=None, ended_reason=None,
            open_invoice_id=None, payment_attempts=0, next_retry_at=None, pending_payment=None,
        )
    renewal = PrepaidRenewal(pending.seats, pending.period_start, pending.period_end, pending.invoice_id)
    return sub.bump(renewal=renewal, cancellation=None, scheduled_reduction=None, pending_payment=None)


def apply_increase(sub: Subscription, seats: int, renewal_seats: int | None) -> Subscription:
    """The added seats are paid: the new total holds from now on, and a prepaid next term rises by the
    same number (`renewal_seats`, priced by the payment as its second line)."""
    renewal = sub.renewal
    if renewal is not None:
        renewal = replace(renewal, seats=renewal_seats if renewal_seats is not None
                          else renewal.seats + seats - sub.seats)
    return sub.bump(seats=seats, renewal=renewal, pending_payment=None)


def apply_invoice_payment(sub: Subscription, invoice_id: str) -> Subscription:
    """The open invoice is paid. If it is the subscription's open invoice (the automatic renewal's, see
    domain/period_end.py), it is settled: a past_due subscription is active again and its payment
    retries stop; an active one (the renewal's first charge) simply has nothing open any more."""
    if sub.open_invoice_id == invoice_id and sub.status in ("active", "past_due"):
        return sub.bump(status="active", open_invoice_id=None, payment_attempts=0, next_retry_at=None,
                        pending_payment=None)
    return sub.bump(pending_payment=None)


def invoice_for_payment(sub: Subscription, pending: PendingPayment, *, sequence: int, billing: BillingInfo | None,
                        seller: Seller, issued_at: datetime, payment: InvoicePayment | None) -> Invoice:
    """The invoice for exactly what the payment priced (never re-priced at completion), numbered with
    `sequence` from the counter taken in the same transaction that stores it. Paid when `payment` is
    given; a payment of nothing (a free change) has none but is still paid."""
    assert pending.invoice_id is not None
    return Invoice(
        sub.tenant_id, pending.invoice_id, format_number(sequence), sub.id, "paid", issued_at, pending.currency,
        pending.lines, pending.subtotal, pending.tax_rate_bp, pending.tax_amount, pending.amount,
        pending.tax_note, pending.period_start, pending.period_end,
        Buyer.snapshot(billing) if billing else None, seller, payment,
    )
