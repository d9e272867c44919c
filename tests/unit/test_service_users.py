"""Licence assignments (SPEC 2.1) and optimistic locking, through the services and the in-memory repository."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from selfservice.adapters.clock import ManualClock
from selfservice.adapters.memory import InMemoryRepository
from selfservice.domain.errors import (
    BelowActiveUsers,
    ConcurrentUpdate,
    NoActiveSubscription,
    NoFreeSeats,
    NotFound,
    SeatReductionPending,
    UserAlreadyRemoved,
    UserExists,
)
from selfservice.domain.model import Subscription, TenantState
from selfservice.ports import Changeset, Page
from selfservice.services import Caller, Deps
from selfservice.services import subscriptions as flows
from selfservice.services import users as user_flows

from .builders import NOW, SAO, TENANT_ID, Provision, SetSubscription, prepaid


def state(repo: InMemoryRepository) -> TenantState:
    loaded = repo.load_tenant(TENANT_ID)
    assert loaded is not None
    return loaded


def sub_of(repo: InMemoryRepository) -> Subscription:
    return state(repo).subscriptions[0]


def test_assign_user_normalises_the_email_and_records_it(deps: Deps, caller: Caller, repo: InMemoryRepository,
                                                         provision: Provision) -> None:
    sub = provision(seats=5).subscription
    user = user_flows.assign_user(deps, caller, "  New.User@ACME.example ")
    assert (user.email, user.status, user.assigned_at, user.removed_at) == ("new.user@acme.example", "active",
                                                                           NOW, None)
    assert user.id.startswith("usr_")
    assert user in state(repo).users
    # the licensed subscription's version moves in the same transaction
    assert sub_of(repo).version == sub.version + 1
    event = repo.all_events(TENANT_ID)[-1]
    assert (event.type, event.actor, event.subject_id) == ("user.assigned", SAO, user.id)
    assert event.after == {"email": "new.user@acme.example", "status": "active"}
    assert event.data["subscription_id"] == sub.id


@pytest.mark.parametrize(
    "email",
    [
        pytest.param("user0@acme.example", id="same"),
        pytest.param("USER0@Acme.Example", id="other-case"),
        pytest.param("  user0@acme.example\t", id="surrounding-space"),
        pytest.param("sao@acme.example", id="the-sao"),
    ],
)
def test_assigning_an_existing_user_is_refused(deps: Deps, caller: Caller, provision: Provision, email: str) -> None:
    provisioned = provision(seats=10)
    with pytest.raises(UserExists) as refused:
        user_flows.assign_user(deps, caller, email)
    existing = {u.email: u.id for u in provisioned.users}
    assert refused.value.details == {"user_id": existing[email.strip().lower()]}


@pytest.mark.parametrize(
    ("seats", "users", "refused"),
    [
        # 3 seats, SAO + 1 user = 2 active: one more fits
        pytest.param(3, 1, False, id="one-free-seat"),
        # 3 seats, SAO + 2 users = 3 active: full
        pytest.param(3, 2, True, id="full"),
        pytest.param(1, 0, True, id="single-seat-taken-by-sao"),
    ],
)
def test_no_free_seats(deps: Deps, caller: Caller, repo: InMemoryRepository, provision: Provision,
                       seats: int, users: int, refused: bool) -> None:
    provision(seats=seats, users=users)
    commits = repo.commits
    if not refused:
        user_flows.assign_user(deps, caller, "new@acme.example")
        return
    with pytest.raises(NoFreeSeats) as error:
        user_flows.assign_user(deps, caller, "new@acme.example")
    assert error.value.details == {"seats": seats, "active_users": users + 1}
    assert repo.commits == commits


@pytest.mark.parametrize(
    ("target", "refused"),
    [
        # 10 seats, 3 active users, reduction to 4 scheduled: a 4th user fits, a 5th would not
        pytest.param(4, False, id="fits-the-scheduled-reduction"),
        pytest.param(3, True, id="would-exceed-the-scheduled-reduction"),
    ],
)
def test_assignment_respects_a_scheduled_reduction(deps: Deps, caller: Caller, provision: Provision,
                                                   target: int, refused: bool) -> None:
    sub = provision(seats=10, users=2).subscription
    flows.schedule_seat_reduction(deps, caller, sub.id, target, acknowledged=True)
    if not refused:
        user_flows.assign_user(deps, caller, "fourth@acme.example")
        with pytest.raises(SeatReductionPending):
            user_flows.assign_user(deps, caller, "fifth@acme.example")
        return
    with pytest.raises(SeatReductionPending) as error:
        user_flows.assign_user(deps, caller, "fourth@acme.example")
    assert error.value.details == {"scheduled_seats": 3, "active_users": 3}



@pytest.mark.parametrize(
    ("prepaid_seats", "refused"),
    [
        # 10 seats now, 3 active users (the SAO + 2), the next term already paid for: its seats count too
        pytest.param(4, False, id="fits-the-prepaid-next-term"),
        pytest.param(3, True, id="would-start-the-prepaid-term-below-its-users"),
    ],
)
def test_assignment_respects_the_prepaid_next_term(deps: Deps, caller: Caller, repo: InMemoryRepository,
                                                   provision: Provision, set_subscription: SetSubscription,
                                                   prepaid_seats: int, refused: bool) -> None:
    provision(seats=10, users=2)
    set_subscription(renewal=prepaid(prepaid_seats))
    commits = repo.commits
    if not refused:
        user_flows.assign_user(deps, caller, "fourth@acme.example")
        with pytest.raises(NoFreeSeats):
            user_flows.assign_user(deps, caller, "fifth@acme.example")
        return
    with pytest.raises(NoFreeSeats) as error:
        user_flows.assign_user(deps, caller, "fourth@acme.example")
    assert error.value.details == {"seats": 3, "active_users": 3, "renewal_seats": 3}
    assert repo.commits == commits

def test_remove_user_frees_the_seat_only_after_120_seconds(
        deps: Deps, caller: Caller, clock: ManualClock, repo: InMemoryRepository, provision: Provision) -> None:
    provisioned = provision(seats=3, users=2)  # full: 3 of 3
    leaving = provisioned.users[-1]
    removed = user_flows.remove_user(deps, caller, leaving.id)
    assert (removed.status, removed.removed_at, removed.version) == ("removed", NOW, leaving.version + 1)
    event = repo.all_events(TENANT_ID)[-1]
    assert (event.type, event.subject_id) == ("user.removed", leaving.id)
    assert (event.before, event.after) == ({"email": leaving.email, "status": "active"},
                                           {"email": leaving.email, "status": "removed"})
    assert flows.get_subscription(deps, caller, provisioned.subscription.id).active_users == 3

    clock.advance(119)
    with pytest.raises(NoFreeSeats):
        user_flows.assign_user(deps, caller, "new@acme.example")
    clock.advance(1)  # 120 s after the removal
    assert flows.get_subscription(deps, caller, provisioned.subscription.id).active_users == 2
    assert user_flows.assign_user(deps, caller, "new@acme.example").status == "active"


def test_removing_twice_is_refused(deps: Deps, caller: Caller, provision: Provision) -> None:
    user = provision().users[-1]
    user_flows.remove_user(deps, caller, user.id)
    with pytest.raises(UserAlreadyRemoved) as refused:
        user_flows.remove_user(deps, caller, user.id)
    assert refused.value.details == {"user_id": user.id}


def test_removing_an_unknown_user_is_not_found(deps: Deps, caller: Caller, provision: Provision) -> None:
    provision()
    other_tenant_user = provision(tenant_id="ten_other").users[-1]
    with pytest.raises(NotFound):
        user_flows.remove_user(deps, caller, "usr_nope")
    with pytest.raises(NotFound):
        user_flows.remove_user(deps, caller, other_tenant_user.id)


def test_reassigning_a_removed_user_reactivates_them(deps: Deps, caller: Caller, clock: ManualClock,
                                                     repo: InMemoryRepository, provision: Provision) -> None:
    user = provision(seats=5).users[-1]
    user_flows.remove_user(deps, caller, user.id)
    clock.advance(600)
    again = user_flows.assign_user(deps, caller, user.email.upper())
    assert (again.id, again.email, again.status, again.removed_at) == (user.id, user.email, "active", None)
    assert again.assigned_at == NOW + timedelta(seconds=600)
    assert again.version == user.version + 2
    assert len(state(repo).users) == 3


def test_reactivating_a_settling_user_takes_no_new_seat(deps: Deps, caller: Caller, provision: Provision) -> None:
    provisioned = provision(seats=3, users=2)  # full
    user = provisioned.users[-1]
    user_flows.remove_user(deps, caller, user.id)
    # the removed user still occupies their seat for 120 s, so taking it back needs no free seat ...
    assert user_flows.assign_user(deps, caller, user.email).status == "active"
    # ... while a new user does
    user_flows.remove_user(deps, caller, provisioned.users[1].id)
    with pytest.raises(NoFreeSeats):
        user_flows.assign_user(deps, caller, "new@acme.example")


def test_no_assignment_without_a_live_subscription(deps: Deps, caller: Caller, provision: Provision,
                                                   set_subscription: SetSubscription) -> None:
    provision()
    set_subscription(status="ended")
    with pytest.raises(NoActiveSubscription):
        user_flows.assign_user(deps, caller, "new@acme.example")


def test_past_due_seats_stay_usable(deps: Deps, caller: Caller, provision: Provision,
                                    set_subscription: SetSubscription) -> None:
    provision(seats=5)
    set_subscription(status="past_due")
    assert user_flows.assign_user(deps, caller, "new@acme.example").status == "active"


def test_list_users_sorted_by_email(deps: Deps, caller: Caller, provision: Provision) -> None:
    provision(users=2)
    user_flows.assign_user(deps, caller, "aaron@acme.example")
    assert [u.email for u in user_flows.list_users(deps, caller)] == [
        "aaron@acme.example", "sao@acme.example", "user0@acme.example", "user1@acme.example"]


# --- optimistic locking: two flows that read the same state cannot both commit -------------------------------

@dataclass
class FrozenReads:
    """A repository whose reads return a snapshot taken earlier: what a flow sees when another one
    commits between its read and its write."""

    inner: InMemoryRepository
    snapshot: TenantState

    def load_tenant(self, tenant_id: str) -> TenantState | None:
        return self.snapshot

    def commit(self, changeset: Changeset) -> None:
        self.inner.commit(changeset)

    def list_activity(self, tenant_id: str, limit: int, cursor: str | None) -> Page:  # type: ignore[type-arg]
        return self.inner.list_activity(tenant_id, limit, cursor)


def stale(deps: Deps, repo: InMemoryRepository) -> Deps:
    return Deps(FrozenReads(repo, state(repo)), deps.clock, deps.catalog)


def test_two_assignments_racing_for_the_last_seat(deps: Deps, caller: Caller, repo: InMemoryRepository,
                                                  provision: Provision) -> None:
    provision(seats=4, users=2)  # 3 of 4 seats taken
    racer = stale(deps, repo)
    user_flows.assign_user(deps, caller, "first@acme.example")
    commits = repo.commits
    with pytest.raises(ConcurrentUpdate) as refused:
        user_flows.assign_user(racer, caller, "second@acme.example")  # saw the seat free
    assert refused.value.code == "concurrent_update"
    assert repo.commits == commits
    assert "second@acme.example" not in {u.email for u in state(repo).users}


def test_assignment_and_reduction_cannot_both_pass_on_stale_counts(
        deps: Deps, caller: Caller, repo: InMemoryRepository, provision: Provision) -> None:
    sub = provision(seats=10, users=2).subscription  # 3 users
    racer = stale(deps, repo)
    user_flows.assign_user(deps, caller, "fourth@acme.example")  # now 4 users
    with pytest.raises(ConcurrentUpdate):
        flows.schedule_seat_reduction(racer, caller, sub.id, 3, acknowledged=True)  # saw 3 users
    assert sub_of(repo).scheduled_reduction is None
    with pytest.raises(BelowActiveUsers):  # retried on fresh state, the rule refuses it
        flows.schedule_seat_reduction(deps, caller, sub.id, 3, acknowledged=True)


def test_removal_and_reduction_racing(deps: Deps, caller: Caller, repo: InMemoryRepository,
                                      provision: Provision) -> None:
    provisioned = provision(seats=10, users=2)
    racer = stale(deps, repo)
    flows.schedule_seat_reduction(deps, caller, provisioned.subscription.id, 5, acknowledged=True)
    with pytest.raises(ConcurrentUpdate):
        user_flows.remove_user(racer, caller, provisioned.users[-1].id)
    assert {u.status for u in state(repo).users} == {"active"}


def test_reduction_and_cancellation_racing(deps: Deps, caller: Caller, repo: InMemoryRepository, provision: Provision) -> None:
    sub = provision(seats=10).subscription
    racer = stale(deps, repo)
    flows.schedule_seat_reduction(deps, caller, sub.id, 5, acknowledged=True)
    events = len(repo.all_events(TENANT_ID))
    with pytest.raises(ConcurrentUpdate):
        flows.schedule_cancellation(racer, caller, sub.id, acknowledged=True)
    assert sub_of(repo).cancellation is None
    assert len(repo.all_events(TENANT_ID)) == events  # the audit record goes with the change or not at all


def test_unknown_tenant_sees_nothing(deps: Deps) -> None:
    with pytest.raises(NotFound):
        user_flows.list_users(deps, Caller("ten_ghost", SAO))
