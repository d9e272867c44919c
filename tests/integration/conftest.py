"""Fixtures of the API tests: every request goes through a real function handler (functions/<flow>/app.py)
on moto, with the table created from template.yaml (the `aws` fixture of tests/conftest.py), the clock
overridden through the composition root, and tenants created by the provisioning function."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from selfservice import bootstrap
from selfservice.adapters.clock import ManualClock
from support.events import http_event, load_event
from support.functions import HttpResult, call, invoke

NOW = datetime(2026, 3, 10, 12, 0, 0, tzinfo=UTC)
SAO_ROLE = "[service_account_owner]"  # how API Gateway passes an array claim


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    subscription_id: str
    sao_subject: str
    user_ids: dict[str, str]  # e-mail -> id
    provisioned: dict[str, Any]

    def claims(self) -> dict[str, Any]:
        return {"tenant_id": self.tenant_id, "sub": self.sao_subject, "roles": SAO_ROLE}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def api(aws: dict[str, str], clock: ManualClock) -> Iterator[ManualClock]:
    """Functions wired to moto (settings read from the env the `aws` fixture set) and the manual clock."""
    bootstrap.reset()
    bootstrap.override(clock=clock)
    yield clock
    bootstrap.reset()


def provisioning_payload(**changes: Any) -> dict[str, Any]:
    payload = load_event("provisioning")
    for key, value in changes.items():
        if value is None:
            payload.pop(key, None)
        else:
            payload[key] = value
    return payload


@pytest.fixture
def provision(api: ManualClock) -> Callable[..., Tenant]:
    counter = iter(range(1, 1000))

    def create(**changes: Any) -> Tenant:
        n = next(counter)
        changes.setdefault("sao_subject", f"sao-subject-{n}")
        changes.setdefault("sao_email", f"sao{n}@acme.example")
        result = invoke("provisioning", provisioning_payload(**changes))
        assert "error" not in result, result
        return Tenant(
            tenant_id=result["tenant_id"],
            subscription_id=result["subscription_id"],
            sao_subject=result["sao_subject"],
            user_ids={user["email"]: user["id"] for user in result["users"]},
            provisioned=result,
        )

    return create


@pytest.fixture
def business(provision: Callable[..., Tenant]) -> Tenant:
    """Business, bought directly, monthly: 10 seats, the SAO and 3 users (4 active)."""
    return provision()


@pytest.fixture
def enterprise(provision: Callable[..., Tenant]) -> Tenant:
    return provision(plan_id="enterprise-annual-eur", seats=200, tenant_name="Globex Enterprise")


@pytest.fixture
def resold(provision: Callable[..., Tenant]) -> Tenant:
    return provision(
        plan_id="business-annual-eur", channel="reseller", tenant_name="Initech via Fjord",
        reseller={"name": "Fjord Resellers AS", "email": "sales@fjord.example"},
    )


@pytest.fixture
def request_as() -> Callable[..., HttpResult]:
    """request_as(tenant, flow, event_name, **http_event options): the call as the tenant's SAO."""

    def send(tenant: Tenant, flow: str, event: str, **options: Any) -> HttpResult:
        claims = {**tenant.claims(), **options.pop("claims", {})}
        return call(flow, http_event(event, claims=claims, **options))

    return send
