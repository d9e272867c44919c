"""The account view and billing information (SPEC 2.12, 3)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from selfservice.adapters.clock import ManualClock
from selfservice.adapters.memory import InMemoryRepository
from selfservice.domain.errors import InvalidInput, NotFound
from selfservice.ports import Changeset
from selfservice.services import Caller, Deps, account
from selfservice.services import subscriptions as flows

from .builders import NOW, SAO, TENANT_ID, TERM_END, TERM_START, Provision, billing_input


def test_account_view(deps: Deps, caller: Caller, provision: Provision) -> None:
    provisioned = provision(seats=10, users=2)
    view = account.get_account(deps, caller)
    assert view.tenant == provisioned.tenant
    assert view.billing_info is not None and view.billing_info.company_name == "Acme AB"
    assert view.default_payment_method_id is None
    [tile] = view.subscriptions
    assert tile.subscription == provisioned.subscription
    assert tile.active_users == 3
    assert (tile.subscription.current_period_start, tile.subscription.current_period_end) == (TERM_START, TERM_END)
    assert [v.subscription.id for v in flows.list_subscriptions(deps, caller)] == [provisioned.subscription.id]


def test_account_of_an_unknown_tenant_is_not_found(deps: Deps, provision: Provision) -> None:
    provision()
    with pytest.raises(NotFound):
        account.get_account(deps, Caller("ten_ghost", SAO))
    with pytest.raises(NotFound):
        flows.get_subscription(deps, Caller(TENANT_ID, SAO), "sub_nope")


@pytest.mark.parametrize(
    ("country", "vat_id", "stored_vat_id"),
    [
        pytest.param("DE", "de 123 456 789", "DE123456789", id="de-vat-id-normalised"),
        pytest.param("GR", "EL123456789", "EL123456789", id="gr-el-prefix"),
        pytest.param("FR", None, None, id="fr-without-vat-id"),
        pytest.param("NO", "NO123456789MVA", "NO123456789MVA", id="non-eu-free-form"),
    ],
)
def test_update_billing_info(deps: Deps, caller: Caller, clock: ManualClock, repo: InMemoryRepository,
                             provision: Provision, country: str, vat_id: str | None,
                             stored_vat_id: str | None) -> None:
    before = provision().tenant
    old = account.get_billing_info(deps, caller)
    assert old is not None
    clock.advance(60)
    updated = account.update_billing_info(
        deps, caller, billing_input(country, vat_id, email=" AP@Acme.Example", company_name="Acme GmbH"))
    assert (updated.country, updated.vat_id, updated.email, updated.company_name) == (
        country, stored_vat_id, "ap@acme.example", "Acme GmbH")
    assert updated.version == old.version + 1
    assert updated.updated_at == clock.now()
    assert account.get_billing_info(deps, caller) == updated

    event = repo.all_events(TENANT_ID)[-1]
    assert (event.type, event.actor, event.subject_id) == ("billing_info.updated", SAO, before.id)
    assert event.before is not None and event.after is not None
    assert (event.before["country"], event.before["vat_id"]) == ("SE", None)
    assert (event.after["country"], event.after["vat_id"]) == (country, stored_vat_id)
    assert event.after["company_name"] == "Acme GmbH"


@pytest.mark.parametrize(
    ("country", "vat_id", "field"),
    [
        pytest.param("XX", None, "country", id="unknown-country"),
        pytest.param("de", None, "country", id="lower-case-country"),
        pytest.param("DE", "DE12345", "vat_id", id="de-vat-id-too-short"),
        pytest.param("DE", "FR12123456789", "vat_id", id="vat-id-of-another-country"),
        pytest.param("GR", "GR123456789", "vat_id", id="gr-needs-el"),
        pytest.param("SE", "SE5566778899", "vat_id", id="se-missing-01"),
    ],
)
def test_update_billing_info_validation(deps: Deps, caller: Caller, repo: InMemoryRepository,
                                        provision: Provision, country: str, vat_id: str | None,
                                        field: str) -> None:
    provision()
    before = account.get_billing_info(deps, caller)
    commits = repo.commits
    with pytest.raises(InvalidInput) as refused:
        account.update_billing_info(deps, caller, billing_input(country, vat_id))
    assert refused.value.details["field"] == field
    assert repo.commits == commits
    assert account.get_billing_info(deps, caller) == before


def test_first_billing_info_is_created_with_version_1(deps: Deps, caller: Caller, repo: InMemoryRepository,
                                                      provision: Provision) -> None:
    provision()
    # a tenant whose billing information was never stored
    state = repo.load_tenant(TENANT_ID)
    assert state is not None
    fresh = InMemoryRepository()
    fresh.commit(Changeset(TENANT_ID).write(state.tenant).write(state.subscriptions[0]))
    fresh_deps = replace(deps, repo=fresh)
    assert account.get_billing_info(fresh_deps, caller) is None
    created = account.update_billing_info(fresh_deps, caller, billing_input("SE"))
    assert (created.version, created.updated_at) == (1, NOW)
    event = fresh.all_events(TENANT_ID)[-1]
    assert event.before is None
    assert event.after is not None and event.after["country"] == "SE"


def test_tax_follows_the_updated_billing_info(deps: Deps, caller: Caller, provision: Provision) -> None:
    sub = provision(seats=10).subscription
    # 10 seats next term: 30000; SE 25 % = 7500
    assert flows.quote(deps, caller, sub.id, "renewal", 10).tax_amount == 7500
    account.update_billing_info(deps, caller, billing_input("DE", None))
    assert flows.quote(deps, caller, sub.id, "renewal", 10).tax_amount == 5700  # DE 19 %
    account.update_billing_info(deps, caller, billing_input("DE", "DE123456789"))
    assert flows.quote(deps, caller, sub.id, "renewal", 10).tax_amount == 0  # reverse charge
