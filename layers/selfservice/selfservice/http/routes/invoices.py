"""The invoices function: the tenant's invoices, newest first, one invoice, and paying an open one
(SPEC 2.13, 2.9). Paying charges money: that request needs an Idempotency-Key
(selfservice.http.idempotency). The PDF link is served by the invoice PDF function."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response

from selfservice import bootstrap
from selfservice.http import idempotency, pages, presenters
from selfservice.http.auth import CurrentCaller
from selfservice.http.docs import PAYMENT_ERRORS, responses
from selfservice.http.params import InvoiceId
from selfservice.http.routes import new_router
from selfservice.http.schemas import InvoiceListOut, InvoiceOut, InvoicePaymentBody, PaymentResultOut
from selfservice.services import invoices, payments

router = new_router()


@router.get(
    "/invoices",
    summary="The invoices, newest first",
    tags=["invoices"],
    responses=responses(InvoiceListOut, errors=(401, 403, 422)),
    operation_id="list_invoices",
)
def list_invoices(
    caller: CurrentCaller,
    cursor: pages.Cursor = None,
    limit: pages.PageSize = pages.HISTORY_PAGE_SIZE,
) -> dict[str, Any]:
    return presenters.invoice_page(invoices.list_invoices(bootstrap.deps(), caller, limit, cursor))


@router.get(
    "/invoices/<invoice_id>",
    summary="One invoice",
    tags=["invoices"],
    responses=responses(InvoiceOut, errors=(401, 403, 404)),
    operation_id="get_invoice",
)
def get_invoice(invoice_id: InvoiceId, caller: CurrentCaller) -> dict[str, Any]:
    return presenters.invoice(invoices.get_invoice(bootstrap.deps(), caller, invoice_id))


@router.post(
    "/invoices/<invoice_id>/pay",
    summary="Pay an open invoice by card (Idempotency-Key required)",
    description="Paying the open invoice of a past_due subscription makes it active again.",
    tags=["invoices"],
    responses=responses(PaymentResultOut, errors=PAYMENT_ERRORS),
    operation_id="pay_invoice",
)
def pay_invoice(invoice_id: InvoiceId, body: InvoicePaymentBody, caller: CurrentCaller,
                idempotency_key: idempotency.IdempotencyKeyHeader = None) -> Response[Any]:
    key = idempotency.require_key(idempotency_key)
    request = payments.PaymentRequest(key, body.payment_method_id)

    def work() -> tuple[int, Any]:
        return 200, presenters.payment_outcome(payments.pay_invoice(bootstrap.deps(), caller, invoice_id, request))

    return idempotency.run_once(caller=caller, operation="invoice-payment", resource_id=invoice_id, key=key,
                                body=body.model_dump(mode="json"), work=work, lambda_context=router.lambda_context)
