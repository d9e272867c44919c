"""Enterprise and reseller subscriptions refuse every self-service change (SPEC 2.8); the upgrade
request; quotes through the service change nothing (SPEC 2.2)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from selfservice.adapters.memory import InMemoryRepository
from selfservice.domain.errors import (
    DomainError,
    InvalidInput,
    ManagedByAccountManager,
    ManagedByReseller,
    NotFound,
    SubscriptionNotActive,
)
from selfservice.domain.model import Acknowledgement, ScheduledCancellation, ScheduledReduction
from selfservice.services import Caller, Deps
from selfservice.services import subscriptions as flows

from .builders import ACCOUNT_MANAGER, NOW, RESELLER, SAO, TENANT_ID, TERM_END, Provision, SetSubscription

ACK = Acknowledgement("v", SAO, NOW)
Change = Callable[[Deps, Caller, str], Any]

CHANGES: list[Any] = [
    pytest.param(lambda d, c, s: flows.quote(d, c, s, "renewal", 10), id="quote-renewal"),
    pytest.param(lambda d, c, s: flows.quote(d, c, s, "increase", 12), id="quote-increase"),
    pytest.param(lambda d, c, s: flows.quote(d, c, s, "reduction", 5), id="quote-reduction"),
    pytest.param(lambda d, c, s: flows.schedule_seat_reduction(d, c, s, 5, acknowledged=True),
                 id="schedule-reduction"),
    pytest.param(lambda d, c, s: flows.undo_seat_reduction(d, c, s, acknowledged=True), id="undo-reduction"),
    pytest.param(lambda d, c, s: flows.schedule_cancellation(d, c, s, acknowledged=True), id="cancel"),
    pytest.param(lambda d, c, s: flows.undo_cancellation(d, c, s, acknowledged=True), id="undo-cancellation"),
    pytest.param(lambda d, c, s: flows.request_upgrade(d, c, s, "more"), id="upgrade-request"),
]


@pytest.mark.parametrize("change", CHANGES)
@pytest.mark.parametrize("with_something_scheduled", [False, True], ids=["plain", "something-scheduled"])
def test_enterprise_changes_go_through_the_account_manager(
        deps: Deps, caller: Caller, repo: InMemoryRepository, provision: Provision,
        set_subscription: SetSubscription, change: Change, with_something_scheduled: bool) -> None:
    sub = provision("enterprise-annual-eur", seats=150).subscription
    if with_something_scheduled:  # so that an undo cannot be refused as nothing_scheduled first
        set_subscription(scheduled_reduction=ScheduledReduction(100, sub.current_period_end, SAO, NOW, ACK),
                         cancellation=ScheduledCancellation(sub.current_period_end, SAO, NOW, None, ACK))
    commits = repo.commits
    with pytest.raises(ManagedByAccountManager) as refused:
        change(deps, caller, sub.id)
    assert refused.value.code == "managed_by_account_manager"
    assert refused.value.details == {"contact": {"kind": "account_manager", "name": ACCOUNT_MANAGER.name,
                                                 "email": ACCOUNT_MANAGER.email}}
    assert ACCOUNT_MANAGER.email in refused.value.message
    assert repo.commits == commits


@pytest.mark.parametrize("change", CHANGES)
@pytest.mark.parametrize("with_something_scheduled", [False, True], ids=["plain", "something-scheduled"])
def test_reseller_changes_go_through_the_reseller(
        deps: Deps, caller: Caller, repo: InMemoryRepository, provision: Provision,
        set_subscription: SetSubscription, change: Change, with_something_scheduled: bool) -> None:
    sub = provision("business-monthly-eur", channel="reseller").subscription
    if with_something_scheduled:
        set_subscription(scheduled_reduction=ScheduledReduction(5, TERM_END, SAO, NOW, ACK),
                         cancellation=ScheduledCancellation(TERM_END, SAO, NOW, None, ACK))
    commits = repo.commits
    with pytest.raises(ManagedByReseller) as refused:
        change(deps, caller, sub.id)
    assert refused.value.code == "managed_by_reseller"
    assert refused.value.details == {"contact": {"kind": "reseller", "name": RESELLER.name,
                                                 "email": RESELLER.email}}
    assert RESELLER.name in refused.value.message
    assert repo.commits == commits


def test_managed_subscription_views_carry_the_contact(deps: Deps, caller: Caller, provision: Provision) -> None:
    sub = provision("enterprise-annual-eur", seats=150).subscription
    assert flows.get_subscription(deps, caller, sub.id).subscription.managed_by == ACCOUNT_MANAGER


# --- upgrade request -------------------------------------------------------------------------------------

def test_upgrade_request_is_recorded_and_names_the_account_manager(
        deps: Deps, caller: Caller, repo: InMemoryRepository, provision: Provision) -> None:
    sub = provision().subscription
    commits = repo.commits
    receipt = flows.request_upgrade(deps, caller, sub.id, "We need capacity pricing")
    assert receipt.account_manager == ACCOUNT_MANAGER
    assert (receipt.subscription_id, receipt.message) == (sub.id, "We need capacity pricing")
    assert receipt.id.startswith("upg_")
    assert repo.commits == commits + 1
    event = repo.all_events(TENANT_ID)[-1]
    assert event.type == "subscription.upgrade_requested"
    assert (event.actor, event.at, event.subject_id) == (SAO, NOW, sub.id)
    assert event.data["request_id"] == receipt.id
    assert event.data["message"] == "We need capacity pricing"
    assert event.data["account_manager"] == {"name": ACCOUNT_MANAGER.name, "email": ACCOUNT_MANAGER.email}
    state = repo.load_tenant(TENANT_ID)
    assert state is not None and state.subscriptions[0] == sub  # the subscription itself is unchanged


def test_upgrade_request_message_is_optional(deps: Deps, caller: Caller, provision: Provision) -> None:
    sub = provision().subscription
    assert flows.request_upgrade(deps, caller, sub.id, None).message is None


def test_upgrade_request_on_an_ended_subscription_is_refused(
        deps: Deps, caller: Caller, provision: Provision, set_subscription: SetSubscription) -> None:
    sub = provision().subscription
    set_subscription(status="ended")
    with pytest.raises(SubscriptionNotActive):
        flows.request_upgrade(deps, caller, sub.id, None)


# --- quotes through the service ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("change", "seats", "amount_due", "tax"),
    [
        # 12 seats next term: 30000 + 5400 = 35400, VAT 25 % = 8850
        pytest.param("renewal", 12, 35400, 8850, id="renewal-12"),
        # 10 -> 12 at NOW: 5400 x 1 868 400 / 2 678 400 = 3766.94 -> 3767, VAT 941.75 -> 942
        pytest.param("increase", 12, 3767, 942, id="increase-to-12"),
        pytest.param("reduction", 5, 0, 0, id="reduction-to-5"),
    ],
)
def test_quotes_change_nothing(deps: Deps, caller: Caller, repo: InMemoryRepository, provision: Provision,
                               change: Any, seats: int, amount_due: int, tax: int) -> None:
    sub = provision(seats=10).subscription
    before = repo.load_tenant(TENANT_ID)
    commits, events = repo.commits, len(repo.all_events(TENANT_ID))
    q = flows.quote(deps, caller, sub.id, change, seats)
    assert (q.change, q.seats, q.amount_due, q.tax_amount, q.total) == (change, seats, amount_due, tax,
                                                                        amount_due + tax)
    assert repo.commits == commits
    assert len(repo.all_events(TENANT_ID)) == events
    assert repo.load_tenant(TENANT_ID) == before


def test_quote_follows_the_billing_country(deps: Deps, caller: Caller, provision: Provision) -> None:
    sub = provision(country="DE", vat_id="DE123456789").subscription
    q = flows.quote(deps, caller, sub.id, "renewal", 10)
    assert (q.amount_due, q.tax_amount, q.tax.reverse_charge) == (30000, 0, True)


@pytest.mark.parametrize(
    ("change", "error"),
    [pytest.param("upgrade", InvalidInput, id="unknown-change-kind")],
)
def test_quote_refuses_unknown_change(deps: Deps, caller: Caller, provision: Provision, change: Any,
                                      error: type[DomainError]) -> None:
    sub = provision().subscription
    with pytest.raises(error):
        flows.quote(deps, caller, sub.id, change, 10)


def test_quote_for_another_tenants_subscription_is_not_found(deps: Deps, provision: Provision) -> None:
    sub = provision().subscription
    provision(tenant_id="ten_other")
    with pytest.raises(NotFound):
        flows.quote(deps, Caller("ten_other", SAO), sub.id, "renewal", 10)
