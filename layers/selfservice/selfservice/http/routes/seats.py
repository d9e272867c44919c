"""The seats function: schedule a seat reduction for the next period, and undo it (SPEC 2.6)."""

from __future__ import annotations

from typing import Any

from selfservice import bootstrap
from selfservice.http import presenters
from selfservice.http.auth import CurrentCaller
from selfservice.http.docs import responses
from selfservice.http.params import SubscriptionId
from selfservice.http.routes import new_router
from selfservice.http.schemas import AcknowledgedBody, SeatReductionBody, SubscriptionOut
from selfservice.services import subscriptions

router = new_router()

_ERRORS = (400, 401, 403, 404, 409, 422)


@router.post(
    "/subscriptions/<subscription_id>/seat-reduction",
    tags=["subscriptions"],
    summary="Reduce the seats from the next period on (acknowledged)",
    responses=responses(SubscriptionOut, errors=_ERRORS),
    operation_id="schedule_seat_reduction",
)
def schedule_seat_reduction(subscription_id: SubscriptionId, body: SeatReductionBody,
                            caller: CurrentCaller) -> dict[str, Any]:
    view = subscriptions.schedule_seat_reduction(
        bootstrap.deps(), caller, subscription_id, body.seats, body.acknowledged, body.acknowledgement_version
    )
    return presenters.subscription(view)


@router.post(
    "/subscriptions/<subscription_id>/seat-reduction/undo",
    tags=["subscriptions"],
    summary="Undo the scheduled seat reduction (acknowledged)",
    responses=responses(SubscriptionOut, errors=_ERRORS),
    operation_id="undo_seat_reduction",
)
def undo_seat_reduction(subscription_id: SubscriptionId, body: AcknowledgedBody,
                        caller: CurrentCaller) -> dict[str, Any]:
    view = subscriptions.undo_seat_reduction(
        bootstrap.deps(), caller, subscription_id, body.acknowledged, body.acknowledgement_version
    )
    return presenters.subscription(view)
