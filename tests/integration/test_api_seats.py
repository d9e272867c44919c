"""POST /subscriptions/{id}/seat-reduction and .../undo through the seats function (SPEC 2.6)."""

from __future__ import annotations

from typing import Any

import pytest
from selfservice import bootstrap
from selfservice.adapters.clock import ManualClock
from selfservice.domain.model import AuditEvent, TenantState
from selfservice.http.schemas import SubscriptionOut
from selfservice.ports import Changeset, Page, Repository

from .conftest import Tenant

ACK = {"acknowledged": True}


def reduce(request_as: Any, tenant: Tenant, body: Any, **options: Any) -> Any:
    return request_as(tenant, "seats", "seats-reduce", path={"subscription_id": tenant.subscription_id},
                      body=body, **options)


def undo(request_as: Any, tenant: Tenant, body: Any = ACK) -> Any:
    return request_as(tenant, "seats", "seats-undo", path={"subscription_id": tenant.subscription_id}, body=body)


def subscription(request_as: Any, tenant: Tenant) -> dict[str, Any]:
    result = request_as(tenant, "account", "account-subscription", path={"subscription_id": tenant.subscription_id})
    assert result.status == 200
    body: dict[str, Any] = result.body
    return body


def test_a_reduction_is_scheduled_for_the_next_period(business: Tenant, request_as: Any) -> None:
    result = reduce(request_as, business, {"seats": 6, **ACK, "acknowledgement_version": "seat-reduction/2026-01"})

    assert result.status == 200, result.body
    SubscriptionOut.model_validate(result.body)
    assert result.body["seats"] == 10  # the current seats stay available until the period ends
    assert result.body["scheduled_reduction"] == {
        "seats": 6, "effective_at": "2026-03-31T00:00:00Z",
        "requested_by": business.sao_subject, "requested_at": "2026-03-10T12:00:00Z",
    }
    assert subscription(request_as, business) == result.body


def test_a_new_reduction_replaces_the_scheduled_one(business: Tenant, request_as: Any) -> None:
    reduce(request_as, business, {"seats": 6, **ACK})

    result = reduce(request_as, business, {"seats": 5, **ACK})

    assert result.status == 200
    assert result.body["scheduled_reduction"]["seats"] == 5


def test_without_the_acknowledgement_nothing_changes(business: Tenant, request_as: Any) -> None:
    result = reduce(request_as, business, {"seats": 6, "acknowledged": False})

    assert result.status == 409
    assert result.error_code == "acknowledgement_required"
    assert result.body["error"]["details"]["acknowledgement"]["version"] == "seat-reduction/2026-01"
    assert subscription(request_as, business)["scheduled_reduction"] is None


def test_an_outdated_wording_version_is_refused(business: Tenant, request_as: Any) -> None:
    result = reduce(request_as, business, {"seats": 6, **ACK, "acknowledgement_version": "seat-reduction/2020-01"})

    assert result.status == 409
    assert result.error_code == "acknowledgement_required"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"seats": 6, "acknowledged": "true"}, "acknowledged", id="ack-string"),
        pytest.param({"seats": 6, "acknowledged": 1}, "acknowledged", id="ack-number"),
        pytest.param({"seats": 6}, "acknowledged", id="ack-missing"),
        pytest.param({"seats": 0, **ACK}, "seats", id="zero-seats"),
        pytest.param({"seats": 10001, **ACK}, "seats", id="too-many-seats"),
        pytest.param({"seats": 6.5, **ACK}, "seats", id="fraction"),
        pytest.param({"seats": "6", **ACK}, "seats", id="seats-string"),
        pytest.param({"seats": 6, **ACK, "effective_at": "now"}, "effective_at", id="unknown-field"),
        pytest.param({"seats": 6, **ACK, "acknowledgement_version": "v" * 65}, "acknowledgement_version",
                     id="version-too-long"),
    ],
)
def test_the_body_is_validated(business: Tenant, request_as: Any, body: dict[str, Any], field: str) -> None:
    result = reduce(request_as, business, body)

    assert result.status == 422
    assert result.error_code == "validation_error"
    errors = result.body["error"]["details"]["errors"]
    assert field in [e["field"] for e in errors]
    assert all(e["message"] and e["in"] == "body" for e in errors)


def test_a_target_below_the_active_users_is_refused(business: Tenant, request_as: Any) -> None:
    result = reduce(request_as, business, {"seats": 3, **ACK})

    assert result.status == 409
    assert result.error_code == "below_active_users"
    assert result.body["error"]["details"] == {"active_users": 4, "requested_seats": 3}


def test_recent_removals_still_count_and_the_refusal_says_when_to_retry(business: Tenant, request_as: Any,
                                                                        clock: ManualClock) -> None:
    for user_id in list(business.user_ids.values())[1:3]:
        removed = request_as(business, "users", "users-remove", path={"user_id": user_id})
        assert removed.status == 200
    clock.advance(30)

    early = reduce(request_as, business, {"seats": 2, **ACK})

    assert early.status == 409
    assert early.error_code == "below_active_users"
    # both removals at 12:00:00 settle 120 s later
    assert early.body["error"]["details"] == {
        "active_users": 4, "requested_seats": 2, "retry_after": "2026-03-10T12:02:00Z"}

    clock.advance(90)
    assert reduce(request_as, business, {"seats": 2, **ACK}).status == 200


def test_a_target_not_below_the_current_seats_is_refused(business: Tenant, request_as: Any) -> None:
    result = reduce(request_as, business, {"seats": 10, **ACK})

    assert result.status == 409
    assert result.error_code == "invalid_seat_count"


def test_enterprise_changes_go_through_the_account_manager(enterprise: Tenant, request_as: Any) -> None:
    result = reduce(request_as, enterprise, {"seats": 150, **ACK})

    assert result.status == 409
    assert result.error_code == "managed_by_account_manager"
    assert result.body["error"]["details"]["contact"] == {
        "kind": "account_manager", "name": "Astrid Lindqvist", "email": "astrid.lindqvist@nordlys.example"}
    assert "Astrid Lindqvist" in result.body["error"]["message"]


def test_reseller_changes_go_through_the_reseller(resold: Tenant, request_as: Any) -> None:
    result = reduce(request_as, resold, {"seats": 6, **ACK})

    assert result.status == 409
    assert result.error_code == "managed_by_reseller"
    assert result.body["error"]["details"]["contact"]["name"] == "Fjord Resellers AS"


def test_undo_restores_the_original_seats(business: Tenant, request_as: Any) -> None:
    reduce(request_as, business, {"seats": 6, **ACK})

    result = undo(request_as, business)

    assert result.status == 200, result.body
    assert result.body["seats"] == 10
    assert result.body["scheduled_reduction"] is None


def test_undo_needs_the_acknowledgement_and_something_to_undo(business: Tenant, request_as: Any) -> None:
    nothing = undo(request_as, business)
    reduce(request_as, business, {"seats": 6, **ACK})
    unacknowledged = undo(request_as, business, {"acknowledged": False})
    not_boolean = undo(request_as, business, {"acknowledged": "yes"})

    assert (nothing.status, nothing.error_code) == (409, "nothing_scheduled")
    assert (unacknowledged.status, unacknowledged.error_code) == (409, "acknowledgement_required")
    assert (not_boolean.status, not_boolean.error_code) == (422, "validation_error")
    assert subscription(request_as, business)["scheduled_reduction"]["seats"] == 6


def test_a_reduction_of_a_cancelled_subscription_is_refused(business: Tenant, request_as: Any) -> None:
    request_as(business, "cancellation", "cancellation-cancel", path={"subscription_id": business.subscription_id},
               body={"acknowledged": True})

    result = reduce(request_as, business, {"seats": 6, **ACK})

    assert result.status == 409
    assert result.error_code == "cancellation_scheduled"


class StaleRepository:
    """Serves a copy of the account read before someone else's change, as a request that loaded just
    before a concurrent one committed would see it."""

    def __init__(self, real: Repository, stale: TenantState) -> None:
        self._real = real
        self._stale = stale

    def load_tenant(self, tenant_id: str) -> TenantState | None:
        return self._stale

    def commit(self, changeset: Changeset) -> None:
        self._real.commit(changeset)

    def list_activity(self, tenant_id: str, limit: int, cursor: str | None) -> Page[AuditEvent]:
        return self._real.list_activity(tenant_id, limit, cursor)


def test_the_loser_of_a_race_gets_concurrent_update(business: Tenant, request_as: Any) -> None:
    real = bootstrap.deps().repo
    before = real.load_tenant(business.tenant_id)
    assert before is not None
    assert reduce(request_as, business, {"seats": 6, **ACK}).status == 200

    bootstrap.override(repo=StaleRepository(real, before))
    result = reduce(request_as, business, {"seats": 5, **ACK})

    assert result.status == 409
    assert result.error_code == "concurrent_update"
    bootstrap.override(repo=real)
    assert subscription(request_as, business)["scheduled_reduction"]["seats"] == 6
