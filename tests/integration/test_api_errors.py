"""The error contract shared by every function: one body shape, 400 for a body that is not a JSON
object, 404/405 for unknown routes, 415, and 500 without any internals."""

from __future__ import annotations

from typing import Any

import pytest
from selfservice import bootstrap
from selfservice.domain.model import AuditEvent, TenantState
from selfservice.http import errors
from selfservice.http.schemas import ErrorOut
from selfservice.ports import Changeset, Page
from support.events import http_event
from support.functions import call

from .conftest import Tenant


def reduction(tenant: Tenant, **options: Any) -> dict[str, Any]:
    return http_event("seats-reduce", claims=tenant.claims(), path={"subscription_id": tenant.subscription_id},
                      **options)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param('{"seats": 6, "acknowledged": true', id="truncated"),
        pytest.param("{'seats': 6}", id="single-quotes"),
        pytest.param("seats=6&acknowledged=true", id="form-encoded-as-json"),
        pytest.param('{"seats": 6,}', id="trailing-comma"),
    ],
)
def test_malformed_json_is_400(business: Tenant, raw: str) -> None:
    result = call("seats", reduction(business, body=raw))

    assert result.status == 400
    ErrorOut.model_validate(result.body)
    assert result.body["error"] == {
        "code": "malformed_json", "message": "The request body is not valid JSON.", "details": {}}


@pytest.mark.parametrize("raw", ["[6, true]", '"six"', "6", "true"])
def test_a_json_body_that_is_not_an_object_is_400(business: Tenant, raw: str) -> None:
    result = call("seats", reduction(business, body=raw))

    assert result.status == 400
    assert result.error_code == "malformed_json"


@pytest.mark.parametrize("raw", [None, "", "null"])
def test_a_missing_body_is_422(business: Tenant, raw: str | None) -> None:
    result = call("seats", reduction(business, body=raw))

    assert result.status == 422
    assert result.body["error"]["details"]["errors"] == [{"field": "body", "message": "is required", "in": "body"}]


def test_a_body_that_is_not_json_is_415(business: Tenant) -> None:
    result = call("seats", reduction(business, body="seats=6", headers={"content-type": "text/plain"}))

    assert result.status == 415
    assert result.error_code == "unsupported_media_type"


def test_many_problems_are_reported_field_by_field_without_echoing_input(business: Tenant) -> None:
    body = {"seats": -1, "acknowledged": "yes", **{f"field_{i}_" + "k" * 100: "v" * 800 for i in range(30)}}

    result = call("seats", reduction(business, body=body))

    assert result.status == 422
    errors = result.body["error"]["details"]["errors"]
    assert len(errors) == 20  # bounded
    assert {"field": "seats", "message": "must be at least 1", "in": "body"} in errors
    assert {"field": "acknowledged", "message": "must be true or false (a JSON boolean)", "in": "body"} in errors
    assert all(len(e["field"]) <= 64 for e in errors)
    assert "v" * 100 not in str(result.body)
    assert result.body["error"]["message"].startswith("The request is not valid: ")


def test_an_unknown_route_is_404(api: Any) -> None:
    event = http_event("account-get")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/admin/tenants"

    result = call("account", event)

    assert result.status == 404
    assert result.body == {"error": {"code": "not_found", "message": "No such route.", "details": {}}}


def test_a_known_path_with_another_method_is_405(api: Any) -> None:
    result = call("account", http_event("account-get", method="DELETE"))

    assert result.status == 405
    assert result.error_code == "method_not_allowed"
    assert result.body["error"]["details"] == {"allowed": ["GET"]}
    assert result.headers["Allow"] == "GET"


class BrokenRepository:
    def load_tenant(self, tenant_id: str) -> TenantState | None:
        raise RuntimeError("connection to dynamodb.internal:443 refused (secret-table-name)")

    def commit(self, changeset: Changeset) -> None:
        raise AssertionError

    def list_activity(self, tenant_id: str, limit: int, cursor: str | None) -> Page[AuditEvent]:
        raise AssertionError


def test_an_unexpected_error_is_500_without_internals(business: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    logged: list[tuple[str, Any]] = []
    monkeypatch.setattr(errors.logger, "error", lambda message, **kw: logged.append((message, kw.get("exc_info"))))
    bootstrap.override(repo=BrokenRepository())

    result = call("account", http_event("account-get", claims=business.claims()))

    assert result.status == 500
    assert result.body == {"error": {
        "code": "internal_error", "message": "Something went wrong on our side; please try again.", "details": {}}}
    assert "secret" not in result.raw["body"]
    assert "Traceback" not in result.raw["body"]
    # the details go to the log, with the stack trace
    [(message, exc_info)] = logged
    assert message == "unhandled error"
    assert "secret-table-name" in str(exc_info)
    assert exc_info.__traceback__ is not None
