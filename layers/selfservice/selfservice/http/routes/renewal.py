"""The renewal function: renew for the next term and pay (SPEC 2.4). Charges money: the request needs an
Idempotency-Key (selfservice.http.idempotency)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response

from selfservice import bootstrap
from selfservice.http import idempotency, presenters
from selfservice.http.auth import CurrentCaller
from selfservice.http.docs import PAYMENT_ERRORS, responses
from selfservice.http.params import SubscriptionId
from selfservice.http.routes import new_router
from selfservice.http.schemas import PaidChangeBody, PaymentResultOut
from selfservice.services import payments

router = new_router()

@router.post(
    "/subscriptions/<subscription_id>/renewal",
    tags=["subscriptions"],
    summary="Renew for the next term and pay for it (Idempotency-Key required)",
    responses=responses(PaymentResultOut, status=201, description="Renewed and paid: the invoice is issued",
                        errors=PAYMENT_ERRORS),
    operation_id="renew_subscription",
)
def renew(subscription_id: SubscriptionId, body: PaidChangeBody, caller: CurrentCaller,
          idempotency_key: idempotency.IdempotencyKeyHeader = None) -> Response[Any]:
    key = idempotency.require_key(idempotency_key)
    request = payments.PaymentRequest(key, body.payment_method_id, body.seats, body.expected_total)

    def work() -> tuple[int, Any]:
        outcome = payments.renew(bootstrap.deps(), caller, subscription_id, request)
        return 201, presenters.payment_outcome(outcome)

    return idempotency.run_once(caller=caller, operation="renewal", resource_id=subscription_id, key=key,
                                body=body.model_dump(mode="json"), work=work, lambda_context=router.lambda_context)
