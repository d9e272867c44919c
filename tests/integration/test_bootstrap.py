"""The composition root: settings from the environment once per container, real adapters built on
first use, and the hooks the tests and the local run use to swap the clock or everything."""

from __future__ import annotations

from typing import Any

import pytest
from selfservice import bootstrap
from selfservice.adapters.clock import ManualClock, SystemClock
from selfservice.adapters.dynamo import DynamoRepository
from selfservice.adapters.memory import InMemoryRepository
from selfservice.domain.catalog import load_catalog
from selfservice.services import Deps
from support.events import http_event
from support.functions import call

from .conftest import NOW, Tenant


@pytest.fixture
def fresh(aws: dict[str, str]) -> Any:
    bootstrap.reset()
    yield
    bootstrap.reset()


def test_real_adapters_are_built_once_from_the_environment(fresh: Any) -> None:
    first = bootstrap.deps()

    assert isinstance(first.repo, DynamoRepository)
    assert isinstance(first.clock, SystemClock)
    assert first.catalog is load_catalog()
    assert bootstrap.deps() is first


def test_overrides_replace_single_ports(fresh: Any) -> None:
    real = bootstrap.deps()
    clock = ManualClock(NOW)

    bootstrap.override(clock=clock)

    assert bootstrap.deps().clock is clock
    assert bootstrap.deps().repo is real.repo


def test_configure_replaces_everything_and_reset_forgets_it(fresh: Any) -> None:
    fake = Deps(InMemoryRepository(), ManualClock(NOW), load_catalog())

    bootstrap.configure(fake)
    assert bootstrap.deps() is fake
    bootstrap.reset()

    assert isinstance(bootstrap.deps().repo, DynamoRepository)


def test_without_a_table_the_store_cannot_be_built(fresh: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TABLE_NAME")

    with pytest.raises(bootstrap.SettingsError, match="TABLE_NAME"):
        bootstrap.deps()
    result = call("account", http_event("account-get"))
    assert result.status == 500
    assert result.error_code == "internal_error"
    assert "TABLE_NAME" not in result.raw["body"]


def test_claim_names_come_from_the_environment(business: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TENANT_CLAIM", "custom:org")
    monkeypatch.setenv("ROLES_CLAIM", "cognito:groups")
    bootstrap.reset()
    bootstrap.override(clock=ManualClock(NOW))
    claims = {"tenant_id": None, "roles": None, "custom:org": business.tenant_id,
              "cognito:groups": "[service_account_owner]", "sub": business.sao_subject}

    result = call("account", http_event("account-get", claims=claims))
    default_names = call("account", http_event("account-get", claims=business.claims()))

    assert result.status == 200
    assert result.body["tenant"]["id"] == business.tenant_id
    assert default_names.status == 401
