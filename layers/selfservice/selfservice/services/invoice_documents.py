"""Invoice PDFs (SPEC 2.13): rendered once, stored privately under the tenant's prefix, never replaced,
and handed out through a presigned link that lives at most 5 minutes.

An invoice's document is keyed by its number, so a tenant's PDFs sit under one prefix:

    tenants/<tenant id>/invoices/<number>.pdf         paid or uncollectible (final: never changes again)
    tenants/<tenant id>/invoices/<number>-open.pdf    while the invoice is open

The document states the invoice's status. Paid and uncollectible are final, so their PDF is final too.
An open invoice can still be paid: its PDF is a document of its own, and paying the invoice does not
rewrite it; the next download renders (once) the final PDF under the number's own key. Either way no
stored PDF ever changes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from selfservice.domain.errors import NotFound
from selfservice.domain.invoices import Invoice
from selfservice.ports import MAX_DOWNLOAD_LINK_SECONDS, DocumentStore, InvoiceRenderer
from selfservice.services import Caller, Deps

PDF_CONTENT_TYPE = "application/pdf"
LINK_SECONDS = MAX_DOWNLOAD_LINK_SECONDS


class DocumentLink(NamedTuple):
    url: str
    expires_at: datetime


def document_key(invoice: Invoice) -> str:
    suffix = "-open" if invoice.status == "open" else ""
    return f"tenants/{invoice.tenant_id}/invoices/{invoice.number}{suffix}.pdf"


def download_filename(invoice: Invoice) -> str:
    return f"{invoice.number}.pdf"


def invoice_pdf_link(deps: Deps, caller: Caller, invoice_id: str) -> DocumentLink:
    """A download link for the caller's invoice: one GetItem keyed by the caller's tenant (another
    tenant's invoice is not found, like one that does not exist), one HeadObject, and only the first
    time a render and one conditional PutObject. Presigning is local: no request."""
    documents, render = _document_ports(deps)
    invoice = deps.repo.get_invoice(caller.tenant_id, invoice_id)
    if invoice is None:
        raise NotFound("No such invoice.", invoice_id=invoice_id)
    key = document_key(invoice)
    if not documents.exists(key):
        # Two first downloads at once may both render; the conditional put keeps whichever came first.
        documents.put_once(key, render(invoice), PDF_CONTENT_TYPE)
    # Read the clock before signing, and drop the fraction of a second: the link's own clock (its
    # X-Amz-Date, whole seconds) starts no earlier, so the link is valid at least until `expires_at`.
    now = deps.clock.now().replace(microsecond=0)
    url = documents.presigned_download(key, download_filename(invoice), LINK_SECONDS)
    return DocumentLink(url, now + timedelta(seconds=LINK_SECONDS))


def _document_ports(deps: Deps) -> tuple[DocumentStore, InvoiceRenderer]:
    if deps.documents is None or deps.render_invoice is None:
        # A wiring error of the deployment, never the caller's: the function answers 500.
        raise RuntimeError("Invoice PDFs need the document store and the renderer (INVOICE_BUCKET).")
    return deps.documents, deps.render_invoice
