"""Use cases: one function per flow, with the ports injected through `Deps`. A change reads the
tenant's collection once, applies a pure domain rule, and commits one transaction that carries its
audit record."""

from __future__ import annotations

from dataclasses import dataclass

from selfservice.domain.catalog import Catalog
from selfservice.ports import (
    AttemptCounter,
    CardTokeniser,
    Clock,
    DocumentStore,
    InvoiceRenderer,
    PaymentGateway,
    Repository,
)


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is acting, from the token's claims only: the tenant is never taken from a path or body."""

    tenant_id: str
    subject: str


@dataclass(frozen=True, slots=True)
class Deps:
    repo: Repository
    clock: Clock
    catalog: Catalog
    # The payment gateway and its tokeniser (the sandbox adapter is both), wired by the composition root
    # from PAYMENT_GATEWAY; None where a test or a flow does without.
    gateway: PaymentGateway | None = None
    tokeniser: CardTokeniser | None = None
    # Invoice PDFs (the invoice PDF function): the private bucket, and the renderer (imports fpdf2 on first use).
    documents: DocumentStore | None = None
    render_invoice: InvoiceRenderer | None = None
    # Abuse limits (services/limits.py): the attempt counters; None: nothing is limited (unit tests on fakes).
    attempts: AttemptCounter | None = None
