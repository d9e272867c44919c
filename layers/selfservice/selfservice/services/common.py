from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from selfservice.domain.errors import NotFound
from selfservice.domain.ids import new_id
from selfservice.domain.licences import active_users_at
from selfservice.domain.model import Acknowledgement, AuditEvent, Subscription, TenantState
from selfservice.services import Caller, Deps


@dataclass(frozen=True, slots=True)
class SubscriptionView:
    """A subscription as the portal tile shows it: with the tenant's active users at this moment."""

    subscription: Subscription
    active_users: int


def load_state(deps: Deps, caller: Caller) -> TenantState:
    state = deps.repo.load_tenant(caller.tenant_id)
    if state is None:
        # A token for a tenant that does not exist sees nothing, exactly like another tenant's object.
        raise NotFound("The account does not exist.")
    return state


def find_subscription(state: TenantState, subscription_id: str) -> Subscription:
    sub = state.subscription(subscription_id)
    if sub is None:
        raise NotFound("No such subscription.", subscription_id=subscription_id)
    return sub


def view(state: TenantState, sub: Subscription, now: datetime) -> SubscriptionView:
    return SubscriptionView(sub, active_users_at(state.users, now))


def audit(tenant_id: str, event_type: str, actor: str, subject_id: str, now: datetime, *,
          before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
          acknowledgement: Acknowledgement | None = None, **data: Any) -> AuditEvent:
    return AuditEvent(tenant_id, new_id("evt", now), event_type, now, actor, subject_id,
                      before, after, acknowledgement, data)
