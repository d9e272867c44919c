"""Reading invoices (SPEC 2.13): the tenant's list, newest first, and one invoice. Paying an open one is
a payment (services/payments.py)."""

from __future__ import annotations

from selfservice.domain.errors import NotFound
from selfservice.domain.invoices import Invoice
from selfservice.ports import Page
from selfservice.services import Caller, Deps


def list_invoices(deps: Deps, caller: Caller, limit: int, cursor: str | None) -> Page[Invoice]:
    """One Query on the tenant's invoices; an unknown tenant simply has none."""
    return deps.repo.list_invoices(caller.tenant_id, limit, cursor)


def get_invoice(deps: Deps, caller: Caller, invoice_id: str) -> Invoice:
    """One GetItem keyed by the caller's tenant: another tenant's invoice is not found."""
    invoice = deps.repo.get_invoice(caller.tenant_id, invoice_id)
    if invoice is None:
        raise NotFound("No such invoice.", invoice_id=invoice_id)
    return invoice
