"""Back-office provisioning: a tenant with its SAO, billing information, users and one subscription."""

from __future__ import annotations

from datetime import datetime

import pytest
from selfservice.adapters.memory import InMemoryRepository
from selfservice.domain.errors import (
    BelowActiveUsers,
    DomainError,
    InvalidInput,
    InvalidSeatCount,
    SeatLimitExceeded,
    TenantExists,
)
from selfservice.domain.model import Contact
from selfservice.domain.terms import utc
from selfservice.services import Deps
from selfservice.services.provisioning import ProvisionRequest, provision_tenant

from .builders import ACCOUNT_MANAGER, NOW, RESELLER, SAO, TENANT_ID, TERM_END, TERM_START, Provision, billing_input


def request(**overrides: object) -> ProvisionRequest:
    fields: dict[str, object] = {
        "tenant_name": "Acme", "sao_subject": SAO, "sao_email": "SAO@Acme.example", "account_manager": ACCOUNT_MANAGER,
        "reseller": None, "billing_info": billing_input(), "user_emails": ("a@acme.example", " A@ACME.example ",
                                                                          "b@acme.example", "sao@acme.example"),
        "plan_id": "business-monthly-eur", "channel": "direct", "seats": 10, "start": TERM_START,
        "tenant_id": TENANT_ID,
    }
    fields.update(overrides)
    return ProvisionRequest(**fields)  # type: ignore[arg-type]


def test_provision_business_direct(deps: Deps, repo: InMemoryRepository) -> None:
    done = provision_tenant(deps, request())
    state = repo.load_tenant(TENANT_ID)
    assert state is not None
    assert state.tenant == done.tenant
    assert (done.tenant.name, done.tenant.sao_subject, done.tenant.account_manager) == ("Acme", SAO, ACCOUNT_MANAGER)
    sub = done.subscription
    assert state.subscriptions == (sub,)
    assert (sub.plan_id, sub.edition, sub.channel, sub.currency, sub.term, sub.seats, sub.status) == (
        "business-monthly-eur", "business", "direct", "EUR", "monthly", 10, "active")
    assert (sub.billing_anchor, sub.current_period_start, sub.current_period_end) == (TERM_START, TERM_START, TERM_END)
    assert sub.managed_by is None
    assert (sub.version, sub.created_at) == (1, NOW)
    # e-mails normalised and de-duplicated; the SAO holds a licence too
    assert sorted(u.email for u in done.users) == ["a@acme.example", "b@acme.example", "sao@acme.example"]
    assert len(state.users) == 3
    assert state.billing_info is not None
    assert (state.billing_info.email, state.billing_info.country) == ("billing@acme.example", "SE")
    [event] = repo.all_events(TENANT_ID)
    assert event.type == "tenant.provisioned"
    assert event.data == {"subscription_id": sub.id, "plan_id": "business-monthly-eur", "seats": 10, "users": 3}


@pytest.mark.parametrize(
    ("plan_id", "channel", "reseller", "seats", "managed_by"),
    [
        pytest.param("enterprise-annual-eur", "direct", None, 150, ACCOUNT_MANAGER, id="enterprise-account-manager"),
        pytest.param("business-monthly-eur", "reseller", RESELLER, 10, RESELLER, id="business-via-reseller"),
        pytest.param("business-annual-sek", "direct", None, 10, None, id="business-direct-self-service"),
    ],
)
def test_managed_by(deps: Deps, plan_id: str, channel: str, reseller: Contact | None, seats: int,
                    managed_by: Contact | None) -> None:
    sub = provision_tenant(deps, request(plan_id=plan_id, channel=channel, reseller=reseller,
                                         seats=seats)).subscription
    assert sub.managed_by == managed_by
    assert sub.channel == channel


@pytest.mark.parametrize(
    ("plan_id", "start", "period"),
    [
        pytest.param("business-monthly-eur", utc(2025, 11, 15), (utc(2026, 2, 15), utc(2026, 3, 15)),
                     id="monthly-started-in-the-past"),
        pytest.param("business-monthly-eur", utc(2026, 4, 1), (utc(2026, 4, 1), utc(2026, 5, 1)),
                     id="monthly-starts-in-the-future"),
        pytest.param("business-annual-eur", utc(2024, 2, 29), (utc(2026, 2, 28), utc(2027, 2, 28)),
                     id="annual-feb29-anchor"),
    ],
)
def test_provisioning_computes_the_current_term(deps: Deps, plan_id: str, start: datetime,
                                                period: tuple[datetime, datetime]) -> None:
    sub = provision_tenant(deps, request(plan_id=plan_id, start=start)).subscription
    assert sub.billing_anchor == start
    assert (sub.current_period_start, sub.current_period_end) == period


BAD_REQUESTS = [
    pytest.param({"plan_id": "gold"}, InvalidInput, {"field": "plan_id"}, id="unknown-plan"),
    pytest.param({"channel": "partner"}, InvalidInput, {"field": "channel"}, id="unknown-channel"),
    pytest.param({"channel": "reseller"}, InvalidInput, {"field": "reseller"}, id="reseller-without-contact"),
    pytest.param({"reseller": RESELLER}, InvalidInput, {"field": "reseller"}, id="direct-with-reseller"),
    pytest.param({"plan_id": "enterprise-annual-eur", "channel": "reseller", "reseller": RESELLER, "seats": 150},
                 InvalidInput, {"field": "channel"}, id="enterprise-via-reseller"),
    pytest.param({"seats": 0}, InvalidSeatCount, {"seats": 0, "minimum": 1}, id="zero-seats"),
    pytest.param({"seats": 501}, SeatLimitExceeded, {"seats": 501, "max_seats": 500}, id="above-max"),
    # SAO + a + b = 3 users (duplicates folded) on 2 seats
    pytest.param({"seats": 2}, BelowActiveUsers, {"active_users": 3, "requested_seats": 2}, id="seats-below-users"),
    pytest.param({"billing_info": billing_input("XX")}, InvalidInput, {"field": "country"}, id="bad-country"),
    pytest.param({"billing_info": billing_input("DE", "DE1")}, InvalidInput, {"field": "vat_id", "country": "DE"},
                 id="bad-vat-id"),
]


@pytest.mark.parametrize(("overrides", "error", "details"), BAD_REQUESTS)
def test_bad_provisioning_requests(deps: Deps, repo: InMemoryRepository, overrides: dict[str, object],
                                   error: type[DomainError], details: dict[str, object]) -> None:
    with pytest.raises(error) as refused:
        provision_tenant(deps, request(**overrides))
    assert type(refused.value) is error
    assert refused.value.details == details
    assert repo.commits == 0
    assert repo.load_tenant(TENANT_ID) is None


def test_seats_equal_to_users_is_enough(deps: Deps) -> None:
    assert provision_tenant(deps, request(seats=3)).subscription.seats == 3


def test_duplicate_tenant_id_is_refused(deps: Deps, repo: InMemoryRepository, provision: Provision) -> None:
    first = provision()
    with pytest.raises(TenantExists) as refused:
        provision(plan_id="business-annual-eur")
    assert refused.value.details == {"tenant_id": TENANT_ID}
    assert repo.commits == 1
    state = repo.load_tenant(TENANT_ID)
    assert state is not None and state.subscriptions == (first.subscription,)


def test_generated_tenant_ids_are_distinct(deps: Deps) -> None:
    a = provision_tenant(deps, request(tenant_id=None))
    b = provision_tenant(deps, request(tenant_id=None))
    assert a.tenant.id != b.tenant.id
    assert a.tenant.id.startswith("ten_")
