"""GET /activity through the activity function: the audit history, newest first, paginated (SPEC 2.14)."""

from __future__ import annotations

from typing import Any

import pytest
from selfservice.adapters.clock import ManualClock
from selfservice.http.schemas import ActivityListOut

from .conftest import Tenant


def test_a_reduction_shows_up_with_its_acknowledgement(business: Tenant, request_as: Any, clock: ManualClock) -> None:
    clock.advance(60)
    request_as(business, "seats", "seats-reduce", path={"subscription_id": business.subscription_id},
               body={"seats": 6, "acknowledged": True, "acknowledgement_version": "seat-reduction/2026-01"})

    result = request_as(business, "activity", "activity")

    assert result.status == 200
    ActivityListOut.model_validate(result.body)
    latest, provisioned = result.body["items"]
    assert result.body["next_cursor"] is None
    assert provisioned["type"] == "tenant.provisioned"
    assert latest["type"] == "subscription.reduction_scheduled"
    assert latest["actor"] == business.sao_subject
    assert latest["subject_id"] == business.subscription_id
    assert latest["at"] == "2026-03-10T12:01:00Z"
    assert latest["acknowledgement"]["version"] == "seat-reduction/2026-01"
    assert latest["acknowledgement"]["accepted_by"] == business.sao_subject
    assert latest["acknowledgement"]["accepted_at"] == "2026-03-10T12:01:00Z"
    assert "next subscription period" in latest["acknowledgement"]["text"]
    assert latest["before"]["scheduled_reduction"] is None
    assert latest["after"]["scheduled_reduction"] == {"seats": 6, "effective_at": "2026-03-31T00:00:00Z"}
    assert latest["data"]["seats"] == 6


def test_pages_follow_the_cursor(business: Tenant, request_as: Any, clock: ManualClock) -> None:
    for seats in (9, 8, 7):
        clock.advance(10)
        request_as(business, "seats", "seats-reduce", path={"subscription_id": business.subscription_id},
                   body={"seats": seats, "acknowledged": True})

    seen: list[int] = []
    cursor = None
    for _ in range(5):
        query = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        page = request_as(business, "activity", "activity", query=query)
        assert page.status == 200, page.body
        seen += [item.get("data", {}).get("seats", 0) for item in page.body["items"]]
        cursor = page.body["next_cursor"]
        if cursor is None:
            break
    assert seen == [7, 8, 9, 10]  # newest first; the provisioning record carries the initial 10 seats


def test_another_tenants_cursor_is_refused(business: Tenant, enterprise: Tenant, request_as: Any,
                                           clock: ManualClock) -> None:
    clock.advance(10)
    request_as(business, "upgrade", "upgrade", path={"subscription_id": business.subscription_id}, body={})
    cursor = request_as(business, "activity", "activity", query={"limit": "1"}).body["next_cursor"]
    assert cursor

    result = request_as(enterprise, "activity", "activity", query={"cursor": cursor})

    assert (result.status, result.error_code) == (422, "invalid_input")


@pytest.mark.parametrize(
    "query",
    [
        pytest.param({"limit": "0"}, id="limit-zero"),
        pytest.param({"limit": "101"}, id="limit-too-large"),
        pytest.param({"limit": "ten"}, id="limit-not-a-number"),
        pytest.param({"cursor": "c" * 513}, id="cursor-too-long"),
    ],
)
def test_the_query_is_validated(business: Tenant, request_as: Any, query: dict[str, str]) -> None:
    result = request_as(business, "activity", "activity", query=query)

    assert (result.status, result.error_code) == (422, "validation_error")
    assert "c" * 513 not in str(result.body)


def test_a_garbled_cursor_is_invalid_input(business: Tenant, request_as: Any) -> None:
    result = request_as(business, "activity", "activity", query={"cursor": "not-a-cursor"})

    assert (result.status, result.error_code) == (422, "invalid_input")
