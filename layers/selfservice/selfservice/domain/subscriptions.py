"""Rules of the self-service changes that move no money: seat reductions, cancellations and their
undo (SPEC 2.6, 2.7), and the managed-subscription refusals (SPEC 2.8). Each rule is a pure function
from the current state to the new state, or a typed refusal."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from selfservice.domain.catalog import Plan
from selfservice.domain.errors import (
    AcknowledgementRequired,
    CancellationScheduled,
    ChangeAlreadyEffective,
    InvalidSeatCount,
    InvoiceOpen,
    ManagedByAccountManager,
    ManagedByReseller,
    NothingScheduled,
    PaymentInProgress,
    PeriodClosing,
    RenewalAlreadyPaid,
    SubscriptionNotActive,
)
from selfservice.domain.licences import require_seats_cover_users
from selfservice.domain.model import (
    Acknowledgement,
    ScheduledCancellation,
    ScheduledReduction,
    Subscription,
    User,
)
from selfservice.domain.terms import iso
from selfservice.domain.wording import Wording


def require_self_service(sub: Subscription) -> None:
    """Enterprise subscriptions change only through the account manager, reseller-bought ones only
    through the reseller; the refusal names whom to contact."""
    contact = sub.managed_by
    if sub.edition == "enterprise":
        details = {"contact": {"kind": "account_manager", "name": contact.name, "email": contact.email}} \
            if contact else {}
        who = f" ({contact.name}, {contact.email})" if contact else ""
        raise ManagedByAccountManager(
            f"Changes to an Enterprise subscription go through your account manager{who}.", **details
        )
    if sub.channel == "reseller":
        details = {"contact": {"kind": "reseller", "name": contact.name, "email": contact.email}} \
            if contact else {}
        who = f" {contact.name}" if contact else " your reseller"
        raise ManagedByReseller(f"This subscription was bought through{who}; changes go through them.",
                                **details)


def require_period_open(sub: Subscription, now: datetime) -> None:
    """Between the end of a term and the period-end applier's next run (a few minutes), the term's
    outcome is being settled: a change then would take effect in the past and could not be undone."""
    if now >= sub.current_period_end:
        raise PeriodClosing(
            "The current period has just ended and is being renewed or closed; try again in a few minutes.",
            period_end=iso(sub.current_period_end),
        )


# How long a client should wait before trying again while a payment is under way: a charge normally
# settles within seconds (one whose outcome is unknown waits for the client's retry or reconciliation).
PAYMENT_SETTLING = timedelta(seconds=30)


def require_no_pending_payment(sub: Subscription, now: datetime) -> None:
    """A payment under way is the subscription's lock (services/payments.py): no other change may
    interleave with it, since the change it pays for is applied only once the charge has succeeded."""
    pending = sub.pending_payment
    if pending is None:
        return
    raise PaymentInProgress(
        "A payment for this subscription is in progress; try again in a moment.",
        payment_id=pending.id, kind=pending.kind,
        retry_after=iso(max(pending.started_at + PAYMENT_SETTLING, now)),
    )


def require_active(sub: Subscription) -> None:
    if sub.status == "past_due":
        raise InvoiceOpen(
            "The subscription has an unpaid invoice; pay it first.", invoice_id=sub.open_invoice_id
        )
    if sub.status != "active":
        raise SubscriptionNotActive(f"The subscription is {sub.status}.", status=sub.status)


def acknowledge(acknowledged: bool, wording: Wording, actor: str, now: datetime,
                shown_version: str | None = None) -> Acknowledgement:
    """Without the explicit "I understand", nothing changes. If the client says which version of the
    wording it showed, it must be the current one."""
    if not acknowledged:
        raise AcknowledgementRequired(
            "Tick \"I understand\" to confirm this change.",
            acknowledgement={"text": wording.text, "version": wording.version},
        )
    if shown_version is not None and shown_version != wording.version:
        raise AcknowledgementRequired(
            "The wording you confirmed has changed; review it and confirm again.",
            acknowledgement={"text": wording.text, "version": wording.version},
        )
    return Acknowledgement(wording.version, actor, now)


def check_reduction(sub: Subscription, plan: Plan, target: int, users: Iterable[User], now: datetime) -> None:
    """Everything a reduction to `target` seats must satisfy, without the acknowledgement (so that a
    quote can tell the SAO before they confirm)."""
    require_self_service(sub)
    require_active(sub)
    require_no_pending_payment(sub, now)
    if sub.renewal is not None:
        raise RenewalAlreadyPaid(
            "The next period is already paid for; its seats cannot be reduced.",
            renewal_seats=sub.renewal.seats,
        )
    if sub.cancellation is not None:
        raise CancellationScheduled(
            "The subscription is cancelled at the end of the period; undo the cancellation first.",
            cancel_at=iso(sub.cancellation.cancel_at),
        )
    require_period_open(sub, now)
    plan.check_seats(target)
    if target >= sub.seats:
        raise InvalidSeatCount(
            f"A reduction must go below the current {sub.seats} seats.", seats=target, current_seats=sub.seats
        )
    require_seats_cover_users(target, users, now)


def schedule_reduction(sub: Subscription, plan: Plan, target: int, users: Iterable[User], now: datetime,
                       ack: Acknowledgement) -> Subscription:
    """The reduction takes effect when the current term ends; a new reduction replaces a scheduled one."""
    check_reduction(sub, plan, target, users, now)
    reduction = ScheduledReduction(target, sub.current_period_end, ack.accepted_by, now, ack)
    return sub.bump(scheduled_reduction=reduction)


def undo_reduction(sub: Subscription, now: datetime) -> Subscription:
    require_self_service(sub)
    if sub.scheduled_reduction is None:
        raise NothingScheduled("No seat reduction is scheduled.")
    require_no_pending_payment(sub, now)
    if now >= sub.scheduled_reduction.effective_at:
        raise ChangeAlreadyEffective(
            "The reduction has already taken effect.", effective_at=iso(sub.scheduled_reduction.effective_at)
        )
    return sub.bump(scheduled_reduction=None)


def check_cancellation(sub: Subscription, now: datetime) -> None:
    require_self_service(sub)
    require_active(sub)
    require_no_pending_payment(sub, now)
    require_period_open(sub, now)
    if sub.cancellation is not None:
        raise CancellationScheduled(
            "A cancellation is already scheduled.", cancel_at=iso(sub.cancellation.cancel_at)
        )


def schedule_cancellation(sub: Subscription, now: datetime, ack: Acknowledgement,
                          reason: str | None) -> Subscription:
    """Takes effect at the end of the last paid term: the current one, or the prepaid next one."""
    check_cancellation(sub, now)
    cancellation = ScheduledCancellation(sub.last_paid_period_end, ack.accepted_by, now, reason, ack)
    return sub.bump(cancellation=cancellation)


def undo_cancellation(sub: Subscription, now: datetime) -> Subscription:
    require_self_service(sub)
    if sub.cancellation is None:
        raise NothingScheduled("No cancellation is scheduled.")
    require_no_pending_payment(sub, now)
    if now >= sub.cancellation.cancel_at or sub.status == "ended":
        raise ChangeAlreadyEffective(
            "The cancellation has already taken effect.", cancel_at=iso(sub.cancellation.cancel_at)
        )
    return sub.bump(cancellation=None)


def check_upgrade_request(sub: Subscription) -> None:
    require_self_service(sub)
    if sub.status == "ended":
        raise SubscriptionNotActive("The subscription has ended.", status=sub.status)


def summary(sub: Subscription) -> dict[str, object]:
    """The state recorded as `before`/`after` in the audit trail."""
    return {
        "seats": sub.seats,
        "status": sub.status,
        "current_period_start": iso(sub.current_period_start),
        "current_period_end": iso(sub.current_period_end),
        "scheduled_reduction": (
            {"seats": sub.scheduled_reduction.seats, "effective_at": iso(sub.scheduled_reduction.effective_at)}
            if sub.scheduled_reduction else None
        ),
        "cancel_at": iso(sub.cancel_at) if sub.cancel_at else None,
        "renewal": (
            {"seats": sub.renewal.seats, "period_start": iso(sub.renewal.period_start),
             "period_end": iso(sub.renewal.period_end)}
            if sub.renewal else None
        ),
    }


def renewal_period(sub: Subscription, now: datetime) -> tuple[datetime, datetime, datetime]:
    """(anchor, start, end) of the term a renewal pays for. An active subscription renews its next term;
    an ended one starts a new term at the moment of payment, anchored there."""
    from selfservice.domain.terms import next_period_end

    if sub.status == "ended":
        return now, now, next_period_end(now, now, sub.term)
    start = sub.current_period_end
    return sub.billing_anchor, start, next_period_end(sub.billing_anchor, start, sub.term)


def check_renewal(sub: Subscription, plan: Plan, seats: int, users: Iterable[User], now: datetime) -> None:
    from selfservice.domain.errors import AlreadyRenewed

    require_self_service(sub)
    if sub.status == "past_due":
        raise InvoiceOpen(
            "The subscription has an unpaid invoice; pay it before renewing.", invoice_id=sub.open_invoice_id
        )
    if sub.status == "active" and sub.renewal is not None:
        raise AlreadyRenewed(
            "The next period is already paid for.",
            period_start=iso(sub.renewal.period_start), period_end=iso(sub.renewal.period_end),
        )
    plan.check_seats(seats)
    require_seats_cover_users(seats, users, now)


def check_increase(sub: Subscription, plan: Plan, seats: int, now: datetime) -> None:
    from selfservice.domain.errors import SeatReductionPending

    require_self_service(sub)
    require_active(sub)
    if sub.scheduled_reduction is not None:
        raise SeatReductionPending(
            "A seat reduction is scheduled; undo it before adding seats.",
            scheduled_seats=sub.scheduled_reduction.seats,
        )
    plan.check_seats(seats)
    if seats <= sub.seats:
        raise InvalidSeatCount(
            f"The new total must be above the current {sub.seats} seats.", seats=seats, current_seats=sub.seats
        )
    if sub.renewal is not None:
        plan.check_seats(sub.renewal.seats + seats - sub.seats)
    require_period_open(sub, now)
