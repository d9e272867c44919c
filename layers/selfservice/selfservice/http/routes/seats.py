"""The seats function: add seats now and pay pro rata (SPEC 2.5; charges money, so the request needs an
Idempotency-Key), schedule a seat reduction for the next period, and undo it (SPEC 2.6)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response

from selfservice import bootstrap
from selfservice.http import idempotency, presenters
from selfservice.http.auth import CurrentCaller
from selfservice.http.docs import PAYMENT_ERRORS, responses
from selfservice.http.params import SubscriptionId
from selfservice.http.routes import new_router
from selfservice.http.schemas import (
    AcknowledgedBody,
    PaidChangeBody,
    PaymentResultOut,
    SeatReductionBody,
    SubscriptionOut,
)
from selfservice.services import payments, subscriptions

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


@router.post(
    "/subscriptions/<subscription_id>/seats",
    tags=["subscriptions"],
    summary="Add seats now and pay pro rata (Idempotency-Key required)",
    responses=responses(PaymentResultOut, status=201, description="Seats added and paid: the invoice is issued "
                        "(200 with invoice null when nothing was due)", errors=PAYMENT_ERRORS),
    operation_id="add_seats",
)
def add_seats(subscription_id: SubscriptionId, body: PaidChangeBody, caller: CurrentCaller,
              idempotency_key: idempotency.IdempotencyKeyHeader = None) -> Response[Any]:
    key = idempotency.require_key(idempotency_key)
    request = payments.PaymentRequest(key, body.payment_method_id, body.seats, body.expected_total)

    def work() -> tuple[int, Any]:
        outcome = payments.add_seats(bootstrap.deps(), caller, subscription_id, request)
        return (201 if outcome.invoice else 200), presenters.payment_outcome(outcome)

    return idempotency.run_once(caller=caller, operation="seats", resource_id=subscription_id, key=key,
                                body=body.model_dump(mode="json"), work=work, lambda_context=router.lambda_context)
