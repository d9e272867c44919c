"""Issued invoices for the tests of invoice documents, built with the domain's own tax rules, and stored
the way an issuing flow stores them: the invoice and its number in one change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from selfservice.domain.catalog import load_catalog
from selfservice.domain.ids import new_id
from selfservice.domain.invoices import Buyer, Invoice, InvoicePayment, format_number
from selfservice.domain.model import ChargeLine
from selfservice.domain.money import percent_of
from selfservice.domain.tax import tax_treatment
from selfservice.ports import INVOICE_SEQUENCE, Changeset, Repository

ISSUED_AT = datetime(2026, 3, 10, 12, 0, 0, tzinfo=UTC)
PERIOD_START = datetime(2026, 3, 10, tzinfo=UTC)
PERIOD_END = datetime(2026, 4, 10, tzinfo=UTC)


def buyer(company: str = "Åsa Öberg Konsult AB", *, city: str = "Stockholm", country: str = "SE",
          vat_id: str | None = None, region: str | None = None, postal_code: str = "111 22",
          address_line2: str | None = None, po_reference: str | None = None) -> Buyer:
    return Buyer(company, "billing@buyer.example", "Storgatan 1", address_line2, postal_code, city, region,
                 country, vat_id, po_reference)


SWEDISH = buyer()
GERMAN_WITH_VAT_ID = buyer("Müller & Schäfer GmbH", city="München", country="DE", vat_id="DE123456789",
                           postal_code="80331", po_reference="PO-2026-0042")
POLISH_WITH_VAT_ID = buyer("Wiśniewski i Synowie Sp. z o.o.", city="Łódź", country="PL", vat_id="PL1234567890",
                           postal_code="90-001", region="Łódzkie")
GREEK_WITHOUT_VAT_ID = buyer("Παπαδόπουλος Αναλύσεις", city="Θεσσαλονίκη", country="GR", postal_code="546 24")
RUSSIAN = buyer("ООО Аналитика", city="Москва", country="RU", postal_code="101000")  # noqa: RUF001 (Cyrillic on purpose)


def make_invoice(tenant_id: str, sequence: int = 1, *, to: Buyer | None = SWEDISH,
                 status: Literal["open", "paid", "uncollectible"] = "paid", seats: int = 10,
                 unit_amount: int = 3000, currency: str = "EUR", issued_at: datetime = ISSUED_AT,
                 invoice_id: str | None = None) -> Invoice:
    """An invoice for `seats` seats for one month, taxed for `to` as the domain taxes it."""
    treatment = tax_treatment(to.country if to else None, to.vat_id if to else None)
    lines = (
        ChargeLine(f"Business (monthly): seats 1-{seats}, 2026-03-10 to 2026-04-10", seats, unit_amount,
                   seats * unit_amount, PERIOD_START, PERIOD_END),
    )
    subtotal = sum(line.amount for line in lines)
    tax = percent_of(subtotal, treatment.rate_bp)
    payment = InvoicePayment("visa", "4242", "ch_test", issued_at) if status == "paid" else None
    return Invoice(
        tenant_id, invoice_id or new_id("inv", issued_at), format_number(sequence), "sub_test", status,
        issued_at, currency, lines, subtotal, treatment.rate_bp, tax, subtotal + tax, treatment.note,
        PERIOD_START, PERIOD_END, to, load_catalog().seller, payment,
    )


def store_invoice(repo: Repository, tenant_id: str, **options: object) -> Invoice:
    """Issue an invoice with the sequence's next number, as one change (invoice + number)."""
    sequence = repo.last_number(INVOICE_SEQUENCE) + 1
    invoice = make_invoice(tenant_id, sequence, issued_at=ISSUED_AT + timedelta(seconds=sequence),
                           **options)  # type: ignore[arg-type]
    repo.commit(Changeset(tenant_id).write(invoice).take_number(INVOICE_SEQUENCE, sequence))
    return invoice
