"""POST /subscriptions/{id}/upgrade-request through the upgrade function (SPEC 2.8)."""

from __future__ import annotations

from typing import Any

from selfservice.adapters.clock import ManualClock
from selfservice.http.schemas import UpgradeRequestOut

from .conftest import Tenant


def upgrade(request_as: Any, tenant: Tenant, body: Any) -> Any:
    return request_as(tenant, "upgrade", "upgrade", path={"subscription_id": tenant.subscription_id}, body=body)


def test_an_upgrade_request_is_recorded_and_names_the_account_manager(business: Tenant, request_as: Any,
                                                                     clock: ManualClock) -> None:
    clock.advance(60)  # activity ids sort by time: after the provisioning record
    result = upgrade(request_as, business, {"message": "We need capacity pricing for 300 analysts."})

    assert result.status == 201, result.body
    UpgradeRequestOut.model_validate(result.body)
    assert result.body["id"].startswith("upg_")
    assert result.body["subscription_id"] == business.subscription_id
    assert result.body["status"] == "received"
    assert result.body["message"] == "We need capacity pricing for 300 analysts."
    assert result.body["account_manager"] == {
        "name": "Astrid Lindqvist", "email": "astrid.lindqvist@nordlys.example"}
    assert result.body["requested_at"] == "2026-03-10T12:01:00Z"

    activity = request_as(business, "activity", "activity", query={"limit": "1"})
    [latest] = activity.body["items"]
    assert latest["type"] == "subscription.upgrade_requested"
    assert latest["data"]["request_id"] == result.body["id"]


def test_the_body_is_optional(business: Tenant, request_as: Any) -> None:
    no_body = upgrade(request_as, business, None)
    empty = upgrade(request_as, business, {})

    assert no_body.status == empty.status == 201
    assert no_body.body["message"] is None


def test_the_message_is_bounded_and_nothing_else_is_accepted(business: Tenant, request_as: Any) -> None:
    too_long = upgrade(request_as, business, {"message": "m" * 2001})
    unknown = upgrade(request_as, business, {"message": "hi", "seats": 500})

    assert (too_long.status, too_long.error_code) == (422, "validation_error")
    assert too_long.body["error"]["details"]["errors"] == [
        {"field": "message", "message": "must be at most 2000 characters", "in": "body"}]
    assert (unknown.status, unknown.error_code) == (422, "validation_error")


def test_reseller_subscriptions_ask_the_reseller(resold: Tenant, request_as: Any) -> None:
    result = upgrade(request_as, resold, {"message": "hi"})

    assert (result.status, result.error_code) == (409, "managed_by_reseller")
