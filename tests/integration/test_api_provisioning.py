"""The provisioning function (direct invoke): a tenant with its SAO, billing information, users and one
subscription; bad input is answered with an error object, never raised."""

from __future__ import annotations

from typing import Any

import pytest
from selfservice.http.schemas import SubscriptionOut, UserOut
from support.events import load_event
from support.functions import invoke

from .conftest import provisioning_payload


def test_a_tenant_is_provisioned_and_usable_by_its_sao(api: Any) -> None:
    result = invoke("provisioning", load_event("provisioning"))

    assert "error" not in result, result
    assert result["tenant_id"].startswith("ten_")
    assert result["subscription_id"].startswith("sub_")
    assert result["sao_subject"] == "3f6c2a1e-8d4b-4c1a-9f0e-7b2d5c8a9e11"
    assert [u["email"] for u in result["users"]] == [
        "sao@acme.example", "maria.berg@acme.example", "johan.ek@acme.example", "li.wei@acme.example"]
    for user in result["users"]:
        UserOut.model_validate(user)
    SubscriptionOut.model_validate(result["subscription"])
    assert result["subscription"]["seats"] == 10
    assert result["subscription"]["active_users"] == 4


def test_a_given_tenant_id_is_used_once(api: Any) -> None:
    first = invoke("provisioning", provisioning_payload(tenant_id="acme-analytics"))
    second = invoke("provisioning", provisioning_payload(tenant_id="acme-analytics"))

    assert first["tenant_id"] == "acme-analytics"
    assert second == {"error": {"code": "tenant_exists", "message": "A tenant with this id exists.",
                                "details": {"tenant_id": "acme-analytics"}}}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"tenant_name": None}, "tenant_name", id="missing-name"),
        pytest.param({"seats": 0}, "seats", id="zero-seats"),
        pytest.param({"seats": "10"}, "seats", id="seats-string"),
        pytest.param({"channel": "retail"}, "channel", id="unknown-channel"),
        pytest.param({"sao_email": "nope"}, "sao_email", id="bad-sao-email"),
        pytest.param({"users": ["ok@acme.example", "broken"]}, "users[1]", id="bad-user-email"),
        pytest.param({"users": [f"u{i}@acme.example" for i in range(501)]}, "users", id="too-many-users"),
        pytest.param({"start": "next monday"}, "start", id="start-not-a-date"),
        pytest.param({"start": "2026-01-31T00:00:00"}, "start", id="start-without-offset"),
        pytest.param({"tenant_id": "TENANT#x"}, "tenant_id", id="tenant-id-with-key-separator"),
        pytest.param({"plan": "business"}, "plan", id="unknown-field"),
        pytest.param({"account_manager": {"name": "A"}}, "account_manager.email", id="nested-missing"),
    ],
)
def test_bad_input_returns_an_error_object(api: Any, changes: dict[str, Any], field: str) -> None:
    result = invoke("provisioning", provisioning_payload(**changes))

    assert set(result) == {"error"}
    assert result["error"]["code"] == "validation_error"
    assert result["error"]["message"].startswith("The payload is not valid: ")
    assert field in [e["field"] for e in result["error"]["details"]["errors"]]


@pytest.mark.parametrize("event", [None, [], "provision please", 42])
def test_a_payload_that_is_not_an_object_returns_an_error_object(api: Any, event: Any) -> None:
    result = invoke("provisioning", event)

    assert result["error"]["code"] == "validation_error"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        pytest.param({"plan_id": "platinum"}, "invalid_input", id="unknown-plan"),
        pytest.param({"channel": "reseller"}, "invalid_input", id="reseller-without-reseller"),
        pytest.param({"seats": 3}, "below_active_users", id="fewer-seats-than-users"),
        pytest.param({"seats": 501}, "seat_limit_exceeded", id="above-the-plan-limit"),
        pytest.param({"billing_info": {**load_event("provisioning")["billing_info"], "country": "XX"}},
                     "invalid_input", id="unknown-country"),
    ],
)
def test_refusals_of_the_domain_return_an_error_object(api: Any, changes: dict[str, Any], code: str) -> None:
    result = invoke("provisioning", provisioning_payload(**changes))

    assert set(result) == {"error"}
    assert result["error"]["code"] == code
