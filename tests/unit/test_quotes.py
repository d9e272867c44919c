"""Quotes (SPEC 2.2, 2.4-2.6): priced exactly as the change would charge, with tax, per tier."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from selfservice.domain.catalog import TierLine
from selfservice.domain.errors import (
    AlreadyRenewed,
    BelowActiveUsers,
    CancellationScheduled,
    InvalidSeatCount,
    InvoiceOpen,
    PeriodClosing,
    RenewalAlreadyPaid,
    RuleViolation,
    SeatLimitExceeded,
    SeatReductionPending,
)
from selfservice.domain.model import Acknowledgement, ScheduledCancellation, ScheduledReduction, Subscription
from selfservice.domain.quotes import prorated_amount, quote_increase, quote_reduction, quote_renewal
from selfservice.domain.tax import REVERSE_CHARGE_NOTE
from selfservice.domain.terms import utc
from selfservice.domain.wording import SEAT_REDUCTION

from .builders import NOW, TERM_END, TERM_START, make_billing, make_subscription, make_users, plan, prepaid

# The default term 2026-03-01 .. 2026-04-01 is 31 days = 2 678 400 s.
TERM = 2_678_400
ACK = Acknowledgement("v", "someone", NOW)


def reduction_scheduled(sub: Subscription, seats: int) -> Subscription:
    return replace(sub, scheduled_reduction=ScheduledReduction(seats, sub.current_period_end, "x", NOW, ACK))


def cancellation_scheduled(sub: Subscription) -> Subscription:
    return replace(sub, cancellation=ScheduledCancellation(sub.current_period_end, "x", NOW, None, ACK))


# --- renewal -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("plan_id", "seats", "country", "vat_id", "lines", "subtotal", "tax", "period"),
    [
        # monthly, 12 seats, SE: 10 x 3000 + 2 x 2700 = 35400; VAT 25 % = 8850; total 44250
        pytest.param("business-monthly-eur", 12, "SE", None, [(10, 3000, 30000), (2, 2700, 5400)], 35400, 8850,
                     (utc(2026, 4, 1), utc(2026, 5, 1)), id="monthly-12-seats-se"),
        # annual, 12 seats, DE without VAT ID: unit x 12 months -> 10 x 36000 + 2 x 32400 = 424800;
        # VAT 19 % = 80712
        pytest.param("business-annual-eur", 12, "DE", None, [(10, 36000, 360000), (2, 32400, 64800)], 424800,
                     80712, (utc(2027, 3, 1), utc(2028, 3, 1)), id="annual-12-seats-de-19pct"),
        # annual, 12 seats, DE with VAT ID: reverse charge, no tax
        pytest.param("business-annual-eur", 12, "DE", "DE123456789", [(10, 36000, 360000), (2, 32400, 64800)],
                     424800, 0, (utc(2027, 3, 1), utc(2028, 3, 1)), id="annual-12-seats-de-reverse-charge"),
        # monthly, 51 seats, US: 30000 + 40500 + 62500 + 2200 = 135200, no VAT
        pytest.param("business-monthly-eur", 51, "US", None,
                     [(10, 3000, 30000), (15, 2700, 40500), (25, 2500, 62500), (1, 2200, 2200)], 135200, 0,
                     (utc(2026, 4, 1), utc(2026, 5, 1)), id="monthly-51-seats-us"),
        # volume SEK, 26 seats, FR: 26 x 28500 = 741000; VAT 20 % = 148200
        pytest.param("business-monthly-sek", 26, "FR", None, [(26, 28500, 741000)], 741000, 148200,
                     (utc(2026, 4, 1), utc(2026, 5, 1)), id="volume-26-seats-fr"),
        # 1 seat, no billing info: taxed as SE, 3000 x 25 % = 750
        pytest.param("business-monthly-eur", 1, None, None, [(1, 3000, 3000)], 3000, 750,
                     (utc(2026, 4, 1), utc(2026, 5, 1)), id="one-seat-no-billing-info"),
    ],
)
def test_renewal_quote(plan_id: str, seats: int, country: str | None, vat_id: str | None,
                       lines: list[tuple[int, int, int]], subtotal: int, tax: int,
                       period: tuple[datetime, datetime]) -> None:
    p = plan(plan_id)
    end = TERM_END if p.term == "monthly" else utc(2027, 3, 1)
    sub = make_subscription(plan_id, 10, end=end)
    q = quote_renewal(sub, p, seats, make_users(1), make_billing(country, vat_id), NOW)
    assert q.change == "renewal"
    assert q.seats == seats
    assert q.currency == p.currency
    assert [(line.quantity, line.unit_amount, line.amount) for line in q.lines] == lines
    assert all((line.period_start, line.period_end) == period for line in q.lines)
    assert (q.amount_due, q.tax_amount, q.total) == (subtotal, tax, subtotal + tax)
    assert (q.period_start, q.period_end) == period
    assert q.effective_at == period[0]
    assert q.monthly_amount == p.monthly_amount(seats)
    assert q.tiers == tuple(p.monthly_breakdown(seats))
    assert q.acknowledgement is None
    assert q.tax.reverse_charge is (vat_id is not None)
    if vat_id is not None:
        assert q.tax.note == REVERSE_CHARGE_NOTE


def test_renewal_line_descriptions_name_the_seats_and_period() -> None:
    q = quote_renewal(make_subscription(seats=12), plan("business-monthly-eur"), 12, (), None, NOW)
    assert [line.description for line in q.lines] == [
        "Business (monthly): seats 1-10, 2026-04-01 to 2026-05-01",
        "Business (monthly): seats 11-12, 2026-04-01 to 2026-05-01",
    ]


def test_renewal_period_keeps_a_month_end_anchor() -> None:
    # anchor Jan 31; current term Feb 28 .. Mar 31 -> renewal Mar 31 .. Apr 30
    sub = make_subscription(start=utc(2026, 2, 28), end=utc(2026, 3, 31), billing_anchor=utc(2026, 1, 31))
    q = quote_renewal(sub, plan("business-monthly-eur"), 10, (), None, NOW)
    assert (q.period_start, q.period_end) == (utc(2026, 3, 31), utc(2026, 4, 30))


def test_renewal_of_an_ended_subscription_starts_now() -> None:
    sub = make_subscription(status="ended", start=utc(2025, 1, 1), end=utc(2025, 2, 1))
    q = quote_renewal(sub, plan("business-monthly-eur"), 3, (), None, NOW)
    # 2026-03-10 09:00 .. 2026-04-10 09:00, 3 x 3000 = 9000
    assert (q.period_start, q.period_end, q.amount_due) == (NOW, utc(2026, 4, 10, 9), 9000)


def test_renewal_may_pick_fewer_seats_down_to_the_active_users() -> None:
    q = quote_renewal(make_subscription(seats=10), plan("business-monthly-eur"), 4, make_users(4), None, NOW)
    assert q.amount_due == 12000  # 4 x 3000


@pytest.mark.parametrize(
    ("sub", "seats", "error"),
    [
        pytest.param(make_subscription(renewal=prepaid(10)), 10, AlreadyRenewed, id="already-renewed"),
        pytest.param(make_subscription(status="past_due", open_invoice_id="inv_9"), 10, InvoiceOpen,
                     id="past-due"),
        pytest.param(make_subscription(), 4, BelowActiveUsers, id="below-active-users"),     # 5 users
        pytest.param(make_subscription(), 0, InvalidSeatCount, id="zero-seats"),
        pytest.param(make_subscription(), 501, SeatLimitExceeded, id="above-max"),
    ],
)
def test_renewal_quote_refusals(sub: Subscription, seats: int, error: type[RuleViolation]) -> None:
    with pytest.raises(error) as refused:
        quote_renewal(sub, plan(sub.plan_id), seats, make_users(5), None, NOW)
    if error is InvoiceOpen:
        assert refused.value.details == {"invoice_id": "inv_9"}


# --- increase: (term_amount(new) - term_amount(old)) x remaining / term, half-up once ---------------

@pytest.mark.parametrize(
    ("plan_id", "old", "new", "now", "end", "expected"),
    [
        # 10 -> 12: 5400 x 1 868 400 / 2 678 400 (21 d 15 h of 31 d) = 3766.94 -> 3767
        pytest.param("business-monthly-eur", 10, 12, NOW, TERM_END, 3767, id="monthly-now-add-2"),
        # 10 -> 12 at 2026-03-16 12:00: exactly half the term left -> 5400 / 2 = 2700
        pytest.param("business-monthly-eur", 10, 12, utc(2026, 3, 16, 12), TERM_END, 2700, id="monthly-half-add-2"),
        # at the very start the whole difference is due: 5400
        pytest.param("business-monthly-eur", 10, 12, TERM_START, TERM_END, 5400, id="monthly-at-start-add-2"),
        # on the last second: 5400 x 1 / 2 678 400 = 0.002 -> 0
        pytest.param("business-monthly-eur", 10, 12, TERM_END - timedelta(seconds=1), TERM_END, 0,
                     id="monthly-last-second"),
        # 10 -> 11 (2700) with 496 s left: 2700 x 496 / 2 678 400 = 0.5 exactly -> 1 (half-up)
        pytest.param("business-monthly-eur", 10, 11, TERM_END - timedelta(seconds=496), TERM_END, 1,
                     id="monthly-exact-half-cent-rounds-up"),
        # 495 s left: 0.499 -> 0
        pytest.param("business-monthly-eur", 10, 11, TERM_END - timedelta(seconds=495), TERM_END, 0,
                     id="monthly-just-below-half-cent"),
        # annual 24 -> 27 seats: monthly 67800 -> 75500, x12 = 92400; 181 of 365 days left
        # -> 92400 x 181 / 365 = 45820.27 -> 45820
        pytest.param("business-annual-eur", 24, 27, utc(2026, 9, 1), utc(2027, 3, 1), 45820,
                     id="annual-sep1-add-3-across-tiers"),
        # volume SEK 10 -> 11: 340000 -> 341000 (every seat moves to tier 2), diff 1000 x 1/2 = 500
        pytest.param("business-monthly-sek", 10, 11, utc(2026, 3, 16, 12), TERM_END, 500,
                     id="volume-half-add-1"),
    ],
)
def test_prorated_amount(plan_id: str, old: int, new: int, now: datetime, end: datetime, expected: int) -> None:
    p = plan(plan_id)
    start = TERM_START
    assert prorated_amount(p, old, new, now, start, end) == expected


def test_prorated_amount_never_exceeds_the_difference_before_the_term_starts() -> None:
    # A subscription provisioned to start in the future: adding seats before it starts costs the whole
    # difference for the term, not more. 10 -> 12: 5400.
    p = plan("business-monthly-eur")
    assert prorated_amount(p, 10, 12, NOW, utc(2026, 4, 1), utc(2026, 5, 1)) == 5400


def test_increase_before_a_future_term_starts_charges_the_whole_difference() -> None:
    # provisioned to start 2026-04-01; at NOW (2026-03-10) 10 -> 12 costs 5400, the line covers the term
    sub = make_subscription(seats=10, start=utc(2026, 4, 1), end=utc(2026, 5, 1))
    q = quote_increase(sub, plan(sub.plan_id), 12, None, NOW)
    assert q.amount_due == 5400
    assert (q.lines[0].period_start, q.lines[0].period_end) == (utc(2026, 4, 1), utc(2026, 5, 1))
    assert "remaining 30 of 30 days" in q.lines[0].description


def test_prorated_amount_after_the_end_is_zero() -> None:
    assert prorated_amount(plan("business-monthly-eur"), 10, 12, TERM_END + timedelta(days=1),
                           TERM_START, TERM_END) == 0


def test_increase_quote_mid_term() -> None:
    # 10 -> 12 seats at 2026-03-16 12:00: 2700 prorated; VAT 25 % = 675; total 3375
    now = utc(2026, 3, 16, 12)
    q = quote_increase(make_subscription(seats=10), plan("business-monthly-eur"), 12, make_billing("SE"), now)
    assert q.change == "increase"
    assert q.seats == 12
    assert q.monthly_amount == 35400
    assert q.tiers == (TierLine(1, 10, 10, 3000, 30000), TierLine(11, 12, 2, 2700, 5400))
    assert [(line.quantity, line.unit_amount, line.amount) for line in q.lines] == [(1, 2700, 2700)]
    assert (q.lines[0].period_start, q.lines[0].period_end) == (now, TERM_END)
    assert q.lines[0].description == (
        "Business (monthly): 2 added seats (10 to 12), prorated for the remaining 16 of 31 days, to 2026-04-01"
    )
    assert (q.amount_due, q.tax_amount, q.total) == (2700, 675, 3375)
    assert q.effective_at == now
    assert (q.period_start, q.period_end) == (TERM_START, TERM_END)
    assert q.acknowledgement is None


def test_increase_quote_with_prepaid_renewal_adds_a_full_second_line() -> None:
    # current 24 -> 27 at half-term: monthly 67800 -> 75500, diff 7700 x 1/2 = 3850
    # prepaid next term 30 -> 33 seats: 83000 -> 90500, diff 7500 in full
    # subtotal 11350, VAT 25 % = 2837.5 -> 2838, total 14188
    now = utc(2026, 3, 16, 12)
    sub = make_subscription(seats=24, renewal=prepaid(30))
    q = quote_increase(sub, plan("business-monthly-eur"), 27, make_billing("SE"), now)
    assert [(line.quantity, line.unit_amount, line.amount) for line in q.lines] == [(1, 3850, 3850), (1, 7500, 7500)]
    second = q.lines[1]
    assert (second.period_start, second.period_end) == (utc(2026, 4, 1), utc(2026, 5, 1))
    assert "(30 to 33)" in second.description
    assert "2026-04-01 to 2026-05-01" in second.description
    assert (q.amount_due, q.tax_amount, q.total) == (11350, 2838, 14188)


@pytest.mark.parametrize(
    ("sub", "seats", "now", "error"),
    [
        pytest.param(make_subscription(seats=10), 10, NOW, InvalidSeatCount, id="same-seats"),
        pytest.param(make_subscription(seats=10), 9, NOW, InvalidSeatCount, id="fewer-seats"),
        pytest.param(make_subscription(seats=10), 501, NOW, SeatLimitExceeded, id="above-max"),
        # 10 + 499 - 10 = 499 now, but the prepaid 20 + 490 = 510 > 500
        pytest.param(make_subscription(seats=10, renewal=prepaid(20)), 500, NOW, SeatLimitExceeded,
                     id="prepaid-renewal-would-exceed-max"),
        pytest.param(reduction_scheduled(make_subscription(seats=10), 5), 12, NOW, SeatReductionPending,
                     id="reduction-pending"),
        pytest.param(make_subscription(seats=10), 12, TERM_END, PeriodClosing, id="term-over"),
        pytest.param(make_subscription(seats=10, status="past_due"), 12, NOW, InvoiceOpen, id="past-due"),
    ],
)
def test_increase_refusals(sub: Subscription, seats: int, now: datetime, error: type[RuleViolation]) -> None:
    with pytest.raises(error):
        quote_increase(sub, plan(sub.plan_id), seats, None, now)


def test_increase_up_to_max_with_prepaid_renewal_is_allowed() -> None:
    sub = make_subscription(seats=10, renewal=prepaid(20))
    q = quote_increase(sub, plan(sub.plan_id), 490, None, TERM_START)  # renewal 20 + 480 = 500
    assert len(q.lines) == 2


# --- reduction ----------------------------------------------------------------------------------------

def test_reduction_quote_costs_nothing_now_and_carries_the_wording() -> None:
    # 12 -> 8 seats: nothing due; from 2026-04-01 the monthly cost is 8 x 3000 = 24000
    sub = make_subscription(seats=12)
    q = quote_reduction(sub, plan(sub.plan_id), 8, make_users(3), make_billing("SE"), NOW)
    assert q.change == "reduction"
    assert q.seats == 8
    assert (q.amount_due, q.tax_amount, q.total, q.lines) == (0, 0, 0, ())
    assert q.monthly_amount == 24000
    assert q.tiers == (TierLine(1, 8, 8, 3000, 24000),)
    assert q.effective_at == TERM_END
    assert (q.period_start, q.period_end) == (None, None)
    assert q.acknowledgement == SEAT_REDUCTION
    assert q.acknowledgement is not None
    assert q.acknowledgement.version == "seat-reduction/2026-01"
    assert "next subscription period" in q.acknowledgement.text


@pytest.mark.parametrize(
    ("sub", "seats", "error"),
    [
        pytest.param(make_subscription(seats=10), 10, InvalidSeatCount, id="same-seats"),
        pytest.param(make_subscription(seats=10), 11, InvalidSeatCount, id="more-seats"),
        pytest.param(make_subscription(seats=10), 0, InvalidSeatCount, id="zero-seats"),
        pytest.param(make_subscription(seats=10), 2, BelowActiveUsers, id="below-3-active"),
        pytest.param(make_subscription(seats=10, renewal=prepaid(10)), 5, RenewalAlreadyPaid,
                     id="renewal-prepaid"),
        pytest.param(cancellation_scheduled(make_subscription(seats=10)), 5, CancellationScheduled,
                     id="cancellation-scheduled"),
        pytest.param(make_subscription(seats=10, status="past_due"), 5, InvoiceOpen, id="past-due"),
    ],
)
def test_reduction_quote_refusals(sub: Subscription, seats: int, error: type[RuleViolation]) -> None:
    with pytest.raises(error):
        quote_reduction(sub, plan(sub.plan_id), seats, make_users(3), None, NOW)
