"""An issued invoice as a PDF document (fpdf2), set in the DejaVu Sans fonts the layer ships.

Only the invoice PDF function ever imports this module (the composition root imports it on the first
render): fpdf2 brings fontTools and Pillow, about 0.3 s of imports that no other function's cold start
should pay for.

- Fonts: each TTF file is read from the package once per container (`font_bytes`, cached). Every
  document parses its own copy from those bytes in memory, because fpdf2 subsets the parsed font in
  place when it writes a document: a parsed font cannot be shared between two documents.
- Deterministic: the creation date is the invoice's issue time and every metadata field is fixed, so
  the same invoice always renders to the same bytes.
- Text: DejaVu Sans covers Latin, Greek and Cyrillic, so "Åsa Öberg", "Łódź", "Θεσσαλονίκη" and
  "Москва" print as written (and the PDF's text layer extracts them as written).
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from importlib import resources
from io import BytesIO

from fpdf import FPDF
from fpdf.enums import Align, TableBordersLayout, XPos, YPos
from fpdf.fonts import FontFace, TTFFont

from selfservice.domain.invoices import Invoice
from selfservice.domain.money import format_amount
from selfservice.domain.tax import REVERSE_CHARGE_NOTE

FONT_FAMILY = "DejaVuSans"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}

PRODUCER = "selfservice invoice renderer (fpdf2)"

# A4 in millimetres, and the grid the blocks sit on.
MARGIN = 18.0
PAGE_WIDTH = 210.0
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN
RIGHT_COLUMN_X = 118.0
RIGHT_COLUMN_WIDTH = PAGE_WIDTH - MARGIN - RIGHT_COLUMN_X
LABEL_WIDTH = 28.0

INK = (33, 37, 41)
MUTED = (108, 117, 125)
RULE = (206, 212, 218)
SHADE = (241, 243, 245)
STATUS_COLOURS = {"paid": (25, 135, 84), "open": (176, 106, 0), "uncollectible": (176, 42, 55)}

CARD_BRANDS = {"visa": "Visa", "mastercard": "Mastercard", "amex": "American Express"}

# Buyers' countries as words on the document (ISO 3166 alpha-2 -> English name); others print the code.
COUNTRY_NAMES = {
    "AT": "Austria", "BE": "Belgium", "BG": "Bulgaria", "CY": "Cyprus", "CZ": "Czechia", "DE": "Germany",
    "DK": "Denmark", "EE": "Estonia", "ES": "Spain", "FI": "Finland", "FR": "France", "GR": "Greece",
    "HR": "Croatia", "HU": "Hungary", "IE": "Ireland", "IT": "Italy", "LT": "Lithuania", "LU": "Luxembourg",
    "LV": "Latvia", "MT": "Malta", "NL": "Netherlands", "PL": "Poland", "PT": "Portugal", "RO": "Romania",
    "SE": "Sweden", "SI": "Slovenia", "SK": "Slovakia", "NO": "Norway", "IS": "Iceland", "LI": "Liechtenstein",
    "CH": "Switzerland", "GB": "United Kingdom", "US": "United States", "CA": "Canada", "AU": "Australia",
    "NZ": "New Zealand", "JP": "Japan", "SG": "Singapore", "IN": "India", "BR": "Brazil", "MX": "Mexico",
    "ZA": "South Africa", "AE": "United Arab Emirates", "IL": "Israel", "TR": "Türkiye", "UA": "Ukraine",
    "RS": "Serbia", "RU": "Russia",
}


@cache
def font_bytes(style: str) -> bytes:
    """The TTF file of `style` ("" regular, "B" bold), read once per container."""
    return resources.files("selfservice").joinpath("fonts", FONT_FILES[style]).read_bytes()


def render_invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice as a one-or-more-page A4 PDF. Same invoice, same bytes."""
    pdf = _InvoiceDocument(invoice)
    pdf.add_page()
    _seller_and_title(pdf, invoice)
    _buyer(pdf, invoice)
    _lines(pdf, invoice)
    _totals(pdf, invoice)
    _notes(pdf, invoice)
    return bytes(pdf.output())


class _InvoiceDocument(FPDF):
    def __init__(self, invoice: Invoice) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.invoice = invoice
        for style in FONT_FILES:
            fontkey = f"{FONT_FAMILY.lower()}{style}"
            # fpdf2's add_font() takes only a file path and would read (and parse) the file again for every
            # document; a TTFFont over the cached bytes is what add_font() builds, minus the file read.
            self.fonts[fontkey] = TTFFont(self, BytesIO(font_bytes(style)), fontkey, style)  # type: ignore[arg-type]
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(auto=True, margin=24)
        self.set_text_color(*INK)
        self.set_draw_color(*RULE)
        # Fixed metadata: nothing depends on when or where the document is rendered.
        self.set_creation_date(invoice.issued_at)
        self.set_producer(PRODUCER)
        self.set_creator(PRODUCER)
        self.set_author(invoice.seller.name)
        self.set_title(f"Invoice {invoice.number}")
        self.set_subject(f"Invoice {invoice.number} from {invoice.seller.name}")
        self.set_lang("en")

    def footer(self) -> None:
        seller = self.invoice.seller
        self.set_y(-17)
        self.set_draw_color(*RULE)
        self.line(MARGIN, self.get_y(), PAGE_WIDTH - MARGIN, self.get_y())
        self.ln(1.5)
        self.set_font(FONT_FAMILY, "", 7.5)
        self.set_text_color(*MUTED)
        left = CONTENT_WIDTH - 40
        self.cell(left, 4, f"{seller.name} · {', '.join(seller.address)}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.cell(left, 4, f"VAT ID {seller.vat_id} · {seller.email}")
        self.cell(40, 4, f"{self.invoice.number} · page {self.page_no()} of {{nb}}", align=Align.R)
        self.set_text_color(*INK)


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def _rate(basis_points: int) -> str:
    whole, fraction = divmod(basis_points, 100)
    return f"{whole}" if fraction == 0 else f"{whole}.{fraction:02d}".rstrip("0")


def _card(invoice: Invoice) -> str | None:
    payment = invoice.payment
    if payment is None:
        return None
    return f"{CARD_BRANDS.get(payment.brand.lower(), payment.brand.title())} •••• {payment.last4}"


def _text_lines(pdf: FPDF, x: float, width: float, lines: list[str], *, size: float = 9, height: float = 4.6) -> None:
    pdf.set_font(FONT_FAMILY, "", size)
    for line in lines:
        pdf.set_x(x)
        pdf.multi_cell(width, height, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _seller_and_title(pdf: FPDF, invoice: Invoice) -> None:
    seller = invoice.seller
    top = pdf.get_y()
    pdf.set_font(FONT_FAMILY, "B", 13)
    pdf.multi_cell(RIGHT_COLUMN_X - MARGIN - 6, 6.5, seller.name, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    _text_lines(pdf, MARGIN, RIGHT_COLUMN_X - MARGIN - 6,
                [*seller.address, f"VAT ID {seller.vat_id}", seller.email])
    seller_bottom = pdf.get_y()

    pdf.set_xy(RIGHT_COLUMN_X, top)
    pdf.set_font(FONT_FAMILY, "B", 24)
    pdf.cell(RIGHT_COLUMN_WIDTH, 11, "Invoice", align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    facts = [
        ("Number", invoice.number),
        ("Issue date", _day(invoice.issued_at)),
    ]
    if invoice.period_start is not None and invoice.period_end is not None:
        facts.append(("Period", f"{_day(invoice.period_start)} to {_day(invoice.period_end)}"))
    facts.append(("Currency", invoice.currency))
    for label, value in facts:
        _fact(pdf, label, value)
    _fact(pdf, "Status", invoice.status.upper(), style="B", colour=STATUS_COLOURS.get(invoice.status, INK))
    card = _card(invoice)
    if invoice.payment is not None and card is not None:
        _fact(pdf, "Paid on", _day(invoice.payment.paid_at))
        _fact(pdf, "Card", card)
    pdf.set_y(max(seller_bottom, pdf.get_y()) + 8)


def _fact(pdf: FPDF, label: str, value: str, *, style: str = "",
          colour: tuple[int, int, int] = INK) -> None:
    pdf.set_x(RIGHT_COLUMN_X)
    pdf.set_font(FONT_FAMILY, "", 8)
    pdf.set_text_color(*MUTED)
    pdf.cell(LABEL_WIDTH, 5.5, label)
    pdf.set_font(FONT_FAMILY, style, 9)
    pdf.set_text_color(*colour)
    pdf.multi_cell(RIGHT_COLUMN_WIDTH - LABEL_WIDTH, 5.5, value, align=Align.R, new_x=XPos.LMARGIN,
                   new_y=YPos.NEXT)
    pdf.set_text_color(*INK)


def _buyer(pdf: FPDF, invoice: Invoice) -> None:
    pdf.set_font(FONT_FAMILY, "B", 8)
    pdf.set_text_color(*MUTED)
    pdf.cell(0, 5, "BILL TO", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*INK)
    buyer = invoice.buyer
    if buyer is None:
        # Issued before the tenant gave billing information: the document says so rather than guess.
        _text_lines(pdf, MARGIN, CONTENT_WIDTH, ["No billing information was on file when this invoice was issued."])
        pdf.ln(6)
        return
    pdf.set_font(FONT_FAMILY, "B", 10.5)
    pdf.multi_cell(RIGHT_COLUMN_X - MARGIN - 6, 5.5, buyer.company_name, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    address = [buyer.address_line1]
    if buyer.address_line2:
        address.append(buyer.address_line2)
    address.append(f"{buyer.postal_code} {buyer.city}")
    if buyer.region:
        address.append(buyer.region)
    address.append(COUNTRY_NAMES.get(buyer.country, buyer.country))
    references = [f"E-mail {buyer.email}"]
    if buyer.vat_id:
        references.insert(0, f"VAT ID {buyer.vat_id}")
    if buyer.po_reference:
        references.append(f"PO reference {buyer.po_reference}")
    _text_lines(pdf, MARGIN, RIGHT_COLUMN_X - MARGIN - 6, [*address, *references])
    pdf.ln(7)


def _lines(pdf: FPDF, invoice: Invoice) -> None:
    headings = FontFace(family=FONT_FAMILY, emphasis="BOLD", size_pt=8.5, color=INK, fill_color=SHADE)
    pdf.set_font(FONT_FAMILY, "", 9)
    with pdf.table(
        col_widths=(98, 16, 30, 30),
        width=CONTENT_WIDTH,
        text_align=(Align.L, Align.R, Align.R, Align.R),
        borders_layout=TableBordersLayout.HORIZONTAL_LINES,
        headings_style=headings,
        line_height=5,
        padding=(1.6, 1.5),
        align=Align.L,
    ) as table:
        heading = table.row()
        for title in ("Description", "Qty", "Unit price", "Amount"):
            heading.cell(title)
        for line in invoice.lines:
            row = table.row()
            row.cell(line.description)
            row.cell(str(line.quantity))
            row.cell(format_amount(line.unit_amount, invoice.currency))
            row.cell(format_amount(line.amount, invoice.currency))
    pdf.ln(4)


def _totals(pdf: FPDF, invoice: Invoice) -> None:
    reverse_charge = invoice.tax_note == REVERSE_CHARGE_NOTE
    vat_label = f"VAT {_rate(invoice.tax_rate_bp)} %" + (" (reverse charge)" if reverse_charge else "")
    due = 0 if invoice.status == "paid" else invoice.total
    rows = [
        ("Subtotal", format_amount(invoice.subtotal, invoice.currency), ""),
        (vat_label, format_amount(invoice.tax_amount, invoice.currency), ""),
        ("Total", format_amount(invoice.total, invoice.currency), "B"),
        ("Amount due", format_amount(due, invoice.currency), ""),
    ]
    label_x = RIGHT_COLUMN_X - 10
    for label, amount, style in rows:
        if style:
            pdf.set_draw_color(*INK)
            pdf.line(label_x, pdf.get_y() + 0.5, PAGE_WIDTH - MARGIN, pdf.get_y() + 0.5)
            pdf.ln(1.5)
        pdf.set_x(label_x)
        pdf.set_font(FONT_FAMILY, style, 10.5 if style else 9)
        pdf.cell(PAGE_WIDTH - MARGIN - label_x - 40, 6.5 if style else 6, label)
        pdf.cell(40, 6.5 if style else 6, amount, align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_draw_color(*RULE)
    pdf.ln(6)


def _notes(pdf: FPDF, invoice: Invoice) -> None:
    notes: list[str] = []
    if invoice.tax_note:
        notes.append(invoice.tax_note)
    payment = invoice.payment
    if invoice.status == "paid" and payment is not None:
        notes.append(f"Paid on {_day(payment.paid_at)} by card ({_card(invoice)}). No payment is due.")
    elif invoice.status == "open":
        notes.append(f"Payment of {format_amount(invoice.total, invoice.currency)} is due. Pay it in the My Account "
                     "portal under Invoices.")
    elif invoice.status == "uncollectible":
        notes.append("This invoice has been marked uncollectible. Contact us to settle it.")
    notes.append(f"Questions about this invoice: {invoice.seller.email}, quoting {invoice.number}.")
    _text_lines(pdf, MARGIN, CONTENT_WIDTH, notes, size=8.5, height=4.4)
