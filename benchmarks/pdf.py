"""The invoice PDF renderer (adapters/pdf_renderer.py, fpdf2): render time (median of warm renders in this
process) and size of a typical invoice (a Swedish buyer, two lines, with VAT, paid by card), and the
first render in a fresh interpreter, which includes importing fpdf2 and reading the fonts (what the
invoice PDF function's first request pays on top of its cold init).

    python -m benchmarks.pdf --first    # (child) one first render, printed as JSON
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from benchmarks.machine import ROOT

STARTED = time.perf_counter()


def sample_invoice() -> object:
    from selfservice.domain.catalog import load_catalog
    from selfservice.domain.invoices import Buyer, Invoice, InvoicePayment, format_number
    from selfservice.domain.model import ChargeLine
    from selfservice.domain.money import percent_of
    from selfservice.domain.tax import tax_treatment

    issued = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    start, end = datetime(2026, 3, 10, tzinfo=UTC), datetime(2026, 4, 10, tzinfo=UTC)
    buyer = Buyer("Åkerlund & Öberg AB", "billing@akerlund.example", "Storgatan 1", "4 tr", "111 22",
                  "Stockholm", None, "SE", "SE556123456701", "PO-2026-0042")
    treatment = tax_treatment(buyer.country, buyer.vat_id)
    lines = (
        ChargeLine("Business (monthly): seats 1-10, 2026-03-10 to 2026-04-10", 10, 3000, 30000, start, end),
        ChargeLine("Business (monthly): seats 11-12, 2026-03-10 to 2026-04-10", 2, 2700, 5400, start, end),
    )
    subtotal = sum(line.amount for line in lines)
    tax = percent_of(subtotal, treatment.rate_bp)
    return Invoice("ten_bench", "inv_01kkbswhg0q7m3c9x2d5e8f4gh", format_number(42), "sub_bench", "paid", issued,
                   "EUR", lines, subtotal, treatment.rate_bp, tax, subtotal + tax, treatment.note, start, end,
                   buyer, load_catalog().seller, InvoicePayment("visa", "4242", "ch_bench", issued))


@dataclass
class PdfReport:
    median_ms: float
    renders: int
    size_bytes: int
    first_ms: float  # fresh interpreter: fpdf2 import, fonts and the render


def _first_render() -> None:
    invoice = sample_invoice()
    from selfservice.adapters.pdf_renderer import render_invoice_pdf

    data = render_invoice_pdf(invoice)  # type: ignore[arg-type]
    print("FIRST " + json.dumps({"ms": (time.perf_counter() - STARTED) * 1000, "size": len(data)}))


def measure(renders: int) -> PdfReport:
    proc = subprocess.run([sys.executable, "-m", "benchmarks.pdf", "--first"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"first render failed:\n{proc.stderr[-3000:]}")
    first = json.loads(next(line for line in proc.stdout.splitlines() if line.startswith("FIRST "))[6:])
    from selfservice.adapters.pdf_renderer import render_invoice_pdf

    invoice = sample_invoice()
    data = render_invoice_pdf(invoice)  # type: ignore[arg-type]  # warm: fonts read, modules imported
    samples = []
    for _ in range(renders):
        started = time.perf_counter()
        data = render_invoice_pdf(invoice)  # type: ignore[arg-type]
        samples.append((time.perf_counter() - started) * 1000)
    return PdfReport(statistics.median(samples), renders, len(data), float(first["ms"]))


if __name__ == "__main__":
    if "--first" in sys.argv:
        _first_render()
    else:
        print(measure(10))
