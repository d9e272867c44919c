"""The payment methods function: the tenant's saved cards (SPEC 2.10). Card details never reach it: a
card is added by the token the client got from the gateway's tokeniser (POST /sandbox/card-tokens)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types

from selfservice import bootstrap
from selfservice.http import pages, presenters
from selfservice.http.auth import CurrentCaller
from selfservice.http.docs import responses
from selfservice.http.params import PaymentMethodId
from selfservice.http.routes import new_router
from selfservice.http.schemas import AddPaymentMethodBody, PaymentMethodListOut, PaymentMethodOut
from selfservice.services import payment_methods

router = new_router()

_ADDED = responses(PaymentMethodOut, status=201, description="Added", errors=(400, 401, 403, 404, 409, 422)) | {
    200: {"description": "The same card was already saved: this is it (updated if its expiry changed)",
          "content": {"application/json": {"model": PaymentMethodOut}}},
}


@router.get(
    "/payment-methods",
    summary="The saved cards, the default flagged",
    tags=["payment methods"],
    responses=responses(PaymentMethodListOut, errors=(401, 403, 404, 422)),
    operation_id="list_payment_methods",
)
def list_payment_methods(caller: CurrentCaller, cursor: pages.Cursor = None,
                         limit: pages.PageSize = pages.MAX_PAGE_SIZE) -> dict[str, Any]:
    views = payment_methods.list_payment_methods(bootstrap.deps(), caller)  # oldest first: card ids sort by time
    page, next_cursor = pages.page_of(views, key=lambda v: v.card.id, limit=limit, cursor=cursor,
                                      tenant_id=caller.tenant_id)
    return presenters.payment_method_list(page, next_cursor)


@router.post(
    "/payment-methods",
    summary="Save a card by its gateway token (the first card becomes the default)",
    tags=["payment methods"],
    responses=_ADDED,
    operation_id="add_payment_method",
)
def add_payment_method(body: AddPaymentMethodBody, caller: CurrentCaller) -> Response[dict[str, Any]]:
    added = payment_methods.add_payment_method(bootstrap.deps(), caller, body.token)
    return Response(
        status_code=201 if added.created else 200,
        content_type=content_types.APPLICATION_JSON,
        body=presenters.payment_method(added.view),
    )


@router.delete(
    "/payment-methods/<payment_method_id>",
    summary="Remove a saved card (not the default: set another default first)",
    tags=["payment methods"],
    responses=responses(PaymentMethodOut, description="Removed: the card as it was",
                        errors=(401, 403, 404, 409)),
    operation_id="remove_payment_method",
)
def remove_payment_method(payment_method_id: PaymentMethodId, caller: CurrentCaller) -> dict[str, Any]:
    return presenters.payment_method(payment_methods.remove_payment_method(bootstrap.deps(), caller, payment_method_id))


@router.post(
    "/payment-methods/<payment_method_id>/default",
    summary="Make a saved card the default (not an expired one)",
    tags=["payment methods"],
    responses=responses(PaymentMethodOut, errors=(401, 403, 404, 409)),
    operation_id="make_default_payment_method",
)
def make_default_payment_method(payment_method_id: PaymentMethodId, caller: CurrentCaller) -> dict[str, Any]:
    view = payment_methods.make_default_payment_method(bootstrap.deps(), caller, payment_method_id)
    return presenters.payment_method(view)
