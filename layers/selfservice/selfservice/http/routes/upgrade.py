"""The upgrade function: ask the account manager for an upgrade to capacity-based (SPEC 2.8)."""

from __future__ import annotations

from typing import Any

from selfservice import bootstrap
from selfservice.http import presenters
from selfservice.http.auth import CurrentCaller
from selfservice.http.docs import responses
from selfservice.http.params import SubscriptionId
from selfservice.http.routes import new_router
from selfservice.http.schemas import UpgradeRequestBody, UpgradeRequestOut
from selfservice.services import subscriptions

router = new_router()


@router.post(
    "/subscriptions/<subscription_id>/upgrade-request",
    status_code=201,
    tags=["subscriptions"],
    summary="Ask the account manager for an upgrade (the body is optional)",
    responses=responses(UpgradeRequestOut, status=201, description="Recorded", errors=(400, 401, 403, 404, 409, 422)),
    operation_id="request_upgrade",
)
def request_upgrade(subscription_id: SubscriptionId, caller: CurrentCaller,
                    body: UpgradeRequestBody | None = None) -> dict[str, Any]:
    message = body.message if body is not None else None
    receipt = subscriptions.request_upgrade(bootstrap.deps(), caller, subscription_id, message)
    return presenters.upgrade_request(receipt)
