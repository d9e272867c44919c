"""The period-end applier (SPEC 2.9, docs/period-end.md): run every 5 minutes by a schedule, it finds the
subscriptions whose term has ended, whose payment retry is due or whose payment was left unfinished,
through the due-work index (one Query per shard, never a scan), and takes each one step further: ends
it, rolls it over, renews it and charges the renewal, or retries the open invoice. The rules are
`domain/period_end.py`; the charges go through the payment engine (`services/payments.py`).

Exactly once: every step is one transaction conditioned on the subscription's version (the item the
decision was made on, so also on the term being closed); the renewal invoice's id and each charge's
gateway key are derived from the term and the attempt. A second copy of the applier, a rerun, or a run
after a crash can therefore only lose the race for a write (and leave the subscription to the winner)
or repeat a charge under the same key (which the gateway answers with the first outcome).

Time budget: `out_of_time()` is asked before every page and every subscription; the run stops cleanly
there and reports `remaining`, and the next run carries on (the index still holds the rest)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from selfservice.domain import payments as payment_rules
from selfservice.domain import period_end as rules
from selfservice.domain.cards import is_expired
from selfservice.domain.errors import ConcurrentUpdate
from selfservice.domain.invoices import Invoice
from selfservice.domain.model import AuditEvent, PaymentMethod, Subscription, TenantState
from selfservice.domain.subscriptions import summary
from selfservice.domain.terms import iso
from selfservice.ports import DUE_SHARDS, INVOICE_SEQUENCE, Changeset
from selfservice.services import Deps
from selfservice.services import payments as engine
from selfservice.services.common import audit

# The actor of what the applier records (the activity history shows it as the system, not the SAO).
ACTOR = "system:period-end"
PAGE_SIZE = 100
# A step that loses a race to a change made at the same moment (a user assigned, another invoice taking
# the next number) decides again on fresh state this many times, then leaves it to the next run.
RACE_ATTEMPTS = 3
MAX_REPORTED_ERRORS = 20
# Each run starts at another shard (every 5 minutes the next one), so a run that keeps running out of
# time cannot starve the last shards, and two overlapping runs mostly work on different shards.
SCHEDULE_PERIOD_SECONDS = 300

Counter = Literal["renewed", "rolled_over", "ended", "past_due", "retried", "reactivated", "reconciled",
                  "payment_pending", "skipped", "failed"]
# What became of one attempt to charge an open invoice.
Charged = Literal["paid", "past_due", "ended", "pending", "refunded", "skipped"]


@dataclass
class PeriodEndSummary:
    """What one run did. `processed` counts the due subscriptions it looked at; each of them also
    counts under what happened (`retried` and `reconciled` say how, alongside the outcome)."""

    processed: int = 0
    renewed: int = 0  # renewed automatically and paid
    rolled_over: int = 0  # to a prepaid term, or an Enterprise / reseller term (no charge)
    ended: int = 0  # cancelled at the term's end, or after the last failed retry
    past_due: int = 0  # the renewal charge or a retry failed; retries continue
    retried: int = 0  # retries of an open invoice
    reactivated: int = 0  # a retry paid the open invoice
    reconciled: int = 0  # an unfinished payment settled
    payment_pending: int = 0  # the gateway's answer was lost: settled by a later run
    skipped: int = 0  # nothing to do after all (another copy or a user got there first, not due any more)
    failed: int = 0  # an unexpected error; the subscription stays due and is tried again next run
    remaining: bool = False  # stopped by the time budget: the next run carries on
    errors: list[dict[str, str]] = field(default_factory=list)

    def count(self, what: Counter) -> None:
        setattr(self, what, getattr(self, what) + 1)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class InvoiceRetry:
    """The outcome of retrying a past_due subscription's open invoice (also what making a card the
    default reports): `paid` (active again), `failed` (still past_due, or ended after the last retry),
    `pending` (the gateway's answer was lost; settled by the applier), `not_attempted`."""

    subscription_id: str
    invoice_id: str | None
    status: Literal["paid", "failed", "pending", "not_attempted"]
    subscription_status: str
    decline_code: str | None = None


def _never() -> bool:
    return False


# --- the run --------------------------------------------------------------------------------------

def run_period_end(deps: Deps, *, out_of_time: Callable[[], bool] = _never,
                   page_size: int = PAGE_SIZE) -> PeriodEndSummary:
    """Work through every shard of the due-work index up to now, one subscription at a time, until
    done or `out_of_time()`."""
    now = deps.clock.now()
    result = PeriodEndSummary()
    seen: set[str] = set()
    first = int(now.timestamp() // SCHEDULE_PERIOD_SECONDS) % DUE_SHARDS
    for offset in range(DUE_SHARDS):
        shard = (first + offset) % DUE_SHARDS
        cursor: str | None = None
        while True:
            if out_of_time():
                result.remaining = True
                return result
            page = deps.repo.due_subscriptions(shard, now, page_size, cursor)
            for indexed in page.items:
                if indexed.id in seen:  # moved to a later key during this run and met again
                    continue
                if out_of_time():
                    result.remaining = True
                    return result
                seen.add(indexed.id)
                result.processed += 1
                try:
                    outcome = apply_due_step(deps, indexed)
                except Exception as error:  # one subscription must not stop the others
                    outcome = ["failed"]
                    if len(result.errors) < MAX_REPORTED_ERRORS:
                        result.errors.append({"tenant_id": indexed.tenant_id, "subscription_id": indexed.id,
                                              "error": type(error).__name__, "message": str(error)[:300]})
                for what in outcome:
                    result.count(what)
            cursor = page.next_cursor
            if cursor is None:
                break
    return result


def apply_due_step(deps: Deps, indexed: Subscription) -> list[Counter]:
    """Take one due subscription (as the index showed it) one step further."""
    now = deps.clock.now()
    step = rules.next_step(indexed, now)
    try:
        match step:
            case None:
                return ["skipped"]  # the index was behind: it is not due (any more)
            case "settle_payment":
                return _settle_payment(deps, indexed)
            case "end" | "roll_over_prepaid" | "roll_over_managed":
                return [_without_charge(deps, indexed, step, now)]
            case "renew":
                return _renew(deps, indexed.tenant_id, indexed.id)
            case "retry":
                retried = _retry(deps, indexed.tenant_id, indexed.id, actor=ACTOR, scheduled=True)
                return ["retried", _counter(retried.outcome, renewal=False)] if retried.outcome != "skipped" \
                    else ["skipped"]
    except ConcurrentUpdate:
        return ["skipped"]  # someone changed it meanwhile: it stays due, the next run decides again


def retry_open_invoice(deps: Deps, tenant_id: str, subscription_id: str, *, actor: str,
                       payment_method_id: str | None = None) -> InvoiceRetry:
    """Charge a past_due subscription's open invoice now, ahead of its retry schedule (a new default
    card: SPEC 2.9), with `payment_method_id` or the default card. A failure counts as an attempt but
    keeps the schedule (except when a scheduled retry was due anyway: then it was that one)."""
    try:
        retried = _retry(deps, tenant_id, subscription_id, actor=actor, scheduled=False,
                         payment_method_id=payment_method_id)
    except ConcurrentUpdate:
        retried = _Retried("skipped")
    status: Literal["paid", "failed", "pending", "not_attempted"]
    match retried.outcome:
        case "paid":
            status, after = "paid", "active"
        case "past_due" | "ended":
            status, after = "failed", retried.outcome
        case "pending":
            status, after = "pending", "past_due"
        case _:
            status, after = "not_attempted", "past_due"
    return InvoiceRetry(subscription_id, retried.invoice_id, status, after, retried.decline_code)


# --- steps -----------------------------------------------------------------------------------------

def _without_charge(deps: Deps, sub: Subscription, step: str, now: datetime) -> Counter:
    """End a cancelled subscription, or roll it over to a prepaid or a managed term: no users, cards or
    invoices are needed, so the index's copy of the item is enough; the version condition makes a
    stale copy lose instead of writing."""
    if step == "end":
        updated = rules.end_cancelled(sub)
        assert sub.cancellation is not None and updated.ended_at is not None
        event = audit(sub.tenant_id, "subscription.ended", ACTOR, sub.id, now, before=summary(sub),
                      after=summary(updated), reason="cancelled", ended_at=iso(updated.ended_at),
                      cancellation_reason=sub.cancellation.reason, invoice_id=None)
        deps.repo.commit(Changeset(sub.tenant_id).write(updated).record(event))
        return "ended"
    if step == "roll_over_prepaid":
        assert sub.renewal is not None
        updated, source, invoice_id = rules.roll_over_prepaid(sub), "prepaid", sub.renewal.invoice_id
    else:
        updated, source, invoice_id = rules.roll_over_managed(sub), "managed", None
    deps.repo.commit(Changeset(sub.tenant_id).write(updated).record(_term_started(sub, updated, now, source,
                                                                                  invoice_id)))
    return "rolled_over"


def _renew(deps: Deps, tenant_id: str, subscription_id: str) -> list[Counter]:
    """The automatic renewal: one transaction issues the open invoice of the next term (its number
    taken in the same transaction), starts that term with the seats of the scheduled reduction (never
    below the active users) or the current ones, and records the invoice's first charge; then the
    default card is charged under the charge's derived key."""
    for attempt in range(RACE_ATTEMPTS):
        state = deps.repo.load_tenant(tenant_id)
        sub = state.subscription(subscription_id) if state else None
        now = deps.clock.now()
        if state is None or sub is None or rules.next_step(sub, now) != "renew":
            return ["skipped"]  # another copy renewed it, or a user changed it: nothing to do now
        plan = deps.catalog.plan(sub.plan_id)
        seats = rules.renewal_seats(sub, state.users, now)
        number = deps.repo.last_number(INVOICE_SEQUENCE) + 1
        invoice = rules.renewal_invoice(sub, plan, seats.seats, invoice_id=rules.renewal_invoice_id(sub),
                                        sequence=number, billing=state.billing_info, seller=deps.catalog.seller,
                                        issued_at=now)
        card, problem = _card(state, None, now)
        if invoice.total == 0:  # a free plan: nothing to charge
            invoice = replace(invoice, status="paid")
        pending = rules.invoice_charge(invoice, card.id, seats.seats, attempt=1, now=now) \
            if card is not None and invoice.status == "open" else None
        started = rules.start_renewed_term(sub, seats.seats, invoice, pending)
        changes = Changeset(tenant_id).take_number(INVOICE_SEQUENCE, number)
        if seats.requested is not None:
            changes.record(audit(tenant_id, "subscription.reduction_applied", ACTOR, sub.id, now,
                                 requested_seats=seats.requested, applied_seats=seats.seats,
                                 active_users=seats.active_users, clamped=seats.clamped,
                                 previous_seats=sub.seats, effective_at=iso(started.current_period_start)))
        changes.record(_term_started(sub, started, now, "automatic_renewal", invoice.id))
        changes.record(_invoice_issued(invoice, now))
        failure: Subscription | None = None
        if invoice.status == "paid":
            changes.record(audit(tenant_id, "subscription.renewed", ACTOR, sub.id, now, before=summary(sub),
                                 after=summary(started), invoice_id=invoice.id, seats=started.seats,
                                 period_start=iso(started.current_period_start),
                                 period_end=iso(started.current_period_end), restarted=False, automatic=True))
            changes.write(started).write(invoice)
        elif pending is None:  # no usable card: the first attempt fails without a charge
            # The new term and the failure are one write of the subscription: one version step.
            failure = replace(rules.payment_failed(started, now), version=started.version)
            invoice = _close_if_final(invoice, failure, new=True)
            changes.write(failure).write(invoice)
            for event in _failure_events(started, failure, invoice, None, problem, now, ACTOR):
                changes.record(event)
        else:
            changes.write(started).write(invoice)
        try:
            deps.repo.commit(changes)
        except ConcurrentUpdate:
            if attempt == RACE_ATTEMPTS - 1:
                raise
            continue
        if invoice.status == "paid":
            return ["renewed"]
        if failure is not None:
            return [failure.status]  # type: ignore[list-item]
        outcome, _code = _charge(deps, ACTOR, state, started, invoice)
        return [_counter(outcome, renewal=True)]
    raise AssertionError("unreachable")


@dataclass(frozen=True, slots=True)
class _Retried:
    outcome: Charged
    invoice_id: str | None = None
    decline_code: str | None = None


def _retry(deps: Deps, tenant_id: str, subscription_id: str, *, actor: str, scheduled: bool,
           payment_method_id: str | None = None) -> _Retried:
    """Charge the open invoice of a past_due subscription again: attempt n + 1, its key derived from
    the invoice and n + 1; the pending payment is written first, as for every charge."""
    state = deps.repo.load_tenant(tenant_id)
    sub = state.subscription(subscription_id) if state else None
    now = deps.clock.now()
    if state is None or sub is None or sub.status != "past_due" or sub.open_invoice_id is None \
            or sub.pending_payment is not None:
        return _Retried("skipped")
    if scheduled and rules.next_step(sub, now) != "retry":
        return _Retried("skipped")
    invoice = deps.repo.get_invoice(tenant_id, sub.open_invoice_id)
    if invoice is None or invoice.status != "open":
        return _Retried("skipped")
    card, problem = _card(state, payment_method_id, now)
    if card is None:
        return _Retried(_record_failure(deps, actor, tenant_id, sub, invoice, problem), invoice.id, problem)
    pending = rules.invoice_charge(invoice, card.id, sub.seats, attempt=sub.payment_attempts + 1, now=now)
    started = payment_rules.start_payment(sub, pending)
    deps.repo.commit(Changeset(tenant_id).write(started))
    outcome, code = _charge(deps, actor, state, started, invoice)
    return _Retried(outcome, invoice.id, code)


def _settle_payment(deps: Deps, indexed: Subscription) -> list[Counter]:
    """A payment under way that nobody finished. A client's (renewal, added seats, a paid invoice) is
    the engine's reconciliation: it looks the charge up and completes or abandons it, never charging.
    One of the applier's own is resumed: charged again under the same key, which charges nothing twice
    and returns the first outcome, and then recorded like the first time."""
    pending = indexed.pending_payment
    assert pending is not None
    if pending.request_key != rules.AUTOMATIC_PAYMENT:
        reconciled = engine.complete_pending_payment(deps, indexed.tenant_id, indexed.id)
        return ["reconciled"] if reconciled in ("completed", "abandoned", "refunded") else ["skipped"]
    state = deps.repo.load_tenant(indexed.tenant_id)
    sub = state.subscription(indexed.id) if state else None
    now = deps.clock.now()
    if state is None or sub is None or sub.pending_payment is None or sub.pending_payment.id != pending.id \
            or rules.next_step(sub, now) != "settle_payment" or pending.invoice_id is None:
        return ["skipped"]
    invoice = deps.repo.get_invoice(indexed.tenant_id, pending.invoice_id)
    outcome, _code = _charge(deps, ACTOR, state, sub, invoice)
    if outcome in ("pending", "skipped"):
        return [_counter(outcome, renewal=sub.status == "active")]
    return ["reconciled", _counter(outcome, renewal=sub.status == "active")]


# --- charging an open invoice, and recording a failure ---------------------------------------------

def _charge(deps: Deps, actor: str, state: TenantState, sub: Subscription,
            invoice: Invoice | None) -> tuple[Charged, str | None]:
    """Charge the pending payment (the engine completes a success: invoice paid, subscription active);
    a failure is recorded here. An unknown outcome keeps the payment pending for the next run."""
    charged = engine.charge_pending_invoice(deps, actor, state, sub, invoice)
    match charged.status:
        case "paid":
            return "paid", None
        case "unknown":
            return "pending", None
        case "refunded":
            return "refunded", None
    if invoice is None:
        return "skipped", charged.decline_code
    return _record_failure(deps, actor, state.tenant.id, sub, invoice, charged.decline_code), charged.decline_code


def _record_failure(deps: Deps, actor: str, tenant_id: str, sub: Subscription, invoice: Invoice,
                    code: str | None) -> Literal["past_due", "ended", "skipped"]:
    """One transaction: the pending payment released, the attempt counted, the next retry scheduled
    (or the subscription ended and the invoice uncollectible), with `payment.failed`. A lost race is
    decided again on fresh state, unless someone else has settled this payment meanwhile."""
    pending = sub.pending_payment
    current = sub
    for attempt in range(RACE_ATTEMPTS):
        if attempt > 0:
            state = deps.repo.load_tenant(tenant_id)
            fresh = state.subscription(sub.id) if state else None
            fresh_invoice = deps.repo.get_invoice(tenant_id, invoice.id)
            if fresh is None or fresh_invoice is None or pending is None or fresh.pending_payment is None \
                    or fresh.pending_payment.id != pending.id:
                return "skipped"
            current, invoice = fresh, fresh_invoice
        now = deps.clock.now()
        failed = rules.payment_failed(current, now)
        closed = _close_if_final(invoice, failed, new=False)
        changes = Changeset(tenant_id).write(failed)
        if closed is not invoice:
            changes.write(closed)
        for event in _failure_events(current, failed, closed, pending, code, now, actor):
            changes.record(event)
        try:
            deps.repo.commit(changes)
        except ConcurrentUpdate:
            if pending is None or attempt == RACE_ATTEMPTS - 1:
                raise
            continue
        return "ended" if failed.status == "ended" else "past_due"
    raise AssertionError("unreachable")


# --- helpers ---------------------------------------------------------------------------------------

def _card(state: TenantState, payment_method_id: str | None, now: datetime) -> tuple[PaymentMethod | None, str | None]:
    """The card to charge (the named one, else the default) or why there is none."""
    card_id = payment_method_id or state.tenant.default_payment_method_id
    card = state.payment_method(card_id) if card_id else None
    if card is None:
        return None, "no_payment_method"
    if is_expired(card.exp_month, card.exp_year, now):
        return None, "expired_card"
    return card, None


def _counter(outcome: Charged, *, renewal: bool) -> Counter:
    match outcome:
        case "paid":
            return "renewed" if renewal else "reactivated"
        case "pending":
            return "payment_pending"
        case "refunded":
            return "reconciled"
        case "past_due" | "ended" | "skipped":
            return outcome
    raise AssertionError(outcome)


def _close_if_final(invoice: Invoice, failed: Subscription, *, new: bool) -> Invoice:
    """The invoice of a subscription that ended for non-payment is uncollectible."""
    if failed.status != "ended":
        return invoice
    return replace(invoice, status="uncollectible") if new else invoice.mark_uncollectible()


def _term_started(before: Subscription, after: Subscription, now: datetime, source: str,
                  invoice_id: str | None) -> AuditEvent:
    return audit(before.tenant_id, "subscription.term_started", ACTOR, before.id, now, before=summary(before),
                 after=summary(after), source=source, seats=after.seats,
                 period_start=iso(after.current_period_start), period_end=iso(after.current_period_end),
                 invoice_id=invoice_id, charged=source == "automatic_renewal")


def _invoice_issued(invoice: Invoice, now: datetime) -> AuditEvent:
    return audit(invoice.tenant_id, "invoice.issued", ACTOR, invoice.id, now, number=invoice.number,
                 subscription_id=invoice.subscription_id, total=invoice.total, currency=invoice.currency,
                 status=invoice.status)


def _failure_events(before: Subscription, after: Subscription, invoice: Invoice, pending: Any,
                    code: str | None, now: datetime, actor: str) -> list[AuditEvent]:
    """`payment.failed`, and when it was the last chance `subscription.ended` + `invoice.uncollectible`."""
    tenant_id = before.tenant_id
    events = [audit(tenant_id, "payment.failed", actor, before.id, now, before=summary(before), after=summary(after),
                    invoice_id=invoice.id, payment_id=pending.id if pending else None, attempt=after.payment_attempts,
                    amount=invoice.total, currency=invoice.currency, decline_code=code,
                    payment_method_id=pending.payment_method_id if pending else None,
                    next_retry_at=iso(after.next_retry_at) if after.next_retry_at else None,
                    final=after.status == "ended")]
    if after.status == "ended":
        assert after.ended_at is not None
        events.append(audit(tenant_id, "subscription.ended", actor, before.id, now, before=summary(before),
                            after=summary(after), reason="payment_failed", ended_at=iso(after.ended_at),
                            cancellation_reason=None, invoice_id=invoice.id))
        events.append(audit(tenant_id, "invoice.uncollectible", actor, invoice.id, now, number=invoice.number,
                            subscription_id=invoice.subscription_id, total=invoice.total, currency=invoice.currency))
    return events
