"""Cancel and undo (SPEC 2.7), through the services against the in-memory repository."""

from __future__ import annotations

from datetime import timedelta

import pytest
from selfservice.adapters.clock import ManualClock
from selfservice.adapters.memory import InMemoryRepository
from selfservice.domain.errors import (
    AcknowledgementRequired,
    CancellationScheduled,
    ChangeAlreadyEffective,
    InvoiceOpen,
    NothingScheduled,
    SubscriptionNotActive,
)
from selfservice.domain.model import Acknowledgement, Subscription
from selfservice.domain.terms import iso, utc
from selfservice.domain.wording import CANCELLATION, CANCELLATION_UNDO
from selfservice.services import Caller, Deps
from selfservice.services import subscriptions as flows

from .builders import NOW, SAO, TENANT_ID, TERM_END, Provision, SetSubscription, prepaid


def stored_sub(repo: InMemoryRepository) -> Subscription:
    state = repo.load_tenant(TENANT_ID)
    assert state is not None
    return state.subscriptions[0]


def test_cancellation_takes_effect_at_the_end_of_the_current_term(
        deps: Deps, caller: Caller, repo: InMemoryRepository, provision: Provision) -> None:
    sub = provision().subscription
    view = flows.schedule_cancellation(deps, caller, sub.id, acknowledged=True, reason="too expensive")
    cancellation = view.subscription.cancellation
    assert cancellation is not None
    assert view.subscription.cancel_at == TERM_END
    assert view.subscription.status == "active"  # everything keeps working until then
    assert (cancellation.requested_by, cancellation.requested_at, cancellation.reason) == (SAO, NOW, "too expensive")
    assert cancellation.acknowledgement == Acknowledgement(CANCELLATION.version, SAO, NOW)
    assert stored_sub(repo) == view.subscription

    event = repo.all_events(TENANT_ID)[-1]
    assert event.type == "subscription.cancellation_scheduled"
    assert (event.actor, event.at) == (SAO, NOW)
    assert event.acknowledgement == Acknowledgement("cancellation/2026-01", SAO, NOW)
    assert event.data["reason"] == "too expensive"
    assert event.before is not None and event.after is not None
    assert (event.before["cancel_at"], event.after["cancel_at"]) == (None, iso(TERM_END))


def test_cancellation_with_a_prepaid_renewal_ends_after_the_prepaid_term(
        deps: Deps, caller: Caller, provision: Provision, set_subscription: SetSubscription) -> None:
    sub = provision().subscription
    set_subscription(renewal=prepaid(10, TERM_END, utc(2026, 5, 1)))
    view = flows.schedule_cancellation(deps, caller, sub.id, acknowledged=True)
    assert view.subscription.cancel_at == utc(2026, 5, 1)


def test_cancellation_needs_acknowledgement(deps: Deps, caller: Caller, repo: InMemoryRepository,
                                            provision: Provision) -> None:
    sub = provision().subscription
    commits = repo.commits
    with pytest.raises(AcknowledgementRequired) as refused:
        flows.schedule_cancellation(deps, caller, sub.id, acknowledged=False)
    assert refused.value.details == {"acknowledgement": {"text": CANCELLATION.text,
                                                         "version": CANCELLATION.version}}
    assert repo.commits == commits
    assert stored_sub(repo).cancellation is None


@pytest.mark.parametrize("acknowledged", [True, False], ids=["acked", "not-acked"])
def test_cancelling_twice_is_refused(deps: Deps, caller: Caller, provision: Provision, acknowledged: bool) -> None:
    sub = provision().subscription
    flows.schedule_cancellation(deps, caller, sub.id, acknowledged=True)
    # the rule refuses before the acknowledgement is asked for
    with pytest.raises(CancellationScheduled) as refused:
        flows.schedule_cancellation(deps, caller, sub.id, acknowledged=acknowledged)
    assert refused.value.details == {"cancel_at": iso(TERM_END)}


def test_cancelling_an_ended_subscription_is_refused(deps: Deps, caller: Caller, provision: Provision,
                                                     set_subscription: SetSubscription) -> None:
    sub = provision().subscription
    set_subscription(status="ended")
    with pytest.raises(SubscriptionNotActive) as refused:
        flows.schedule_cancellation(deps, caller, sub.id, acknowledged=True)
    assert refused.value.details == {"status": "ended"}


def test_cancelling_while_past_due_names_the_open_invoice(deps: Deps, caller: Caller, provision: Provision,
                                                          set_subscription: SetSubscription) -> None:
    sub = provision().subscription
    set_subscription(status="past_due", open_invoice_id="inv_open")
    with pytest.raises(InvoiceOpen) as refused:
        flows.schedule_cancellation(deps, caller, sub.id, acknowledged=True)
    assert refused.value.details == {"invoice_id": "inv_open"}


def test_a_scheduled_reduction_does_not_block_cancellation(deps: Deps, caller: Caller,
                                                           provision: Provision) -> None:
    sub = provision().subscription
    flows.schedule_seat_reduction(deps, caller, sub.id, 5, acknowledged=True)
    assert flows.schedule_cancellation(deps, caller, sub.id, acknowledged=True).subscription.cancel_at == TERM_END


def test_undo_cancellation(deps: Deps, caller: Caller, clock: ManualClock, repo: InMemoryRepository,
                           provision: Provision) -> None:
    sub = provision().subscription
    flows.schedule_cancellation(deps, caller, sub.id, acknowledged=True)
    clock.advance(60)
    view = flows.undo_cancellation(deps, caller, sub.id, acknowledged=True)
    assert view.subscription.cancellation is None
    assert stored_sub(repo).cancellation is None
    event = repo.all_events(TENANT_ID)[-1]
    assert event.type == "subscription.cancellation_undone"
    assert event.acknowledgement == Acknowledgement(CANCELLATION_UNDO.version, SAO, NOW + timedelta(seconds=60))
    assert event.before is not None and event.after is not None
    assert (event.before["cancel_at"], event.after["cancel_at"]) == (iso(TERM_END), None)


def test_undo_cancellation_needs_acknowledgement(deps: Deps, caller: Caller, repo: InMemoryRepository,
                                                 provision: Provision) -> None:
    sub = provision().subscription
    flows.schedule_cancellation(deps, caller, sub.id, acknowledged=True)
    with pytest.raises(AcknowledgementRequired) as refused:
        flows.undo_cancellation(deps, caller, sub.id, acknowledged=False)
    assert refused.value.details["acknowledgement"]["version"] == CANCELLATION_UNDO.version
    assert stored_sub(repo).cancellation is not None


@pytest.mark.parametrize("acknowledged", [True, False], ids=["acked", "not-acked"])
def test_undo_without_a_cancellation_is_nothing_scheduled(deps: Deps, caller: Caller, provision: Provision,
                                                          acknowledged: bool) -> None:
    sub = provision().subscription
    with pytest.raises(NothingScheduled):
        flows.undo_cancellation(deps, caller, sub.id, acknowledged=acknowledged)


@pytest.mark.parametrize(
    ("after_now", "allowed"),
    [
        pytest.param(TERM_END - timedelta(seconds=1) - NOW, True, id="last-second-before-it-takes-effect"),
        pytest.param(TERM_END - NOW, False, id="at-cancel-at"),
        pytest.param(TERM_END + timedelta(days=1) - NOW, False, id="after-cancel-at"),
    ],
)
def test_undo_cancellation_only_before_it_takes_effect(deps: Deps, caller: Caller, clock: ManualClock,
                                                       provision: Provision, after_now: timedelta,
                                                       allowed: bool) -> None:
    sub = provision().subscription
    flows.schedule_cancellation(deps, caller, sub.id, acknowledged=True)
    clock.advance(after_now.total_seconds())
    if allowed:
        assert flows.undo_cancellation(deps, caller, sub.id, acknowledged=True).subscription.cancel_at is None
    else:
        with pytest.raises(ChangeAlreadyEffective):
            flows.undo_cancellation(deps, caller, sub.id, acknowledged=True)


def test_undo_after_the_subscription_ended_is_refused(deps: Deps, caller: Caller, provision: Provision,
                                                      set_subscription: SetSubscription) -> None:
    sub = provision().subscription
    flows.schedule_cancellation(deps, caller, sub.id, acknowledged=True)
    set_subscription(status="ended")
    with pytest.raises(ChangeAlreadyEffective):
        flows.undo_cancellation(deps, caller, sub.id, acknowledged=True)
