"""Subscription flows that move no money: read, quote, reduce and undo, cancel and undo, upgrade
request (SPEC 2.2, 2.6, 2.7, 2.8)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from selfservice.domain import quotes
from selfservice.domain import subscriptions as rules
from selfservice.domain.errors import InvalidInput
from selfservice.domain.ids import new_id
from selfservice.domain.model import Contact
from selfservice.domain.quotes import Quote
from selfservice.domain.terms import iso
from selfservice.domain.wording import (
    CANCELLATION,
    CANCELLATION_UNDO,
    SEAT_REDUCTION,
    SEAT_REDUCTION_UNDO,
)
from selfservice.ports import Changeset
from selfservice.services import Caller, Deps
from selfservice.services.common import SubscriptionView, audit, find_subscription, load_state, view


def list_subscriptions(deps: Deps, caller: Caller) -> list[SubscriptionView]:
    state = load_state(deps, caller)
    now = deps.clock.now()
    return [view(state, s, now) for s in state.subscriptions]


def get_subscription(deps: Deps, caller: Caller, subscription_id: str) -> SubscriptionView:
    state = load_state(deps, caller)
    return view(state, find_subscription(state, subscription_id), deps.clock.now())


def quote(deps: Deps, caller: Caller, subscription_id: str,
          change: Literal["renewal", "increase", "reduction"], seats: int) -> Quote:
    state = load_state(deps, caller)
    sub = find_subscription(state, subscription_id)
    plan = deps.catalog.plan(sub.plan_id)
    now = deps.clock.now()
    if change == "renewal":
        return quotes.quote_renewal(sub, plan, seats, state.users, state.billing_info, now)
    if change == "increase":
        return quotes.quote_increase(sub, plan, seats, state.billing_info, now)
    if change == "reduction":
        return quotes.quote_reduction(sub, plan, seats, state.users, state.billing_info, now)
    raise InvalidInput("change must be renewal, increase or reduction.", field="change")


def schedule_seat_reduction(deps: Deps, caller: Caller, subscription_id: str, seats: int, acknowledged: bool,
                            wording_version: str | None = None) -> SubscriptionView:
    state = load_state(deps, caller)
    sub = find_subscription(state, subscription_id)
    plan = deps.catalog.plan(sub.plan_id)
    now = deps.clock.now()
    # Rules first, so a refusal reads the same with or without the box ticked.
    rules.check_reduction(sub, plan, seats, state.users, now)
    ack = rules.acknowledge(acknowledged, SEAT_REDUCTION, caller.subject, now, wording_version)
    updated = rules.schedule_reduction(sub, plan, seats, state.users, now, ack)
    event = audit(caller.tenant_id, "subscription.reduction_scheduled", caller.subject, sub.id, now,
                  before=rules.summary(sub), after=rules.summary(updated), acknowledgement=ack,
                  seats=seats, effective_at=iso(updated.current_period_end))
    deps.repo.commit(Changeset(caller.tenant_id).write(updated).record(event))
    return view(state, updated, now)


def undo_seat_reduction(deps: Deps, caller: Caller, subscription_id: str, acknowledged: bool,
                        wording_version: str | None = None) -> SubscriptionView:
    state = load_state(deps, caller)
    sub = find_subscription(state, subscription_id)
    now = deps.clock.now()
    rules.undo_reduction(sub, now)  # refuse before asking for the acknowledgement
    ack = rules.acknowledge(acknowledged, SEAT_REDUCTION_UNDO, caller.subject, now, wording_version)
    updated = rules.undo_reduction(sub, now)
    event = audit(caller.tenant_id, "subscription.reduction_undone", caller.subject, sub.id, now,
                  before=rules.summary(sub), after=rules.summary(updated), acknowledgement=ack)
    deps.repo.commit(Changeset(caller.tenant_id).write(updated).record(event))
    return view(state, updated, now)


def schedule_cancellation(deps: Deps, caller: Caller, subscription_id: str, acknowledged: bool,
                          reason: str | None = None, wording_version: str | None = None) -> SubscriptionView:
    state = load_state(deps, caller)
    sub = find_subscription(state, subscription_id)
    now = deps.clock.now()
    rules.check_cancellation(sub, now)
    ack = rules.acknowledge(acknowledged, CANCELLATION, caller.subject, now, wording_version)
    updated = rules.schedule_cancellation(sub, now, ack, reason)
    event = audit(caller.tenant_id, "subscription.cancellation_scheduled", caller.subject, sub.id, now,
                  before=rules.summary(sub), after=rules.summary(updated), acknowledgement=ack, reason=reason)
    deps.repo.commit(Changeset(caller.tenant_id).write(updated).record(event))
    return view(state, updated, now)


def undo_cancellation(deps: Deps, caller: Caller, subscription_id: str, acknowledged: bool,
                      wording_version: str | None = None) -> SubscriptionView:
    state = load_state(deps, caller)
    sub = find_subscription(state, subscription_id)
    now = deps.clock.now()
    rules.undo_cancellation(sub, now)
    ack = rules.acknowledge(acknowledged, CANCELLATION_UNDO, caller.subject, now, wording_version)
    updated = rules.undo_cancellation(sub, now)
    event = audit(caller.tenant_id, "subscription.cancellation_undone", caller.subject, sub.id, now,
                  before=rules.summary(sub), after=rules.summary(updated), acknowledgement=ack)
    deps.repo.commit(Changeset(caller.tenant_id).write(updated).record(event))
    return view(state, updated, now)


@dataclass(frozen=True, slots=True)
class UpgradeReceipt:
    id: str
    subscription_id: str
    message: str | None
    account_manager: Contact
    requested_at: str


def request_upgrade(deps: Deps, caller: Caller, subscription_id: str, message: str | None) -> UpgradeReceipt:
    """Recorded as an audit/outbox record, which the publisher forwards to the account manager's queue."""
    state = load_state(deps, caller)
    sub = find_subscription(state, subscription_id)
    now = deps.clock.now()
    rules.check_upgrade_request(sub)
    request_id = new_id("upg", now)
    manager = state.tenant.account_manager
    event = audit(caller.tenant_id, "subscription.upgrade_requested", caller.subject, sub.id, now,
                  request_id=request_id, message=message,
                  account_manager={"name": manager.name, "email": manager.email})
    # The subscription itself does not change; writing it with a version bump would serialise nothing
    # useful, so the changeset carries only the record.
    deps.repo.commit(Changeset(caller.tenant_id).record(event))
    return UpgradeReceipt(request_id, sub.id, message, manager, now.isoformat())
