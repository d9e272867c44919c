"""GET /users, POST /users and DELETE /users/{id} through the users function (SPEC 2.1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from selfservice.adapters.clock import ManualClock
from selfservice.http.schemas import UserListOut, UserOut

from .conftest import Tenant


def assign(request_as: Any, tenant: Tenant, email: Any) -> Any:
    return request_as(tenant, "users", "users-assign", body={"email": email})


def remove(request_as: Any, tenant: Tenant, user_id: str) -> Any:
    return request_as(tenant, "users", "users-remove", path={"user_id": user_id})


def test_users_are_listed(business: Tenant, request_as: Any) -> None:
    result = request_as(business, "users", "users-list")

    assert result.status == 200
    UserListOut.model_validate(result.body)
    assert result.body["next_cursor"] is None
    assert {u["email"] for u in result.body["items"]} == set(business.user_ids)
    assert all(u["status"] == "active" and u["removed_at"] is None for u in result.body["items"])


def test_a_user_is_assigned_and_counts_as_active(business: Tenant, request_as: Any) -> None:
    result = assign(request_as, business, "  New.Analyst@Acme.example ")

    assert result.status == 201, result.body
    UserOut.model_validate(result.body)
    assert result.body["email"] == "new.analyst@acme.example"
    assert result.body["status"] == "active"
    account = request_as(business, "account", "account-get")
    assert account.body["subscriptions"][0]["active_users"] == 5


def test_the_same_user_twice_is_refused(business: Tenant, request_as: Any) -> None:
    result = assign(request_as, business, "maria.berg@acme.example")

    assert (result.status, result.error_code) == (409, "user_exists")


@pytest.mark.parametrize(
    "email",
    [
        pytest.param("no-at-sign", id="no-at"),
        pytest.param("a@b", id="no-dot-domain"),
        pytest.param("x" * 250 + "@acme.example", id="too-long"),
        pytest.param(42, id="number"),
        pytest.param("", id="empty"),
    ],
)
def test_a_bad_email_is_refused(business: Tenant, request_as: Any, email: Any) -> None:
    result = assign(request_as, business, email)

    assert (result.status, result.error_code) == (422, "validation_error")
    assert result.body["error"]["details"]["errors"][0]["field"] == "email"
    assert "x" * 250 not in str(result.body)


def test_no_free_seat_is_refused(provision: Callable[..., Tenant], request_as: Any) -> None:
    full = provision(seats=4)  # the SAO and 3 users

    result = assign(request_as, full, "fifth@acme.example")

    assert (result.status, result.error_code) == (409, "no_free_seats")
    assert result.body["error"]["details"] == {"seats": 4, "active_users": 4}


def test_an_assignment_beyond_a_scheduled_reduction_is_refused(business: Tenant, request_as: Any) -> None:
    reduced = request_as(business, "seats", "seats-reduce", path={"subscription_id": business.subscription_id},
                         body={"seats": 4, "acknowledged": True})
    assert reduced.status == 200

    result = assign(request_as, business, "fifth@acme.example")

    assert (result.status, result.error_code) == (409, "seat_reduction_pending")
    assert result.body["error"]["details"]["scheduled_seats"] == 4


def test_a_removed_user_keeps_the_seat_for_two_minutes(business: Tenant, request_as: Any,
                                                       clock: ManualClock) -> None:
    user_id = business.user_ids["maria.berg@acme.example"]

    result = remove(request_as, business, user_id)

    assert result.status == 200, result.body
    UserOut.model_validate(result.body)
    assert result.body["status"] == "removed"
    assert result.body["removed_at"] == "2026-03-10T12:00:00Z"
    assert request_as(business, "account", "account-get").body["subscriptions"][0]["active_users"] == 4
    clock.advance(120)
    assert request_as(business, "account", "account-get").body["subscriptions"][0]["active_users"] == 3
    again = remove(request_as, business, user_id)
    assert (again.status, again.error_code) == (409, "user_already_removed")


def test_another_tenants_user_is_404_like_a_missing_one(business: Tenant, enterprise: Tenant,
                                                        request_as: Any) -> None:
    theirs = remove(request_as, business, next(iter(enterprise.user_ids.values())))
    missing = remove(request_as, business, "usr_" + "0" * 26)
    malformed = remove(request_as, business, "../../TENANT")

    assert theirs.status == missing.status == malformed.status == 404
    assert theirs.error_code == missing.error_code == malformed.error_code == "not_found"
    assert theirs.body["error"]["message"] == missing.body["error"]["message"]
    assert request_as(enterprise, "users", "users-list").body["items"][0]["status"] == "active"
