"""Who may call: the tenant and the subject come only from the verified JWT claims; only the service
account owner may use the API, whatever form the gateway passes the roles claim in."""

from __future__ import annotations

from typing import Any

import pytest
from support.events import http_event
from support.functions import call

from .conftest import Tenant

# One event per function and route kind: (flow, event name, needs a subscription or user path id).
ROUTES = [
    ("account", "account-get"),
    ("account", "account-billing-info-get"),
    ("account", "account-billing-info-put"),
    ("account", "account-subscriptions"),
    ("account", "account-subscription"),
    ("account", "account-quote"),
    ("seats", "seats-reduce"),
    ("seats", "seats-undo"),
    ("cancellation", "cancellation-cancel"),
    ("cancellation", "cancellation-undo"),
    ("upgrade", "upgrade"),
    ("users", "users-list"),
    ("users", "users-assign"),
    ("users", "users-remove"),
    ("activity", "activity"),
]


def _event(tenant: Tenant, name: str, **claims: Any) -> dict[str, Any]:
    path = {}
    if "subscription" in name or name.startswith(("seats", "cancellation", "upgrade", "account-quote")):
        path = {"subscription_id": tenant.subscription_id}
    if name == "users-remove":
        path = {"user_id": next(iter(tenant.user_ids.values()))}
    return http_event(name, claims={**tenant.claims(), **claims}, path=path or None)


@pytest.mark.parametrize(("flow", "name"), ROUTES, ids=[name for _, name in ROUTES])
def test_a_member_who_is_not_the_sao_gets_403_on_every_route(business: Tenant, flow: str, name: str) -> None:
    result = call(flow, _event(business, name, roles="[member analyst]"))

    assert result.status == 403
    assert result.error_code == "forbidden"


@pytest.mark.parametrize(("flow", "name"), ROUTES, ids=[name for _, name in ROUTES])
def test_no_identity_is_401_on_every_route(business: Tenant, flow: str, name: str) -> None:
    no_tenant = call(flow, _event(business, name, tenant_id=None))
    no_subject = call(flow, _event(business, name, sub=None))

    assert no_tenant.status == no_subject.status == 401
    assert no_tenant.error_code == "unauthorized"


def test_no_authorizer_context_at_all_is_401(api: Any) -> None:
    event = http_event("account-get")
    del event["requestContext"]["authorizer"]

    result = call("account", event)

    assert result.status == 401


@pytest.mark.parametrize(
    "roles",
    [
        pytest.param("[service_account_owner]", id="gateway-array-one"),
        pytest.param("[member service_account_owner]", id="gateway-array-two"),
        pytest.param('["member","service_account_owner"]', id="json-array-string"),
        pytest.param(["member", "service_account_owner"], id="real-list"),
        pytest.param("member service_account_owner", id="space-separated"),
        pytest.param("member,service_account_owner", id="comma-separated"),
        pytest.param("service_account_owner", id="bare"),
    ],
)
def test_roles_are_read_in_every_form(business: Tenant, roles: Any) -> None:
    result = call("account", _event(business, "account-get", roles=roles))

    assert result.status == 200


@pytest.mark.parametrize(
    "roles",
    [
        pytest.param("[service_account_owner_x]", id="prefix-is-not-the-role"),
        pytest.param("[]", id="empty"),
        pytest.param("", id="blank"),
        pytest.param(None, id="absent"),
        pytest.param(42, id="not-text"),
    ],
)
def test_anything_else_is_not_the_sao(business: Tenant, roles: Any) -> None:
    result = call("account", _event(business, "account-get", roles=roles))

    assert result.status == 403


def test_the_tenant_comes_from_the_token_not_the_path_or_body(business: Tenant, enterprise: Tenant) -> None:
    # The enterprise SAO asks for the business tenant's subscription: not theirs, so it does not exist.
    event = http_event("account-subscription", claims=enterprise.claims(),
                       path={"subscription_id": business.subscription_id})
    body_tenant = http_event("users-assign", claims=enterprise.claims(),
                             body={"email": "x@acme.example", "tenant_id": business.tenant_id})

    assert call("account", event).status == 404
    assert call("users", body_tenant).status == 422  # tenant_id is not a field of any body


def test_authorisation_is_checked_before_the_body(business: Tenant) -> None:
    event = _event(business, "seats-reduce", roles="[member]")
    event["body"] = '{"seats": "many", "extra": true}'

    result = call("seats", event)

    assert result.status == 403
