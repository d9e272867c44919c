"""Licence assignments of the tenant (SPEC 2.1). Each change bumps the licensed subscription's version
in the same transaction, so an assignment and a concurrent seat reduction can never both pass their
checks on stale counts."""

from __future__ import annotations

from selfservice.domain import users as rules
from selfservice.domain.errors import NoActiveSubscription, NotFound
from selfservice.domain.ids import new_id
from selfservice.domain.model import User
from selfservice.ports import Changeset
from selfservice.services import Caller, Deps
from selfservice.services.common import audit, load_state


def list_users(deps: Deps, caller: Caller) -> list[User]:
    return sorted(load_state(deps, caller).users, key=lambda u: u.email)


def assign_user(deps: Deps, caller: Caller, email: str) -> User:
    state = load_state(deps, caller)
    sub = state.licensed_subscription()
    if sub is None:
        raise NoActiveSubscription("The tenant has no subscription whose licences could be assigned.")
    now = deps.clock.now()
    user = rules.assign_user(state.users, sub, email, new_id("usr", now), now)
    event = audit(caller.tenant_id, "user.assigned", caller.subject, user.id, now,
                  after={"email": user.email, "status": user.status}, subscription_id=sub.id)
    deps.repo.commit(Changeset(caller.tenant_id).write(user).write(sub.bump()).record(event))
    return user


def remove_user(deps: Deps, caller: Caller, user_id: str) -> User:
    state = load_state(deps, caller)
    user = state.user(user_id)
    if user is None:
        raise NotFound("No such user.", user_id=user_id)
    now = deps.clock.now()
    removed = rules.remove_user(user, now)
    changes = Changeset(caller.tenant_id).write(removed)
    sub = state.licensed_subscription()
    if sub is not None:
        changes.write(sub.bump())
    changes.record(audit(caller.tenant_id, "user.removed", caller.subject, user.id, now,
                         before={"email": user.email, "status": user.status},
                         after={"email": removed.email, "status": removed.status}))
    deps.repo.commit(changes)
    return removed
