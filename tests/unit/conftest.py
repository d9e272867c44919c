"""Fixtures for the unit tier: the real services against the in-memory repository and a clock that
moves only when told. No sockets, no boto3."""

from __future__ import annotations

from datetime import datetime

import pytest
from selfservice.adapters.clock import ManualClock
from selfservice.adapters.memory import InMemoryRepository
from selfservice.domain.catalog import load_catalog
from selfservice.domain.model import Contact, Subscription
from selfservice.ports import Changeset
from selfservice.services import Caller, Deps
from selfservice.services.provisioning import Provisioned, ProvisionRequest, provision_tenant

from .builders import (
    ACCOUNT_MANAGER,
    NOW,
    RESELLER,
    SAO,
    TENANT_ID,
    TERM_START,
    Provision,
    SetSubscription,
    billing_input,
)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def repo() -> InMemoryRepository:
    return InMemoryRepository()


@pytest.fixture
def deps(repo: InMemoryRepository, clock: ManualClock) -> Deps:
    return Deps(repo, clock, load_catalog())


@pytest.fixture
def caller() -> Caller:
    return Caller(TENANT_ID, SAO)


@pytest.fixture
def provision(deps: Deps) -> Provision:
    """Provision a tenant through the real back-office service. Defaults: Business monthly EUR, direct,
    10 seats, the SAO plus `users` more users, the term 2026-03-01 .. 2026-04-01 around NOW."""

    def _provision(plan_id: str = "business-monthly-eur", *, seats: int = 10, users: int = 2,
                   channel: str = "direct", reseller: Contact | None = None, start: datetime = TERM_START,
                   tenant_id: str = TENANT_ID, country: str = "SE", vat_id: str | None = None) -> Provisioned:
        if channel == "reseller" and reseller is None:
            reseller = RESELLER
        request = ProvisionRequest(
            tenant_name="Acme", sao_subject=SAO, sao_email="sao@acme.example", account_manager=ACCOUNT_MANAGER,
            reseller=reseller, billing_info=billing_input(country, vat_id),
            user_emails=tuple(f"user{i}@acme.example" for i in range(users)),
            plan_id=plan_id, channel=channel, seats=seats, start=start, tenant_id=tenant_id,
        )
        return provision_tenant(deps, request)

    return _provision


@pytest.fixture
def set_subscription(repo: InMemoryRepository) -> SetSubscription:
    """Put the tenant's subscription into a state no self-service flow of this tier reaches yet
    (a prepaid renewal, past_due, ended), committed like any change: version + 1."""

    def _set(tenant_id: str = TENANT_ID, **changes: object) -> Subscription:
        state = repo.load_tenant(tenant_id)
        assert state is not None
        updated = state.subscriptions[0].bump(**changes)
        repo.commit(Changeset(tenant_id).write(updated))
        return updated

    return _set
