"""The payment engine: renewals, added seats and open invoices that are paid by card (SPEC 2.4, 2.5,
2.9, 2.13), and the reconciliation of payments whose outcome was never recorded.

Every change that charges runs the same steps, so that money never goes wrong:

1. Read the tenant's account (one Query).
2. A payment already under way on the subscription (`pending_payment`) is the lock: the same client
   request (same Idempotency-Key) resumes it at step 4; any other request is refused
   (`payment_in_progress`).
3. Validate and price with the domain; the client's `expected_total` must be the price
   (`price_changed`). Record a `PendingPayment` on the subscription (a conditional write: the loser of a
   race re-reads and sees the winner's payment). It holds everything the invoice needs and the
   gateway's idempotency key (its id), so nothing is re-priced later.
4. Charge the card with that key. The gateway never charges one key twice: a retry, a resumed request
   and the reconciliation all get the first outcome.
5. Succeeded: one transaction issues the invoice (the next gapless number), applies the change, clears
   the pending payment and records the audit events. A lost race there is retried on fresh state, never
   by charging again. Declined: one transaction clears the pending payment (nothing else changed, no
   number consumed) and the client gets 402 with the decline reason. A processing error (surely not
   charged): cleared, 503. A time-out (outcome unknown): the pending payment stays, 503; the client's
   retry with the same Idempotency-Key, or `complete_pending_payment`, finishes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, NoReturn

from selfservice.domain import payments, quotes
from selfservice.domain import subscriptions as rules
from selfservice.domain.cards import is_expired
from selfservice.domain.errors import (
    CardExpired,
    ConcurrentUpdate,
    GatewayUnavailable,
    IdempotencyKeyReused,
    NoPaymentMethod,
    NotFound,
    PaymentFailed,
    PaymentRefunded,
    PriceChanged,
)
from selfservice.domain.ids import new_id
from selfservice.domain.invoices import Invoice, InvoiceNotOpen, InvoicePayment
from selfservice.domain.model import (
    AuditEvent,
    PaymentMethod,
    PendingPayment,
    Subscription,
    TenantState,
)
from selfservice.domain.quotes import Quote
from selfservice.domain.terms import iso
from selfservice.ports import INVOICE_SEQUENCE, Changeset, Charge, PaymentGateway
from selfservice.services import Caller, Deps, limits
from selfservice.services.common import SubscriptionView, audit, find_subscription, load_state, view

PaymentKind = Literal["renewal", "increase", "invoice"]

# A start that loses a race re-reads and decides again; a completion that loses one (the invoice number
# taken by another invoice, the subscription bumped by a user assignment) re-reads and tries again.
START_ATTEMPTS = 3
COMPLETION_ATTEMPTS = 5

# The reconciliation abandons a payment the gateway has no successful charge for only after this long:
# by then the request that started it has finished one way or the other (a Lambda runs at most
# 15 minutes), so no charge for it can still be on its way.
ABANDON_AFTER = timedelta(minutes=20)

# The actor of the audit records written when the reconciliation, not the SAO, finishes a payment.
RECONCILIATION_ACTOR = "system:payment-reconciliation"


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    """What the client asked for: `key` is its Idempotency-Key, `seats` the new total (renewal, add
    seats) and `expected_total` the total it showed the SAO."""

    key: str
    payment_method_id: str | None
    seats: int | None = None
    expected_total: int | None = None


@dataclass(frozen=True, slots=True)
class PaymentOutcome:
    subscription: SubscriptionView
    invoice: Invoice | None  # None: nothing was due (a free seat increase), nothing was charged


ReconciliationOutcome = Literal["nothing_pending", "completed", "abandoned", "refunded", "waiting"]


@dataclass(frozen=True, slots=True)
class AutomaticCharge:
    """The outcome of `charge_pending_invoice`: `paid` (completed: `outcome`), `declined` or
    `not_charged` (surely nothing charged: a processing error, or the card gone; `decline_code` says
    which), `unknown` (the gateway's answer was lost: the payment stays pending, and charging it again
    under the same key returns the first outcome), or `refunded` (charged, but the invoice had been
    closed meanwhile: given back)."""

    status: Literal["paid", "declined", "not_charged", "unknown", "refunded"]
    decline_code: str | None = None
    outcome: PaymentOutcome | None = None


@dataclass(frozen=True, slots=True)
class _Priced:
    quote: Quote
    anchor: datetime | None = None
    renewal_seats: int | None = None


# --- the flows --------------------------------------------------------------------------------------

def renew(deps: Deps, caller: Caller, subscription_id: str, request: PaymentRequest) -> PaymentOutcome:
    """Renew for the next term at `request.seats` and pay for it in full (SPEC 2.4)."""
    seats = _seats_of(request)

    def price(state: TenantState, sub: Subscription, now: datetime) -> _Priced:
        plan = deps.catalog.plan(sub.plan_id)
        quote = quotes.quote_renewal(sub, plan, seats, state.users, state.billing_info, now)
        anchor, _start, _end = rules.renewal_period(sub, now)
        return _Priced(quote, anchor=anchor)

    return _pay_for_change(deps, caller, subscription_id, "renewal", request, price)


def add_seats(deps: Deps, caller: Caller, subscription_id: str, request: PaymentRequest) -> PaymentOutcome:
    """Raise the seats to `request.seats` now and pay pro rata (plus the prepaid next term's difference
    in full) (SPEC 2.5)."""
    seats = _seats_of(request)

    def price(state: TenantState, sub: Subscription, now: datetime) -> _Priced:
        plan = deps.catalog.plan(sub.plan_id)
        quote = quotes.quote_increase(sub, plan, seats, state.billing_info, now)
        renewal_seats = sub.renewal.seats + seats - sub.seats if sub.renewal else None
        return _Priced(quote, renewal_seats=renewal_seats)

    return _pay_for_change(deps, caller, subscription_id, "increase", request, price)


def pay_invoice(deps: Deps, caller: Caller, invoice_id: str, request: PaymentRequest) -> PaymentOutcome:
    """Pay an open invoice by card. If it is the invoice that made its subscription past_due, the
    subscription is active again (SPEC 2.9)."""
    for attempt in range(START_ATTEMPTS):
        state = load_state(deps, caller)
        invoice = deps.repo.get_invoice(caller.tenant_id, invoice_id)
        if invoice is None:
            raise NotFound("No such invoice.", invoice_id=invoice_id)
        sub = find_subscription(state, invoice.subscription_id)
        now = deps.clock.now()
        pending = sub.pending_payment
        if pending is not None:
            if pending.request_key == request.key and pending.kind == "invoice" and pending.invoice_id == invoice.id:
                _require_same_request(pending, request)
                return _charge_and_finish(deps, caller.subject, state, sub, invoice)
            rules.require_no_pending_payment(sub, now)
        if attempt == 0:
            limits.count_charge_attempt(deps, caller.tenant_id, sub.id)
        if invoice.status != "open":
            raise InvoiceNotOpen(f"Invoice {invoice.number} is {invoice.status}.", invoice_id=invoice.id,
                                 status=invoice.status)
        card = _choose_card(state, request.payment_method_id, now)
        pending = PendingPayment(
            new_id("pay", now), "invoice", request.key, card.id, now, invoice.currency, invoice.total, sub.seats,
            subtotal=invoice.subtotal, tax_rate_bp=invoice.tax_rate_bp, tax_amount=invoice.tax_amount,
            tax_note=invoice.tax_note, period_start=invoice.period_start, period_end=invoice.period_end,
            invoice_id=invoice.id,
        )
        started = payments.start_payment(sub, pending)
        try:
            deps.repo.commit(Changeset(caller.tenant_id).write(started))
        except ConcurrentUpdate:
            if attempt == START_ATTEMPTS - 1:
                raise
            continue  # another payment or change got there first: decide again on fresh state
        return _charge_and_finish(deps, caller.subject, state, started, invoice)
    raise AssertionError("unreachable")


def complete_pending_payment(deps: Deps, tenant_id: str, subscription_id: str, *,
                             abandon_after: timedelta = ABANDON_AFTER) -> ReconciliationOutcome:
    """Finish a payment that was charged (or not) but never recorded: a Lambda that crashed between the
    charge and the commit, or a gateway time-out nobody retried. The period-end applier calls this for
    every subscription it finds with a pending payment. Looks the charge up by its idempotency key:
    succeeded -> the change is applied exactly as the client's request would have applied it (or, if it
    can no longer be, e.g. its invoice was closed meanwhile, the charge is refunded: `refunded`);
    declined, or no charge at all once `abandon_after` has passed -> the pending payment is dropped;
    otherwise it is left alone (`waiting`). Never charges.

    Not for the payments the system makes on its own (`request_key` "automatic payment"): a declined one
    must leave the subscription past_due, not merely unlocked; the applier resumes those with
    `charge_pending_invoice` instead."""
    state = deps.repo.load_tenant(tenant_id)
    sub = state.subscription(subscription_id) if state else None
    if state is None or sub is None or sub.pending_payment is None:
        return "nothing_pending"
    pending = sub.pending_payment
    charge = _gateway(deps).find_charge(pending.id)
    if charge is not None and charge.status == "succeeded":
        invoice = deps.repo.get_invoice(tenant_id, pending.invoice_id) if pending.kind == "invoice" and \
            pending.invoice_id else None
        try:
            _complete(deps, RECONCILIATION_ACTOR, state, sub, charge, invoice)
        except PaymentRefunded:
            return "refunded"
        return "completed"
    now = deps.clock.now()
    if now - pending.started_at < abandon_after:
        return "waiting"
    _drop(deps, RECONCILIATION_ACTOR, tenant_id, sub, pending, charge, reason="abandoned")
    return "abandoned"


def charge_pending_invoice(deps: Deps, actor: str, state: TenantState, sub: Subscription,
                           invoice: Invoice | None) -> AutomaticCharge:
    """Charge the subscription's pending payment of an open invoice under the payment's own key, and on
    success complete it (steps 4 and 5). For the payments the system makes on its own (the period-end
    applier's renewal charge and retries, services/period_end.py): a failure is NOT released here, since
    its caller records it its own way (past_due, the next retry) in the same transaction that releases
    the pending payment. Calling it again for the same pending payment charges nothing twice."""
    pending = sub.pending_payment
    assert pending is not None and pending.kind == "invoice"
    gateway = _gateway(deps)
    card = state.payment_method(pending.payment_method_id)
    charge: Charge | None
    if card is None:
        charge = gateway.find_charge(pending.id)  # removed while the payment waited: only look it up
        if charge is None:
            return AutomaticCharge("not_charged", "card_removed")
    else:
        try:
            charge = gateway.charge(
                token=card.token, amount=pending.amount, currency=pending.currency, idempotency_key=pending.id,
                description=f"invoice {pending.invoice_id} of subscription {sub.id}",
            )
        except GatewayUnavailable as error:
            if not getattr(error, "outcome_unknown", True):
                return AutomaticCharge("not_charged", "processing_error")
            return AutomaticCharge("unknown")
        except IdempotencyKeyReused:
            # The card's token was renewed (the same card saved again) after this key was charged with
            # the old one: the first outcome under the key is the answer.
            charge = gateway.find_charge(pending.id)
            if charge is None:
                return AutomaticCharge("not_charged", "card_changed")
    if charge.status != "succeeded":
        return AutomaticCharge("declined", charge.decline_code or "card_declined")
    try:
        return AutomaticCharge("paid", outcome=_complete(deps, actor, state, sub, charge, invoice))
    except PaymentRefunded:
        return AutomaticCharge("refunded")


# --- steps 1-3: start ------------------------------------------------------------------------------

def _pay_for_change(deps: Deps, caller: Caller, subscription_id: str, kind: PaymentKind, request: PaymentRequest,
                    price: Callable[[TenantState, Subscription, datetime], _Priced]) -> PaymentOutcome:
    for attempt in range(START_ATTEMPTS):
        state = load_state(deps, caller)
        sub = find_subscription(state, subscription_id)
        now = deps.clock.now()
        pending = sub.pending_payment
        if pending is not None:
            if pending.request_key == request.key and pending.kind == kind:
                _require_same_request(pending, request)
                return _charge_and_finish(deps, caller.subject, state, sub)
            rules.require_no_pending_payment(sub, now)
        if attempt == 0:  # one request, one attempt (a lost race below decides again, uncounted)
            limits.count_charge_attempt(deps, caller.tenant_id, sub.id)
        priced = price(state, sub, now)
        quote = priced.quote
        if request.expected_total != quote.total:
            raise PriceChanged(
                "The price has changed since it was shown; review the new total and pay again.",
                expected=request.expected_total, actual=quote.total, currency=quote.currency,
            )
        try:
            if quote.total == 0:
                return _apply_free_change(deps, caller, state, sub, kind, quote, priced, now)
            card = _choose_card(state, request.payment_method_id, now)
            pending = PendingPayment(
                new_id("pay", now), kind, request.key, card.id, now, quote.currency, quote.total, quote.seats,
                lines=quote.lines, subtotal=quote.amount_due, tax_rate_bp=quote.tax.rate_bp,
                tax_amount=quote.tax_amount, tax_note=quote.tax.note, period_start=quote.period_start,
                period_end=quote.period_end, anchor=priced.anchor, renewal_seats=priced.renewal_seats,
                invoice_id=new_id("inv", now),
            )
            started = payments.start_payment(sub, pending)
            deps.repo.commit(Changeset(caller.tenant_id).write(started))
        except ConcurrentUpdate:
            if attempt == START_ATTEMPTS - 1:
                raise
            continue  # another payment or change got there first: decide again on fresh state
        return _charge_and_finish(deps, caller.subject, state, started)
    raise AssertionError("unreachable")


def _seats_of(request: PaymentRequest) -> int:
    if request.seats is None:
        raise ValueError("a renewal or a seat increase names its seats")
    return request.seats


def _require_same_request(pending: PendingPayment, request: PaymentRequest) -> None:
    """A resumed request must be the one that started the payment: the same key with another body is
    refused, even when the idempotency record is gone (an error response is not stored)."""
    same = (
        (request.seats is None or request.seats == pending.seats)
        and (request.expected_total is None or request.expected_total == pending.amount)
        and (request.payment_method_id is None or request.payment_method_id == pending.payment_method_id)
    )
    if not same:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was used for a different request; use a new key for a new request."
        )


def _choose_card(state: TenantState, payment_method_id: str | None, now: datetime) -> PaymentMethod:
    """The named card, else the tenant's default. Another tenant's card is not found, like any other."""
    card_id = payment_method_id or state.tenant.default_payment_method_id
    if card_id is None:
        raise NoPaymentMethod("No card to charge: add a card or name one.")
    card = state.payment_method(card_id)
    if card is None:
        if payment_method_id is not None:
            raise NotFound("No such payment method.", payment_method_id=payment_method_id)
        raise NoPaymentMethod("The default card no longer exists: add a card or name one.")
    if is_expired(card.exp_month, card.exp_year, now):
        raise CardExpired(
            f"The card ending in {card.last4} has expired; choose another card.",
            payment_method_id=card.id, exp_month=card.exp_month, exp_year=card.exp_year,
        )
    return card


def _apply_free_change(deps: Deps, caller: Caller, state: TenantState, sub: Subscription, kind: PaymentKind,
                       quote: Quote, priced: _Priced, now: datetime) -> PaymentOutcome:
    """Nothing is due (volume pricing can make added seats free): the change is applied in one
    transaction, without a charge. An increase issues no invoice; a renewal still issues its (zero)
    invoice, since the prepaid term refers to one."""
    if kind == "increase":
        updated = payments.apply_increase(sub, quote.seats, priced.renewal_seats)
        event = audit(caller.tenant_id, "subscription.seats_added", caller.subject, sub.id, now,
                      before=rules.summary(sub), after=rules.summary(updated),
                      seats=updated.seats, added=updated.seats - sub.seats, amount=0, currency=quote.currency)
        deps.repo.commit(Changeset(caller.tenant_id).write(updated).record(event))
        return PaymentOutcome(view(state, updated, now), None)
    pending = PendingPayment(
        new_id("pay", now), kind, "", "", now, quote.currency, 0, quote.seats, lines=quote.lines,
        tax_rate_bp=quote.tax.rate_bp, tax_note=quote.tax.note, period_start=quote.period_start,
        period_end=quote.period_end, anchor=priced.anchor, invoice_id=new_id("inv", now),
    )
    changes, updated, invoice = _completion(deps, caller.subject, state, sub, pending, None, None, now)
    deps.repo.commit(changes)
    return PaymentOutcome(view(state, updated, now), invoice)


# --- step 4: charge ---------------------------------------------------------------------------------

def _gateway(deps: Deps) -> PaymentGateway:
    if deps.gateway is None:
        raise RuntimeError("this function has no payment gateway configured")
    return deps.gateway


def _charge_and_finish(deps: Deps, actor: str, state: TenantState, sub: Subscription,
                       invoice: Invoice | None = None) -> PaymentOutcome:
    """Charge the pending payment's card under the payment's own key, then record the outcome."""
    pending = sub.pending_payment
    assert pending is not None
    gateway = _gateway(deps)
    card = state.payment_method(pending.payment_method_id)
    if card is None:
        # The card was removed while the payment waited for a retry: whatever was charged under the key
        # is still known to the gateway; without a charge there is nothing left to pay with.
        found = gateway.find_charge(pending.id)
        if found is None or found.status == "declined":
            _drop(deps, actor, state.tenant.id, sub, pending, found, reason="card_removed")
            raise NoPaymentMethod("The card of this payment was removed; nothing was charged. Pay again.")
        charge = found
    else:
        try:
            charge = gateway.charge(
                token=card.token, amount=pending.amount, currency=pending.currency, idempotency_key=pending.id,
                description=f"{pending.kind} of subscription {sub.id} (invoice {pending.invoice_id})",
            )
        except GatewayUnavailable as error:
            if not getattr(error, "outcome_unknown", True):
                # The gateway said it charged nothing: nothing to resume, release the lock.
                _drop(deps, actor, state.tenant.id, sub, pending, None, reason="processing_error")
            # Outcome unknown: keep the pending payment; the same Idempotency-Key resumes it.
            raise
    if charge.status != "succeeded":
        _drop(deps, actor, state.tenant.id, sub, pending, charge, reason="declined")
        code = charge.decline_code or "card_declined"
        raise PaymentFailed(
            f"The card was declined ({code}); nothing was charged and nothing changed.",
            code=code, decline_code=code, payment_method_id=pending.payment_method_id,
        )
    return _complete(deps, actor, state, sub, charge, invoice)


# --- step 5: record the outcome ---------------------------------------------------------------------

def _complete(deps: Deps, actor: str, state: TenantState, sub: Subscription, charge: Charge,
              invoice: Invoice | None) -> PaymentOutcome:
    """Apply the paid change exactly once. A lost race is retried on fresh state (never by charging
    again); if the fresh state no longer carries this payment, someone else (the client's retry, the
    reconciliation) has completed it: that result is returned."""
    pending = sub.pending_payment
    assert pending is not None
    tenant_id = state.tenant.id
    for attempt in range(COMPLETION_ATTEMPTS):
        if attempt > 0:
            fresh_state = deps.repo.load_tenant(tenant_id)
            fresh = fresh_state.subscription(sub.id) if fresh_state else None
            if fresh_state is None or fresh is None:
                raise NotFound("No such subscription.", subscription_id=sub.id)
            state, sub = fresh_state, fresh
            if pending.kind == "invoice" and pending.invoice_id:
                invoice = deps.repo.get_invoice(tenant_id, pending.invoice_id)
        if sub.pending_payment is None or sub.pending_payment.id != pending.id:
            return _completed_elsewhere(deps, actor, state, sub, pending, charge)
        now = deps.clock.now()
        changes, updated, issued = _completion(deps, actor, state, sub, pending, charge, invoice, now)
        try:
            deps.repo.commit(changes)
        except ConcurrentUpdate:
            if attempt == COMPLETION_ATTEMPTS - 1:
                raise  # still pending: the client's retry (same key) or the reconciliation finishes it
            continue
        return PaymentOutcome(view(state, updated, now), issued)
    raise AssertionError("unreachable")


def _completion(deps: Deps, actor: str, state: TenantState, sub: Subscription, pending: PendingPayment,
                charge: Charge | None, invoice: Invoice | None,
                now: datetime) -> tuple[Changeset, Subscription, Invoice]:
    """The one transaction that records a successful (or free) payment: the invoice, the change, the
    cleared pending payment and the audit records."""
    tenant_id = state.tenant.id
    card = state.payment_method(pending.payment_method_id)
    paid = InvoicePayment(card.brand if card else "card", card.last4 if card else "", charge.id,
                          charge.created_at) if charge else None
    changes = Changeset(tenant_id)
    if pending.kind == "invoice":
        if invoice is None or invoice.status != "open" or paid is None:
            # Closed (uncollectible) or paid otherwise while this payment was under way: give it back.
            _refund_and_release(deps, actor, state, sub, pending, charge)
        closed = invoice.mark_paid(paid)
        updated = payments.apply_invoice_payment(sub, closed.id)
        changes.write(updated).write(closed)
        changes.record(_invoice_paid(tenant_id, actor, closed, pending, now))
        if updated.status != sub.status:
            changes.record(audit(tenant_id, "subscription.reactivated", actor, sub.id, now,
                                 before=rules.summary(sub), after=rules.summary(updated), invoice_id=closed.id))
        elif sub.open_invoice_id == closed.id:
            # The automatic renewal at the term's end (services/period_end.py) is paid by its first charge.
            changes.record(audit(tenant_id, "subscription.renewed", actor, sub.id, now,
                                 before=rules.summary(sub), after=rules.summary(updated), invoice_id=closed.id,
                                 seats=updated.seats,
                                 period_start=iso(closed.period_start) if closed.period_start else None,
                                 period_end=iso(closed.period_end) if closed.period_end else None,
                                 restarted=False, automatic=True))
        return changes, updated, closed

    number = deps.repo.last_number(INVOICE_SEQUENCE) + 1
    issued = payments.invoice_for_payment(sub, pending, sequence=number, billing=state.billing_info,
                                          seller=deps.catalog.seller, issued_at=now, payment=paid)
    if pending.kind == "renewal":
        updated = payments.apply_renewal(sub, pending)
        change = audit(tenant_id, "subscription.renewed", actor, sub.id, now,
                       before=rules.summary(sub), after=rules.summary(updated), invoice_id=issued.id,
                       seats=pending.seats, period_start=iso(pending.period_start) if pending.period_start else None,
                       period_end=iso(pending.period_end) if pending.period_end else None,
                       restarted=sub.status == "ended")
    else:
        updated = payments.apply_increase(sub, pending.seats, pending.renewal_seats)
        change = audit(tenant_id, "subscription.seats_added", actor, sub.id, now,
                       before=rules.summary(sub), after=rules.summary(updated), invoice_id=issued.id,
                       seats=updated.seats, added=updated.seats - sub.seats, amount=issued.total,
                       currency=issued.currency)
    changes.write(updated).write(issued).take_number(INVOICE_SEQUENCE, number).record(change)
    changes.record(audit(tenant_id, "invoice.issued", actor, issued.id, now, number=issued.number,
                         subscription_id=sub.id, total=issued.total, currency=issued.currency,
                         status=issued.status))
    if paid is not None:
        changes.record(_invoice_paid(tenant_id, actor, issued, pending, now))
    return changes, updated, issued


def _invoice_paid(tenant_id: str, actor: str, invoice: Invoice, pending: PendingPayment, now: datetime) -> AuditEvent:
    assert invoice.payment is not None
    return audit(tenant_id, "invoice.paid", actor, invoice.id, now, number=invoice.number,
                 subscription_id=invoice.subscription_id, amount=invoice.total, currency=invoice.currency,
                 charge_id=invoice.payment.charge_id, payment_id=pending.id, brand=invoice.payment.brand,
                 last4=invoice.payment.last4)


def _completed_elsewhere(deps: Deps, actor: str, state: TenantState, sub: Subscription, pending: PendingPayment,
                         charge: Charge) -> PaymentOutcome:
    """The subscription no longer carries this payment. If its invoice exists, paid by this very charge,
    another run completed it: that is the result. Otherwise the payment was abandoned while the charge
    went through: the charge is refunded, so that nothing is paid for a change that did not happen."""
    invoice = deps.repo.get_invoice(state.tenant.id, pending.invoice_id) if pending.invoice_id else None
    if invoice is not None and invoice.payment is not None and invoice.payment.charge_id == charge.id:
        return PaymentOutcome(view(state, sub, deps.clock.now()), invoice)
    _refund(deps, charge, pending)
    raise PaymentRefunded(
        "The payment could not be applied (it was abandoned in the meantime) and was refunded in full; "
        "nothing changed. Pay again.", payment_id=pending.id,
    )


def _refund_and_release(deps: Deps, actor: str, state: TenantState, sub: Subscription, pending: PendingPayment,
                        charge: Charge | None) -> NoReturn:
    if charge is not None:
        _refund(deps, charge, pending)
    _drop(deps, actor, state.tenant.id, sub, pending, charge, reason="refunded")
    raise PaymentRefunded(
        "The invoice was closed while the payment was under way; the charge was refunded in full.",
        payment_id=pending.id, invoice_id=pending.invoice_id,
    )


def _refund(deps: Deps, charge: Charge, pending: PendingPayment) -> None:
    _gateway(deps).refund(charge.id, idempotency_key=f"{pending.id}-refund")


def _drop(deps: Deps, actor: str, tenant_id: str, sub: Subscription, pending: PendingPayment,
          charge: Charge | None, *, reason: str) -> None:
    """Release the lock: nothing was charged (or it was refunded), so nothing else changes; no invoice
    is issued and no number consumed. A decline is recorded in the activity history."""
    current: Subscription | None = sub
    for attempt in range(COMPLETION_ATTEMPTS):
        if current is None:
            state = deps.repo.load_tenant(tenant_id)
            current = state.subscription(sub.id) if state else None
        if current is None or current.pending_payment is None or current.pending_payment.id != pending.id:
            return  # already released (or completed) by someone else
        now = deps.clock.now()
        changes = Changeset(tenant_id).write(payments.drop_payment(current))
        if charge is not None and charge.status == "declined":
            changes.record(audit(tenant_id, "payment.declined", actor, sub.id, now, payment_id=pending.id,
                                 kind=pending.kind, amount=pending.amount, currency=pending.currency,
                                 decline_code=charge.decline_code, payment_method_id=pending.payment_method_id))
        elif reason == "abandoned":
            changes.record(audit(tenant_id, "payment.abandoned", actor, sub.id, now, payment_id=pending.id,
                                 kind=pending.kind, amount=pending.amount, currency=pending.currency))
        try:
            deps.repo.commit(changes)
            return
        except ConcurrentUpdate:
            if attempt == COMPLETION_ATTEMPTS - 1:
                raise
            current = None

