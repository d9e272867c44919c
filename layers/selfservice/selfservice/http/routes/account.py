"""The account function: the account view, billing information, subscriptions and quotes (SPEC 3). The
function also serves GET /openapi.json (see selfservice.http.app.build_resolver)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.openapi.params import Query

from selfservice import bootstrap
from selfservice.domain.errors import NotFound
from selfservice.http import pages, presenters
from selfservice.http.auth import CurrentCaller
from selfservice.http.docs import responses
from selfservice.http.params import SubscriptionId
from selfservice.http.routes import new_router
from selfservice.http.schemas import (
    MAX_SEATS,
    AccountOut,
    BillingInfoBody,
    BillingInfoOut,
    QuoteOut,
    SubscriptionListOut,
    SubscriptionOut,
)
from selfservice.services import account, subscriptions

router = new_router()


@router.get(
    "/account",
    summary="The account: tenant, billing information and every subscription",
    tags=["account"],
    responses=responses(AccountOut, errors=(401, 403, 404)),
    operation_id="get_account",
)
def get_account(caller: CurrentCaller) -> dict[str, Any]:
    return presenters.account(account.get_account(bootstrap.deps(), caller))


@router.get(
    "/billing-info",
    summary="The billing information",
    tags=["account"],
    responses=responses(BillingInfoOut, errors=(401, 403, 404)),
    operation_id="get_billing_info",
)
def get_billing_info(caller: CurrentCaller) -> dict[str, Any]:
    info = presenters.billing_info(account.get_billing_info(bootstrap.deps(), caller))
    if info is None:
        raise NotFound("No billing information has been entered yet.")
    return info


@router.put(
    "/billing-info",
    summary="Replace the billing information",
    tags=["account"],
    responses=responses(BillingInfoOut, errors=(400, 401, 403, 404, 409, 422)),
    operation_id="put_billing_info",
)
def put_billing_info(body: BillingInfoBody, caller: CurrentCaller) -> dict[str, Any]:
    data = account.BillingInfoInput(
        company_name=body.company_name, email=str(body.email), address_line1=body.address_line1,
        address_line2=body.address_line2, postal_code=body.postal_code, city=body.city, region=body.region,
        country=body.country, vat_id=body.vat_id, po_reference=body.po_reference,
    )
    info = presenters.billing_info(account.update_billing_info(bootstrap.deps(), caller, data))
    assert info is not None
    return info


@router.get(
    "/subscriptions",
    summary="Every subscription of the tenant",
    tags=["subscriptions"],
    responses=responses(SubscriptionListOut, errors=(401, 403, 404, 422)),
    operation_id="list_subscriptions",
)
def list_subscriptions(caller: CurrentCaller, cursor: pages.Cursor = None,
                       limit: pages.PageSize = pages.MAX_PAGE_SIZE) -> dict[str, Any]:
    views = subscriptions.list_subscriptions(bootstrap.deps(), caller)  # by id
    page, next_cursor = pages.page_of(views, key=lambda v: v.subscription.id, limit=limit, cursor=cursor,
                                      tenant_id=caller.tenant_id)
    return presenters.subscription_list(page, next_cursor)


@router.get(
    "/subscriptions/<subscription_id>",
    summary="One subscription",
    tags=["subscriptions"],
    responses=responses(SubscriptionOut, errors=(401, 403, 404)),
    operation_id="get_subscription",
)
def get_subscription(subscription_id: SubscriptionId, caller: CurrentCaller) -> dict[str, Any]:
    return presenters.subscription(subscriptions.get_subscription(bootstrap.deps(), caller, subscription_id))


@router.get(
    "/subscriptions/<subscription_id>/quote",
    summary="The price of a proposed change (changes nothing)",
    tags=["subscriptions"],
    responses=responses(QuoteOut, errors=(401, 403, 404, 409, 422)),
    operation_id="get_quote",
)
def get_quote(
    subscription_id: SubscriptionId,
    change: Annotated[Literal["renewal", "increase", "reduction"], Query(description="The kind of change.")],
    seats: Annotated[int, Query(ge=1, le=MAX_SEATS, description="The seat count after the change.")],
    caller: CurrentCaller,
) -> dict[str, Any]:
    return presenters.quote(subscriptions.quote(bootstrap.deps(), caller, subscription_id, change, seats))
