"""The invoice PDF function: a short-lived download link for an invoice's PDF (SPEC 2.13).

This route's module imports no PDF library: the renderer (fpdf2) is imported by the composition root on
the first render, so the OpenAPI document, which lists every route, costs the other functions nothing."""

from __future__ import annotations

from typing import Any

from selfservice import bootstrap
from selfservice.http import presenters
from selfservice.http.auth import CurrentCaller
from selfservice.http.docs import responses
from selfservice.http.params import InvoiceId
from selfservice.http.routes import new_router
from selfservice.http.schemas import InvoicePdfLinkOut
from selfservice.services import invoice_documents

router = new_router()


@router.get(
    "/invoices/<invoice_id>/pdf",
    summary="A download link for the invoice PDF (valid for at most 5 minutes)",
    description="Renders and stores the PDF on first use; a stored PDF never changes. The link downloads the "
                "file as an attachment named after the invoice number.",
    tags=["invoices"],
    responses=responses(InvoicePdfLinkOut, errors=(401, 403, 404)),
    operation_id="get_invoice_pdf_link",
)
def get_invoice_pdf_link(invoice_id: InvoiceId, caller: CurrentCaller) -> dict[str, Any]:
    return presenters.document_link(invoice_documents.invoice_pdf_link(bootstrap.deps(), caller, invoice_id))
