"""POST /subscriptions/{id}/cancellation and .../undo through the cancellation function (SPEC 2.7)."""

from __future__ import annotations

from typing import Any

import pytest
from selfservice.http.schemas import SubscriptionOut

from .conftest import Tenant


def cancel(request_as: Any, tenant: Tenant, body: Any) -> Any:
    return request_as(tenant, "cancellation", "cancellation-cancel", path={"subscription_id": tenant.subscription_id},
                      body=body)


def undo(request_as: Any, tenant: Tenant, body: Any) -> Any:
    return request_as(tenant, "cancellation", "cancellation-undo", path={"subscription_id": tenant.subscription_id},
                      body=body)


def test_cancellation_takes_effect_at_the_end_of_the_paid_period(business: Tenant, request_as: Any) -> None:
    result = cancel(request_as, business, {"acknowledged": True, "reason": "Budget cuts",
                                           "acknowledgement_version": "cancellation/2026-01"})

    assert result.status == 200, result.body
    SubscriptionOut.model_validate(result.body)
    assert result.body["cancel_at"] == "2026-03-31T00:00:00Z"
    assert result.body["cancellation_reason"] == "Budget cuts"
    assert result.body["status"] == "active"  # everything keeps working until then


def test_undo_withdraws_the_cancellation(business: Tenant, request_as: Any) -> None:
    cancel(request_as, business, {"acknowledged": True})

    result = undo(request_as, business, {"acknowledged": True})

    assert result.status == 200, result.body
    assert result.body["cancel_at"] is None


def test_a_second_cancellation_is_refused(business: Tenant, request_as: Any) -> None:
    cancel(request_as, business, {"acknowledged": True})

    result = cancel(request_as, business, {"acknowledged": True})

    assert result.status == 409
    assert result.error_code == "cancellation_scheduled"
    assert result.body["error"]["details"]["cancel_at"] == "2026-03-31T00:00:00Z"


def test_cancellation_and_undo_need_the_acknowledgement(business: Tenant, request_as: Any) -> None:
    refused = cancel(request_as, business, {"acknowledged": False})
    nothing = undo(request_as, business, {"acknowledged": True})

    assert (refused.status, refused.error_code) == (409, "acknowledgement_required")
    assert refused.body["error"]["details"]["acknowledgement"]["version"] == "cancellation/2026-01"
    assert (nothing.status, nothing.error_code) == (409, "nothing_scheduled")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"acknowledged": "true"}, "acknowledged", id="ack-string"),
        pytest.param({"acknowledged": None}, "acknowledged", id="ack-null"),
        pytest.param({"acknowledged": True, "reason": "r" * 1001}, "reason", id="reason-too-long"),
        pytest.param({"acknowledged": True, "reason": 7}, "reason", id="reason-number"),
        pytest.param({"acknowledged": True, "when": "now"}, "when", id="unknown-field"),
    ],
)
def test_the_body_is_validated(business: Tenant, request_as: Any, body: dict[str, Any], field: str) -> None:
    result = cancel(request_as, business, body)

    assert result.status == 422
    assert field in [e["field"] for e in result.body["error"]["details"]["errors"]]
    assert "r" * 1001 not in str(result.body)


def test_enterprise_and_reseller_subscriptions_are_cancelled_through_their_contact(
    enterprise: Tenant, resold: Tenant, request_as: Any
) -> None:
    managed = cancel(request_as, enterprise, {"acknowledged": True})
    resold_result = cancel(request_as, resold, {"acknowledged": True})

    assert (managed.status, managed.error_code) == (409, "managed_by_account_manager")
    assert managed.body["error"]["details"]["contact"]["email"] == "astrid.lindqvist@nordlys.example"
    assert (resold_result.status, resold_result.error_code) == (409, "managed_by_reseller")


def test_another_tenants_subscription_cannot_be_cancelled(business: Tenant, enterprise: Tenant,
                                                          request_as: Any) -> None:
    result = request_as(enterprise, "cancellation", "cancellation-cancel",
                        path={"subscription_id": business.subscription_id}, body={"acknowledged": True})

    assert result.status == 404
    assert result.error_code == "not_found"
