"""Invoices (SPEC 2.13). An invoice is issued with the next number of one gapless sequence, carries a
snapshot of the buyer's billing information as it was at issue, and never changes afterwards except
for its status (open -> paid | uncollectible) and the card it was paid with."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from selfservice.domain.catalog import Seller
from selfservice.domain.errors import RuleViolation
from selfservice.domain.model import BillingInfo, ChargeLine
from selfservice.domain.quotes import Quote

InvoiceStatus = Literal["open", "paid", "uncollectible"]
NUMBER_PREFIX = "INV-"


class InvoiceNotOpen(RuleViolation):
    code = "invoice_not_open"


@dataclass(frozen=True, slots=True)
class Buyer:
    company_name: str
    email: str
    address_line1: str
    address_line2: str | None
    postal_code: str
    city: str
    region: str | None
    country: str
    vat_id: str | None
    po_reference: str | None

    @classmethod
    def snapshot(cls, info: BillingInfo) -> Buyer:
        return cls(info.company_name, info.email, info.address_line1, info.address_line2, info.postal_code,
                   info.city, info.region, info.country, info.vat_id, info.po_reference)


@dataclass(frozen=True, slots=True)
class InvoicePayment:
    brand: str
    last4: str
    charge_id: str
    paid_at: datetime


@dataclass(frozen=True, slots=True)
class Invoice:
    tenant_id: str
    id: str
    number: str
    subscription_id: str
    status: InvoiceStatus
    issued_at: datetime
    currency: str
    lines: tuple[ChargeLine, ...]
    subtotal: int
    tax_rate_bp: int
    tax_amount: int
    total: int
    tax_note: str | None
    period_start: datetime | None
    period_end: datetime | None
    buyer: Buyer | None
    seller: Seller
    payment: InvoicePayment | None = None
    version: int = 1

    def mark_paid(self, payment: InvoicePayment) -> Invoice:
        if self.status != "open":
            raise InvoiceNotOpen(f"Invoice {self.number} is {self.status}.", invoice_id=self.id, status=self.status)
        return replace(self, status="paid", payment=payment, version=self.version + 1)

    def mark_uncollectible(self) -> Invoice:
        if self.status != "open":
            raise InvoiceNotOpen(f"Invoice {self.number} is {self.status}.", invoice_id=self.id, status=self.status)
        return replace(self, status="uncollectible", version=self.version + 1)


def format_number(sequence: int) -> str:
    return f"{NUMBER_PREFIX}{sequence:06d}"


def issue_invoice(*, tenant_id: str, invoice_id: str, sequence: int, subscription_id: str, quote: Quote,
                  billing: BillingInfo | None, seller: Seller, now: datetime,
                  payment: InvoicePayment | None = None) -> Invoice:
    """The invoice for exactly what a quote priced; `sequence` is the number taken from the counter in
    the same transaction that stores the invoice."""
    return Invoice(
        tenant_id, invoice_id, format_number(sequence), subscription_id, "paid" if payment else "open", now,
        quote.currency, quote.lines, quote.amount_due, quote.tax.rate_bp, quote.tax_amount, quote.total,
        quote.tax.note, quote.period_start, quote.period_end, Buyer.snapshot(billing) if billing else None,
        seller, payment,
    )
