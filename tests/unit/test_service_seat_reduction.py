"""Reduce seats and undo (SPEC 2.6), through the services against the in-memory repository."""

from __future__ import annotations

from datetime import timedelta

import pytest
from selfservice.adapters.clock import ManualClock
from selfservice.adapters.memory import InMemoryRepository
from selfservice.domain.errors import (
    AcknowledgementRequired,
    BelowActiveUsers,
    CancellationScheduled,
    ChangeAlreadyEffective,
    InvalidSeatCount,
    InvoiceOpen,
    NotFound,
    NothingScheduled,
    RenewalAlreadyPaid,
    RuleViolation,
    SeatLimitExceeded,
)
from selfservice.domain.model import Acknowledgement, Subscription
from selfservice.domain.terms import iso
from selfservice.domain.wording import SEAT_REDUCTION, SEAT_REDUCTION_UNDO
from selfservice.services import Caller, Deps
from selfservice.services import subscriptions as flows
from selfservice.services import users as user_flows

from .builders import NOW, SAO, TENANT_ID, TERM_END, Provision, SetSubscription, prepaid


def stored_sub(repo: InMemoryRepository) -> Subscription:
    state = repo.load_tenant(TENANT_ID)
    assert state is not None
    return state.subscriptions[0]


def test_schedule_reduction_shows_target_and_date_and_records_the_acknowledgement(
        deps: Deps, caller: Caller, repo: InMemoryRepository, provision: Provision) -> None:
    sub = provision(seats=10, users=2).subscription  # 3 users: the SAO + 2
    view = flows.schedule_seat_reduction(deps, caller, sub.id, 5, acknowledged=True)

    assert view.subscription.seats == 10  # the current seats stay available until the term ends
    assert view.active_users == 3
    reduction = view.subscription.scheduled_reduction
    assert reduction is not None
    assert (reduction.seats, reduction.effective_at) == (5, TERM_END)
    assert reduction.acknowledgement == Acknowledgement(SEAT_REDUCTION.version, SAO, NOW)
    assert (reduction.requested_by, reduction.requested_at) == (SAO, NOW)
    assert stored_sub(repo) == view.subscription
    assert stored_sub(repo).version == sub.version + 1

    event = repo.all_events(TENANT_ID)[-1]
    assert event.type == "subscription.reduction_scheduled"
    assert (event.actor, event.at, event.subject_id) == (SAO, NOW, sub.id)
    assert event.acknowledgement == Acknowledgement("seat-reduction/2026-01", SAO, NOW)
    assert event.before is not None and event.after is not None
    assert event.before["scheduled_reduction"] is None
    assert event.after["scheduled_reduction"] == {"seats": 5, "effective_at": iso(TERM_END)}
    assert event.before["seats"] == event.after["seats"] == 10


@pytest.mark.parametrize(
    ("target", "error"),
    [
        pytest.param(10, InvalidSeatCount, id="equal-to-seats"),
        pytest.param(11, InvalidSeatCount, id="above-seats"),
        pytest.param(0, InvalidSeatCount, id="zero"),
        pytest.param(-1, InvalidSeatCount, id="negative"),
        pytest.param(501, SeatLimitExceeded, id="above-plan-max"),
        pytest.param(2, BelowActiveUsers, id="below-3-active-users"),
    ],
)
@pytest.mark.parametrize("acknowledged", [True, False], ids=["acked", "not-acked"])
def test_reduction_target_must_be_1_to_seats_minus_1_and_cover_users(
        deps: Deps, caller: Caller, repo: InMemoryRepository, provision: Provision,
        target: int, error: type[RuleViolation], acknowledged: bool) -> None:
    sub = provision(seats=10, users=2).subscription
    commits = repo.commits
    # The rule refuses first, so the refusal reads the same whether or not the box was ticked.
    with pytest.raises(error):
        flows.schedule_seat_reduction(deps, caller, sub.id, target, acknowledged=acknowledged)
    assert repo.commits == commits
    assert stored_sub(repo).scheduled_reduction is None


@pytest.mark.parametrize(
    ("seats", "users", "target"),
    [
        pytest.param(10, 2, 3, id="exactly-the-3-active-users"),
        pytest.param(10, 2, 9, id="seats-minus-1"),
        pytest.param(2, 0, 1, id="down-to-1-seat"),
    ],
)
def test_reduction_target_boundaries_accepted(deps: Deps, caller: Caller, provision: Provision,
                                              seats: int, users: int, target: int) -> None:
    sub = provision(seats=seats, users=users).subscription
    view = flows.schedule_seat_reduction(deps, caller, sub.id, target, acknowledged=True)
    assert view.subscription.scheduled_reduction is not None
    assert view.subscription.scheduled_reduction.seats == target


def test_below_active_users_names_the_count(deps: Deps, caller: Caller, provision: Provision) -> None:
    sub = provision(seats=10, users=4).subscription  # 5 users
    with pytest.raises(BelowActiveUsers) as refused:
        flows.schedule_seat_reduction(deps, caller, sub.id, 4, acknowledged=True)
    assert refused.value.details == {"active_users": 5, "requested_seats": 4}


def test_reduction_waits_for_a_removal_to_settle(deps: Deps, caller: Caller, clock: ManualClock,
                                                 provision: Provision) -> None:
    provisioned = provision(seats=10, users=2)  # 3 users
    user_flows.remove_user(deps, caller, provisioned.users[-1].id)
    clock.advance(30)
    with pytest.raises(BelowActiveUsers) as refused:
        flows.schedule_seat_reduction(deps, caller, provisioned.subscription.id, 2, acknowledged=True)
    # removed at NOW, settles at NOW + 120 s
    assert refused.value.details == {"active_users": 3, "requested_seats": 2,
                                     "retry_after": iso(NOW + timedelta(seconds=120))}
    clock.advance(89)  # NOW + 119 s: still counts
    with pytest.raises(BelowActiveUsers):
        flows.schedule_seat_reduction(deps, caller, provisioned.subscription.id, 2, acknowledged=True)
    clock.advance(1)  # NOW + 120 s
    view = flows.schedule_seat_reduction(deps, caller, provisioned.subscription.id, 2, acknowledged=True)
    assert view.active_users == 2


def test_without_acknowledgement_nothing_changes_and_the_wording_is_returned(
        deps: Deps, caller: Caller, repo: InMemoryRepository, provision: Provision) -> None:
    sub = provision().subscription
    commits = repo.commits
    with pytest.raises(AcknowledgementRequired) as refused:
        flows.schedule_seat_reduction(deps, caller, sub.id, 5, acknowledged=False)
    assert refused.value.details == {"acknowledgement": {"text": SEAT_REDUCTION.text,
                                                         "version": SEAT_REDUCTION.version}}
    assert repo.commits == commits
    assert stored_sub(repo).scheduled_reduction is None


def test_acknowledging_an_outdated_wording_is_refused(deps: Deps, caller: Caller, repo: InMemoryRepository,
                                                      provision: Provision) -> None:
    sub = provision().subscription
    with pytest.raises(AcknowledgementRequired):
        flows.schedule_seat_reduction(deps, caller, sub.id, 5, acknowledged=True,
                                      wording_version="seat-reduction/2020-01")
    assert stored_sub(repo).scheduled_reduction is None
    view = flows.schedule_seat_reduction(deps, caller, sub.id, 5, acknowledged=True,
                                         wording_version=SEAT_REDUCTION.version)
    assert view.subscription.scheduled_reduction is not None


def test_a_new_reduction_replaces_the_scheduled_one(deps: Deps, caller: Caller, clock: ManualClock,
                                                    repo: InMemoryRepository, provision: Provision) -> None:
    sub = provision(seats=10).subscription
    flows.schedule_seat_reduction(deps, caller, sub.id, 5, acknowledged=True)
    clock.advance(60)
    # the target is compared with the current 10 seats, not the scheduled 5: going up to 8 is fine
    view = flows.schedule_seat_reduction(deps, caller, sub.id, 8, acknowledged=True)
    reduction = view.subscription.scheduled_reduction
    assert reduction is not None
    assert (reduction.seats, reduction.requested_at) == (8, NOW + timedelta(seconds=60))
    assert stored_sub(repo).scheduled_reduction == reduction
    event = repo.all_events(TENANT_ID)[-1]
    assert event.before is not None
    assert event.before["scheduled_reduction"] == {"seats": 5, "effective_at": iso(TERM_END)}


def test_refused_when_the_renewal_is_prepaid(deps: Deps, caller: Caller, provision: Provision,
                                             set_subscription: SetSubscription) -> None:
    sub = provision().subscription
    set_subscription(renewal=prepaid(10))
    with pytest.raises(RenewalAlreadyPaid) as refused:
        flows.schedule_seat_reduction(deps, caller, sub.id, 5, acknowledged=True)
    assert refused.value.code == "renewal_already_paid"
    assert refused.value.details == {"renewal_seats": 10}


def test_refused_when_a_cancellation_is_scheduled(deps: Deps, caller: Caller, provision: Provision) -> None:
    sub = provision().subscription
    flows.schedule_cancellation(deps, caller, sub.id, acknowledged=True)
    with pytest.raises(CancellationScheduled) as refused:
        flows.schedule_seat_reduction(deps, caller, sub.id, 5, acknowledged=True)
    assert refused.value.details == {"cancel_at": iso(TERM_END)}


def test_refused_while_past_due(deps: Deps, caller: Caller, provision: Provision,
                                set_subscription: SetSubscription) -> None:
    sub = provision().subscription
    set_subscription(status="past_due", open_invoice_id="inv_open")
    with pytest.raises(InvoiceOpen) as refused:
        flows.schedule_seat_reduction(deps, caller, sub.id, 5, acknowledged=True)
    assert refused.value.details == {"invoice_id": "inv_open"}


def test_unknown_subscription_is_not_found(deps: Deps, caller: Caller, provision: Provision) -> None:
    provision()
    with pytest.raises(NotFound):
        flows.schedule_seat_reduction(deps, caller, "sub_nope", 5, acknowledged=True)
    with pytest.raises(NotFound):
        flows.schedule_seat_reduction(deps, Caller("ten_other", SAO), "sub_nope", 5, acknowledged=True)


# --- undo ---------------------------------------------------------------------------------------------

def test_undo_restores_the_original_seats_and_records_the_acknowledgement(
        deps: Deps, caller: Caller, clock: ManualClock, repo: InMemoryRepository, provision: Provision) -> None:
    sub = provision(seats=10).subscription
    flows.schedule_seat_reduction(deps, caller, sub.id, 5, acknowledged=True)
    clock.advance(3600)
    view = flows.undo_seat_reduction(deps, caller, sub.id, acknowledged=True)
    assert view.subscription.scheduled_reduction is None
    assert view.subscription.seats == 10
    assert stored_sub(repo).scheduled_reduction is None
    assert stored_sub(repo).version == sub.version + 2
    event = repo.all_events(TENANT_ID)[-1]
    assert event.type == "subscription.reduction_undone"
    assert event.acknowledgement == Acknowledgement(SEAT_REDUCTION_UNDO.version, SAO, NOW + timedelta(hours=1))
    assert event.before is not None and event.after is not None
    assert event.before["scheduled_reduction"] == {"seats": 5, "effective_at": iso(TERM_END)}
    assert event.after["scheduled_reduction"] is None


def test_undo_needs_acknowledgement(deps: Deps, caller: Caller, repo: InMemoryRepository,
                                    provision: Provision) -> None:
    sub = provision().subscription
    flows.schedule_seat_reduction(deps, caller, sub.id, 5, acknowledged=True)
    with pytest.raises(AcknowledgementRequired) as refused:
        flows.undo_seat_reduction(deps, caller, sub.id, acknowledged=False)
    assert refused.value.details["acknowledgement"]["version"] == SEAT_REDUCTION_UNDO.version
    assert stored_sub(repo).scheduled_reduction is not None


@pytest.mark.parametrize("acknowledged", [True, False], ids=["acked", "not-acked"])
def test_undo_without_a_reduction_is_nothing_scheduled(deps: Deps, caller: Caller, provision: Provision,
                                                       acknowledged: bool) -> None:
    sub = provision().subscription
    with pytest.raises(NothingScheduled):
        flows.undo_seat_reduction(deps, caller, sub.id, acknowledged=acknowledged)


@pytest.mark.parametrize(
    ("after_now", "allowed"),
    [
        # the term ends 2026-04-01 00:00; NOW is 2026-03-10 09:00
        pytest.param(TERM_END - timedelta(seconds=1) - NOW, True, id="last-second-of-the-term"),
        pytest.param(TERM_END - NOW, False, id="at-the-term-end"),
        pytest.param(TERM_END + timedelta(hours=1) - NOW, False, id="after-the-term-end"),
    ],
)
def test_undo_only_before_the_term_ends(deps: Deps, caller: Caller, clock: ManualClock, provision: Provision,
                                        after_now: timedelta, allowed: bool) -> None:
    sub = provision().subscription
    flows.schedule_seat_reduction(deps, caller, sub.id, 5, acknowledged=True)
    clock.advance(after_now.total_seconds())
    if allowed:
        assert flows.undo_seat_reduction(deps, caller, sub.id, acknowledged=True).subscription.scheduled_reduction \
            is None
    else:
        with pytest.raises(ChangeAlreadyEffective) as refused:
            flows.undo_seat_reduction(deps, caller, sub.id, acknowledged=True)
        assert refused.value.details == {"effective_at": iso(TERM_END)}
