"""Period end (SPEC 2.9): what becomes of a subscription when its term ends or its payment retry is due.
Pure rules; the applier (services/period_end.py) reads, charges and commits around them.

The state machine (docs/period-end.md):

    active, term ended:  cancellation scheduled  -> ended ("cancelled"), no charge
                         next term prepaid       -> rolled over to it, no charge
                         Enterprise or reseller  -> rolled over, same seats, never charged by us
                         otherwise               -> renewed: the next term starts with the invoice for
                                                    it issued (open) and its first charge under way;
                                                    paid -> active; failed -> past_due
    past_due, retry due: the open invoice is charged again 1, 3 and 5 days after the term ended;
                         paid -> active; the last one failed -> ended ("payment_failed"), invoice
                         uncollectible
    a payment under way that nobody finished -> settled (services/payments.py reconciliation, or the
                         applier's own charge resumed under its key)

Every step is one conditional transaction keyed on the subscription's version, and the ids the
applier creates (the renewal invoice, the gateway's idempotency key of each attempt) are derived from
the term and the attempt, so a second copy of the applier can only repeat the first one's writes and
charges, which the store and the gateway refuse or answer with the first outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from selfservice.domain.catalog import Plan, Seller
from selfservice.domain.ids import derived_id
from selfservice.domain.invoices import Buyer, Invoice, format_number
from selfservice.domain.licences import active_users_at
from selfservice.domain.model import BillingInfo, PendingPayment, Subscription, User
from selfservice.domain.money import percent_of
from selfservice.domain.quotes import term_lines
from selfservice.domain.tax import tax_treatment
from selfservice.domain.terms import iso, next_period_end

# Payment retries after a failed renewal charge, counted from the end of the term that was not paid.
RETRY_AFTER = (timedelta(days=1), timedelta(days=3), timedelta(days=5))

# A payment under way is looked at by the applier only this long after it started: by then the request
# or the applier run that started it has charged and recorded it, or never will (an HTTP request gives
# up after 30 s). Until then it is someone else's work in flight.
SETTLE_AFTER = timedelta(minutes=2)

# The `request_key` of the payments the system makes on its own (the renewal charge at the term's end
# and the retries of its invoice). A client's Idempotency-Key is visible ASCII without spaces
# (http/idempotency.py), so no client request can ever resume one of these as its own.
AUTOMATIC_PAYMENT = "automatic payment"

Step = Literal["settle_payment", "end", "roll_over_prepaid", "roll_over_managed", "renew", "retry"]


def due_at(sub: Subscription) -> datetime:
    """When the applier must next look at the subscription (its due-work index key): exactly when
    `next_step` stops being None, so that an item the index hands out is always work, and work is never
    handed out early and then again and again. A payment under way comes first (it is the lock), then
    a past_due subscription's retry, else the end of the term."""
    if sub.pending_payment is not None:
        return sub.pending_payment.started_at + SETTLE_AFTER
    if sub.status == "past_due" and sub.next_retry_at is not None:
        return sub.next_retry_at
    return sub.current_period_end


def next_step(sub: Subscription, now: datetime) -> Step | None:
    """What the applier does with the subscription at `now`; None: nothing (yet)."""
    if sub.status == "ended":
        return None
    if sub.pending_payment is not None:
        # A payment under way is the subscription's lock: nothing else happens until it is settled.
        return "settle_payment" if now >= sub.pending_payment.started_at + SETTLE_AFTER else None
    if sub.status == "past_due":
        return "retry" if sub.next_retry_at is not None and now >= sub.next_retry_at else None
    if now < sub.current_period_end:
        return None
    if sub.cancellation is not None and sub.cancellation.cancel_at <= sub.current_period_end:
        return "end"
    if sub.renewal is not None:
        return "roll_over_prepaid"
    if sub.edition == "enterprise" or sub.channel == "reseller":
        return "roll_over_managed"
    return "renew"


# --- transitions without a charge ----------------------------------------------------------------

def end_cancelled(sub: Subscription) -> Subscription:
    """The cancellation takes effect: the subscription ends when the last paid term does."""
    assert sub.cancellation is not None
    return sub.bump(status="ended", ended_at=sub.cancellation.cancel_at, ended_reason="cancelled",
                    scheduled_reduction=None, renewal=None, next_retry_at=None)


def roll_over_prepaid(sub: Subscription) -> Subscription:
    """The next term was paid ahead: it starts, with its seats. A cancellation of the end of that term
    stays scheduled."""
    renewal = sub.renewal
    assert renewal is not None
    return sub.bump(seats=renewal.seats, current_period_start=renewal.period_start,
                    current_period_end=renewal.period_end, renewal=None, scheduled_reduction=None)


def next_term(sub: Subscription) -> tuple[datetime, datetime]:
    """The term after the current one, kept on the billing anchor's day (Jan 31 -> Feb 28 -> Mar 31)."""
    start = sub.current_period_end
    return start, next_period_end(sub.billing_anchor, start, sub.term)


def roll_over_managed(sub: Subscription) -> Subscription:
    """Enterprise and reseller subscriptions are billed by the account manager or the reseller, never
    by us: the next term starts with the same seats."""
    start, end = next_term(sub)
    return sub.bump(current_period_start=start, current_period_end=end)


# --- the automatic renewal -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RenewalSeats:
    """The seats of the renewed term: the scheduled reduction's target, never below the users active at
    the term's end (the licence floor), or the current seats."""

    seats: int
    requested: int | None  # the scheduled reduction's target; None without one
    active_users: int

    @property
    def clamped(self) -> bool:
        return self.requested is not None and self.seats != self.requested


def renewal_seats(sub: Subscription, users: tuple[User, ...], now: datetime) -> RenewalSeats:
    active = active_users_at(users, now)
    reduction = sub.scheduled_reduction
    if reduction is None:
        return RenewalSeats(sub.seats, None, active)
    return RenewalSeats(min(sub.seats, max(reduction.seats, active)), reduction.seats, active)


def renewal_invoice_id(sub: Subscription) -> str:
    """The invoice of the term that starts at the current term's end: the same id for every copy of the
    applier that renews this term, so only one of them can store it."""
    start = sub.current_period_end
    return derived_id("inv", start, "renewal", sub.tenant_id, sub.id, iso(start))


def attempt_key(invoice_id: str, attempt: int) -> str:
    """The gateway's idempotency key of the `attempt`-th automatic charge of an invoice: each attempt
    charges at most once, however many copies of it run."""
    return f"{invoice_id}-attempt-{attempt}"


def renewal_invoice(sub: Subscription, plan: Plan, seats: int, *, invoice_id: str, sequence: int,
                    billing: BillingInfo | None, seller: Seller, issued_at: datetime) -> Invoice:
    """The open invoice of the renewed term: one line per price tier, taxed for the buyer's billing
    information at issue (snapshotted on the invoice), exactly as a renewal quote prices it."""
    start, end = next_term(sub)
    lines = tuple(term_lines(plan, seats, start, end))
    treatment = tax_treatment(billing.country if billing else None, billing.vat_id if billing else None)
    subtotal = sum(line.amount for line in lines)
    tax = percent_of(subtotal, treatment.rate_bp)
    return Invoice(
        sub.tenant_id, invoice_id, format_number(sequence), sub.id, "open", issued_at, plan.currency, lines,
        subtotal, treatment.rate_bp, tax, subtotal + tax, treatment.note, start, end,
        Buyer.snapshot(billing) if billing else None, seller,
    )


def start_renewed_term(sub: Subscription, seats: int, invoice: Invoice,
                       pending: PendingPayment | None) -> Subscription:
    """The next term starts now, with its seats usable and its invoice open until it is paid (a free
    one is paid at once); the scheduled reduction has taken effect. `pending` is the invoice's first
    charge, recorded before the gateway is asked (the engine's lock and resume point)."""
    assert invoice.period_start == sub.current_period_end and invoice.period_end is not None
    return sub.bump(seats=seats, current_period_start=invoice.period_start, current_period_end=invoice.period_end,
                    scheduled_reduction=None, open_invoice_id=invoice.id if invoice.status == "open" else None,
                    payment_attempts=0, next_retry_at=None, pending_payment=pending)


def invoice_charge(invoice: Invoice, card_id: str, seats: int, *, attempt: int, now: datetime) -> PendingPayment:
    """An automatic charge of an open invoice: its key is derived from the invoice and the attempt."""
    return PendingPayment(
        attempt_key(invoice.id, attempt), "invoice", AUTOMATIC_PAYMENT, card_id, now, invoice.currency,
        invoice.total, seats, lines=invoice.lines, subtotal=invoice.subtotal, tax_rate_bp=invoice.tax_rate_bp,
        tax_amount=invoice.tax_amount, tax_note=invoice.tax_note, period_start=invoice.period_start,
        period_end=invoice.period_end, invoice_id=invoice.id,
    )


# --- failed payments ---------------------------------------------------------------------------------

def next_retry(term_start: datetime, now: datetime) -> datetime | None:
    """The next retry after `now`: 1, 3 and 5 days after the unpaid term started (the previous one
    ended); None when the last one has passed. A retry missed while the applier could not run is
    skipped, not made up in a burst."""
    return next((term_start + delay for delay in RETRY_AFTER if term_start + delay > now), None)


def payment_failed(sub: Subscription, now: datetime) -> Subscription:
    """An attempt to pay the open invoice failed (declined, no usable card, a processing error).

    The renewal's own charge or a scheduled retry moves the subscription to past_due with the next
    retry, or ends it ("payment_failed") when the retry on day 5 has failed. An extra attempt ahead of
    the schedule (a new default card) only counts: the scheduled retries stand. The seats stay usable
    while past_due."""
    attempts = sub.payment_attempts + 1
    if sub.status == "past_due" and sub.next_retry_at is not None and now < sub.next_retry_at:
        return sub.bump(payment_attempts=attempts, pending_payment=None)
    retry = next_retry(sub.current_period_start, now)
    if retry is None:
        return sub.bump(status="ended", ended_at=now, ended_reason="payment_failed", open_invoice_id=None,
                        payment_attempts=attempts, next_retry_at=None, pending_payment=None)
    return sub.bump(status="past_due", payment_attempts=attempts, next_retry_at=retry, pending_payment=None)
