"""The invoice PDF renderer (fpdf2 with the DejaVu fonts of the layer): what the document says, read back
from the PDF's own text layer, its determinism, and that the fonts are read once per container."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from pypdf import PdfReader
from selfservice.adapters import pdf_renderer
from selfservice.adapters.pdf_renderer import render_invoice_pdf
from selfservice.domain.invoices import Buyer, Invoice
from selfservice.domain.model import ChargeLine
from selfservice.domain.tax import REVERSE_CHARGE_NOTE
from support.invoices import (
    GERMAN_WITH_VAT_ID,
    GREEK_WITHOUT_VAT_ID,
    POLISH_WITH_VAT_ID,
    RUSSIAN,
    SWEDISH,
    buyer,
    make_invoice,
)

TENANT = "ten_acme"


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.mark.parametrize(
    ("to", "rate", "tax", "total", "reverse_charge"),
    [
        # 10 seats x 30.00 = 300.00; VAT at the buyer's treatment (domain/tax.py)
        pytest.param(SWEDISH, "VAT 25 %", "75.00 EUR", "375.00 EUR", False, id="sweden-25"),
        pytest.param(GERMAN_WITH_VAT_ID, "VAT 0 % (reverse charge)", "0.00 EUR", "300.00 EUR", True,
                     id="germany-vat-id-reverse-charge"),
        pytest.param(POLISH_WITH_VAT_ID, "VAT 0 % (reverse charge)", "0.00 EUR", "300.00 EUR", True,
                     id="poland-vat-id-reverse-charge"),
        pytest.param(GREEK_WITHOUT_VAT_ID, "VAT 24 %", "72.00 EUR", "372.00 EUR", False, id="greece-no-vat-id-24"),
        pytest.param(RUSSIAN, "VAT 0 %", "0.00 EUR", "300.00 EUR", False, id="outside-eu-0"),
    ],
)
def test_the_pdf_states_number_amounts_tax_and_the_buyer(to: Buyer, rate: str, tax: str, total: str,
                                                        reverse_charge: bool) -> None:
    invoice = make_invoice(TENANT, 42, to=to)

    data = render_invoice_pdf(invoice)

    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    assert "INV-000042" in text
    assert "Invoice" in text
    assert f"Total {total}" in text
    assert f"{rate} {tax}" in text
    assert "Subtotal 300.00 EUR" in text
    assert "30.00 EUR" in text and "300.00 EUR" in text  # unit price and line amount
    assert "Issue date 2026-03-10" in text
    assert "Period 2026-03-10 to 2026-04-10" in text
    assert to.company_name in text
    assert f"{to.postal_code} {to.city}" in text
    assert "Nordlys Analytics AB" in text and "VAT ID SE556677889901" in text
    assert (REVERSE_CHARGE_NOTE in text) is reverse_charge
    if to.vat_id:
        assert f"VAT ID {to.vat_id}" in text


@pytest.mark.parametrize("name", ["Åsa Öberg", "Łódź", "Θεσσαλονίκη", "Москва", "Müller & Schäfer GmbH"])
def test_latin_greek_and_cyrillic_names_come_out_intact(name: str) -> None:
    to = buyer(name, city=name, address_line2=f"c/o {name}", po_reference=name[:20])

    text = pdf_text(render_invoice_pdf(make_invoice(TENANT, to=to)))

    assert text.count(name) >= 3  # company, c/o line, city (and the PO reference)
    assert "\ufffd" not in text


def test_every_buyer_field_is_printed() -> None:
    to = buyer("Müller & Schäfer GmbH", city="München", country="DE", vat_id="DE123456789", region="Bayern",
               postal_code="80331", address_line2="3. OG", po_reference="PO-2026-0042")

    text = pdf_text(render_invoice_pdf(make_invoice(TENANT, to=to)))

    for expected in ("Storgatan 1", "3. OG", "80331 München", "Bayern", "Germany", "VAT ID DE123456789",
                     "PO reference PO-2026-0042", "billing@buyer.example"):
        assert expected in text, expected


@pytest.mark.parametrize(
    ("status", "expected", "absent"),
    [
        pytest.param("paid", ["Status PAID", "Card Visa •••• 4242", "Paid on 2026-03-10", "Amount due 0.00 EUR"],
                     ["OPEN"], id="paid"),
        pytest.param("open", ["Status OPEN", "Amount due 375.00 EUR", "Payment of 375.00 EUR is due"],
                     ["PAID", "4242"], id="open"),
        pytest.param("uncollectible", ["Status UNCOLLECTIBLE", "marked uncollectible"], ["PAID", "4242"],
                     id="uncollectible"),
    ],
)
def test_the_status_is_stated(status: str, expected: list[str], absent: list[str]) -> None:
    text = pdf_text(render_invoice_pdf(make_invoice(TENANT, status=status)))  # type: ignore[arg-type]

    for phrase in expected:
        assert phrase in text, phrase
    for phrase in absent:
        assert phrase not in text, phrase


def test_an_invoice_without_billing_information_says_so() -> None:
    text = pdf_text(render_invoice_pdf(make_invoice(TENANT, to=None)))

    assert "No billing information was on file" in text
    assert "VAT 25 %" in text  # taxed as Swedish until the buyer says otherwise


def test_many_lines_flow_onto_numbered_pages() -> None:
    invoice = make_invoice(TENANT, 7)
    line = invoice.lines[0]
    many = tuple(ChargeLine(f"{line.description} (part {n})", 1, 100, 100) for n in range(60))
    invoice = replace(invoice, lines=many, subtotal=6000, tax_amount=1500, total=7500)

    reader = PdfReader(io.BytesIO(render_invoice_pdf(invoice)))

    assert len(reader.pages) >= 2
    last = reader.pages[-1].extract_text()
    assert f"page {len(reader.pages)} of {len(reader.pages)}" in last
    assert "Total 75.00 EUR" in last


def test_the_same_invoice_renders_the_same_bytes() -> None:
    invoice = make_invoice(TENANT, 3, to=GERMAN_WITH_VAT_ID)

    first = render_invoice_pdf(invoice)
    again = render_invoice_pdf(invoice)
    other = render_invoice_pdf(make_invoice(TENANT, 4, to=GERMAN_WITH_VAT_ID, invoice_id=invoice.id))

    assert first == again
    assert other != first


def test_metadata_is_fixed_and_dated_at_issue() -> None:
    invoice = make_invoice(TENANT, 5)

    metadata = PdfReader(io.BytesIO(render_invoice_pdf(invoice))).metadata

    assert metadata is not None
    assert metadata["/CreationDate"] == "D:20260310120000Z"
    assert metadata["/Title"] == "Invoice INV-000005"
    assert metadata["/Author"] == "Nordlys Analytics AB"
    assert metadata["/Producer"] == pdf_renderer.PRODUCER


@pytest.fixture
def font_opens() -> Iterator[list[str]]:
    """Every file opened while the test runs whose name ends in .ttf (an audit hook sees every open,
    whoever does it: our code, importlib.resources, fpdf2 or fontTools)."""
    opened: list[str] = []
    recording = [True]

    def hook(event: str, args: tuple[object, ...]) -> None:
        if recording[0] and event == "open" and args and str(args[0]).endswith(".ttf"):
            opened.append(Path(str(args[0])).name)

    sys.addaudithook(hook)  # hooks cannot be removed: this one stops recording at teardown
    pdf_renderer.font_bytes.cache_clear()  # as in a new container
    yield opened
    recording[0] = False


def test_the_font_files_are_read_once_per_container(font_opens: list[str]) -> None:
    invoices: list[Invoice] = [make_invoice(TENANT, n, to=to) for n, to in
                               enumerate((SWEDISH, GERMAN_WITH_VAT_ID, GREEK_WITHOUT_VAT_ID, RUSSIAN), start=1)]

    for invoice in invoices:
        render_invoice_pdf(invoice)

    assert sorted(font_opens) == ["DejaVuSans-Bold.ttf", "DejaVuSans.ttf"]


def test_the_fonts_ship_in_the_package_with_their_licence() -> None:
    from importlib import resources

    fonts = resources.files("selfservice").joinpath("fonts")
    names = {entry.name for entry in fonts.iterdir()}
    assert {"DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "LICENSE"} <= names
    assert "Bitstream" in fonts.joinpath("LICENSE").read_text(encoding="utf-8")
