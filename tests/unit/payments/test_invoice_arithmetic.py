"""The arithmetic of what is charged and invoiced, table-driven, through the payment engine: the invoice
and the gateway's charge carry exactly these amounts (SPEC 2.2, 2.5, 2.13). Money is integer minor
units; each line is rounded half-up once; the tax is the buyer's case rate on the subtotal, rounded
half-up once. The comments show the arithmetic.

The default term is 2026-03-01 .. 2026-04-01: 31 days = 2 678 400 s."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from selfservice.adapters.clock import ManualClock
from selfservice.domain.tax import REVERSE_CHARGE_NOTE
from selfservice.domain.terms import utc
from selfservice.services import Caller, Deps, payments
from selfservice.services import subscriptions as flows

from ..builders import NOW, TERM_END, TERM_START, Provision
from .conftest import AddCard, CrashingRepository, WatchedGateway, request, stored_sub

HALF_TERM = utc(2026, 3, 16, 12)  # 1 339 200 s of 2 678 400 left
OUTSIDE_EU = "VAT not applicable: service supplied outside the EU."


def quoted_total(deps: Deps, caller: Caller, sub_id: str, change: str, seats: int) -> int:
    return flows.quote(deps, caller, sub_id, change, seats).total  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("plan_id", "seats", "to", "at", "country", "vat_id", "prepaid", "lines", "tax_bp", "tax", "note"),
    [
        # 10 -> 12 at half-term: (35400 - 30000) x 1/2 = 2700; VAT 25 % = 675
        pytest.param("business-monthly-eur", 10, 12, HALF_TERM, "SE", None, None, [2700], 2500, 675, None,
                     id="monthly-mid-term-add-2-se"),
        # 10 -> 12 at 03-10 09:00: 5400 x 1 868 400 / 2 678 400 = 3766.94 -> 3767; VAT 941.75 -> 942
        pytest.param("business-monthly-eur", 10, 12, NOW, "SE", None, None, [3767], 2500, 942, None,
                     id="monthly-21d15h-left-add-2-se"),
        # 10 -> 11 with 496 s left: 2700 x 496 / 2 678 400 = 0.5 -> 1 (half-up); VAT 0.25 -> 0
        pytest.param("business-monthly-eur", 10, 11, TERM_END - timedelta(seconds=496), "SE", None, None, [1],
                     2500, 0, None, id="last-minutes-half-a-cent-rounds-up"),
        # prepaid next term 30: now 24 -> 27 at half-term: (75500 - 67800) x 1/2 = 3850; next term
        # 30 -> 33 in full: 90500 - 83000 = 7500; subtotal 11350, VAT 2837.5 -> 2838
        pytest.param("business-monthly-eur", 24, 27, HALF_TERM, "SE", None, 30, [3850, 7500], 2500, 2838, None,
                     id="with-prepaid-next-term-second-line"),
        # volume SEK 10 -> 11 at half-term: 11 x 31000 - 10 x 34000 = 1000, x 1/2 = 500; VAT 125
        pytest.param("business-monthly-sek", 10, 11, HALF_TERM, "SE", None, None, [500], 2500, 125, None,
                     id="volume-mid-term-add-1-se"),
        # annual 24 -> 27 on 09-01: (75500 - 67800) x 12 = 92400 x 181/365 = 45820.27 -> 45820;
        # DE without a VAT ID: 19 % = 8705.8 -> 8706
        pytest.param("business-annual-eur", 24, 27, utc(2026, 9, 1), "DE", None, None, [45820], 1900, 8706, None,
                     id="annual-add-3-de-19pct"),
        # the same for a DE buyer with a VAT ID: reverse charge, no VAT
        pytest.param("business-annual-eur", 24, 27, utc(2026, 9, 1), "DE", "DE123456789", None, [45820], 0, 0,
                     REVERSE_CHARGE_NOTE, id="annual-add-3-de-reverse-charge"),
        # outside the EU: no VAT
        pytest.param("business-monthly-eur", 10, 12, HALF_TERM, "US", None, None, [2700], 0, 0, OUTSIDE_EU,
                     id="monthly-mid-term-add-2-us"),
    ],
)
def test_added_seats_invoice(deps: Deps, caller: Caller, provision: Provision, add_card: AddCard,
                             clock: ManualClock, gateway: WatchedGateway, plan_id: str, seats: int, to: int,
                             at: datetime, country: str, vat_id: str | None, prepaid: int | None,
                             lines: list[int], tax_bp: int, tax: int, note: str | None) -> None:
    sub_id = provision(plan_id, seats=seats, users=2, country=country, vat_id=vat_id, start=TERM_START).subscription.id
    add_card()
    if prepaid is not None:
        payments.renew(deps, caller, sub_id,
                       request("renewal", prepaid, quoted_total(deps, caller, sub_id, "renewal", prepaid)))
    clock.set(at)
    subtotal = sum(lines)

    outcome = payments.add_seats(deps, caller, sub_id, request("seats", to, subtotal + tax))

    invoice = outcome.invoice
    assert invoice is not None
    assert [line.amount for line in invoice.lines] == lines
    assert all(line.quantity * line.unit_amount == line.amount for line in invoice.lines)
    assert (invoice.subtotal, invoice.tax_rate_bp, invoice.tax_amount, invoice.total) == (
        subtotal, tax_bp, tax, subtotal + tax)
    assert invoice.tax_note == note
    assert gateway.charged[-1].amount == invoice.total


@pytest.mark.parametrize(
    ("plan_id", "seats", "at"),
    [
        # 10 -> 12 on the last second: 5400 x 1 / 2 678 400 = 0.002 -> 0: nothing due
        pytest.param("business-monthly-eur", 12, TERM_END - timedelta(seconds=1), id="last-second"),
        # volume SEK 25 -> 26: 26 x 28500 = 741000 < 25 x 31000 = 775000: never a credit, nothing due
        pytest.param("business-monthly-sek", 26, NOW, id="volume-into-a-cheaper-tier"),
    ],
)
def test_added_seats_that_cost_nothing(deps: Deps, caller: Caller, repo: CrashingRepository, provision: Provision,
                                       add_card: AddCard, clock: ManualClock, gateway: WatchedGateway,
                                       plan_id: str, seats: int, at: datetime) -> None:
    start_seats = 10 if plan_id.endswith("eur") else 25
    sub_id = provision(plan_id, seats=start_seats).subscription.id
    add_card()
    clock.set(at)
    outcome = payments.add_seats(deps, caller, sub_id, request("seats", seats, 0))
    assert outcome.invoice is None and gateway.calls == []
    assert stored_sub(repo).seats == seats


@pytest.mark.parametrize(
    ("plan_id", "seats", "country", "vat_id", "lines", "tax_bp", "tax", "note"),
    [
        # graduated, 12 seats: 10 x 3000 + 2 x 2700 = 35400; SE 25 % = 8850
        pytest.param("business-monthly-eur", 12, "SE", None, [30000, 5400], 2500, 8850, None, id="se-25pct"),
        # DE with a VAT ID: reverse charge
        pytest.param("business-monthly-eur", 12, "DE", "DE123456789", [30000, 5400], 0, 0, REVERSE_CHARGE_NOTE,
                     id="de-vat-id-reverse-charge"),
        # DE without: 19 % of 35400 = 6726
        pytest.param("business-monthly-eur", 12, "DE", None, [30000, 5400], 1900, 6726, None, id="de-19pct"),
        # US: 0 %
        pytest.param("business-monthly-eur", 12, "US", None, [30000, 5400], 0, 0, OUTSIDE_EU, id="us-0pct"),
        # annual graduated: 12 months: 10 x 36000 + 2 x 32400 = 424800; SE 25 % = 106200
        pytest.param("business-annual-eur", 12, "SE", None, [360000, 64800], 2500, 106200, None, id="annual-se"),
        # volume, 26 seats: every seat at the 26-50 tier: 26 x 28500 = 741000; SE 25 % = 185250
        pytest.param("business-monthly-sek", 26, "SE", None, [741000], 2500, 185250, None, id="volume-26-se"),
        # FI 25.5 %: 3 x 3000 = 9000 x 25.5 % = 2295
        pytest.param("business-monthly-eur", 3, "FI", None, [9000], 2550, 2295, None, id="fi-25-5pct"),
        # HU 27 %: 7 x 3000 = 21000 x 27 % = 5670
        pytest.param("business-monthly-eur", 7, "HU", None, [21000], 2700, 5670, None, id="hu-27pct"),
    ],
)
def test_renewal_invoice(deps: Deps, caller: Caller, provision: Provision, add_card: AddCard,
                         gateway: WatchedGateway, plan_id: str, seats: int, country: str, vat_id: str | None,
                         lines: list[int], tax_bp: int, tax: int, note: str | None) -> None:
    sub_id = provision(plan_id, seats=10, users=1, country=country, vat_id=vat_id).subscription.id
    add_card()
    subtotal = sum(lines)

    outcome = payments.renew(deps, caller, sub_id, request("renewal", seats, subtotal + tax))

    invoice = outcome.invoice
    assert invoice is not None
    assert [line.amount for line in invoice.lines] == lines
    assert (invoice.subtotal, invoice.tax_rate_bp, invoice.tax_amount, invoice.total) == (
        subtotal, tax_bp, tax, subtotal + tax)
    assert invoice.tax_note == note
    assert invoice.buyer is not None and (invoice.buyer.country, invoice.buyer.vat_id) == (country, vat_id)
    assert [c.amount for c in gateway.charged] == [invoice.total]
