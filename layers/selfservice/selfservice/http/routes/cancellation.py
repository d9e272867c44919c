"""The cancellation function: cancel at the end of the last paid period, and undo it (SPEC 2.7)."""

from __future__ import annotations

from typing import Any

from selfservice import bootstrap
from selfservice.http import presenters
from selfservice.http.auth import CurrentCaller
from selfservice.http.docs import responses
from selfservice.http.params import SubscriptionId
from selfservice.http.routes import new_router
from selfservice.http.schemas import AcknowledgedBody, CancellationBody, SubscriptionOut
from selfservice.services import subscriptions

router = new_router()

_ERRORS = (400, 401, 403, 404, 409, 422)


@router.post(
    "/subscriptions/<subscription_id>/cancellation",
    tags=["subscriptions"],
    summary="Cancel at the end of the last paid period (acknowledged)",
    responses=responses(SubscriptionOut, errors=_ERRORS),
    operation_id="schedule_cancellation",
)
def schedule_cancellation(subscription_id: SubscriptionId, body: CancellationBody,
                          caller: CurrentCaller) -> dict[str, Any]:
    view = subscriptions.schedule_cancellation(
        bootstrap.deps(), caller, subscription_id, body.acknowledged, body.reason, body.acknowledgement_version
    )
    return presenters.subscription(view)


@router.post(
    "/subscriptions/<subscription_id>/cancellation/undo",
    tags=["subscriptions"],
    summary="Undo the scheduled cancellation (acknowledged)",
    responses=responses(SubscriptionOut, errors=_ERRORS),
    operation_id="undo_cancellation",
)
def undo_cancellation(subscription_id: SubscriptionId, body: AcknowledgedBody,
                      caller: CurrentCaller) -> dict[str, Any]:
    view = subscriptions.undo_cancellation(
        bootstrap.deps(), caller, subscription_id, body.acknowledged, body.acknowledgement_version
    )
    return presenters.subscription(view)
