"""Properties that hold for every input, not just the table rows."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st
from selfservice.domain.catalog import Plan
from selfservice.domain.money import round_half_up
from selfservice.domain.quotes import prorated_amount
from selfservice.domain.terms import add_months, next_period_end

from .builders import TERM_END, TERM_START, plan

GRADUATED = ["business-monthly-eur", "business-annual-eur", "enterprise-annual-eur"]
VOLUME = ["business-monthly-sek", "business-annual-sek"]
# The default term 2026-03-01 .. 2026-04-01, in seconds.
TERM = int((TERM_END - TERM_START).total_seconds())


def unit_price_of_seat(p: Plan, seat: int) -> int:
    """The price of the n-th seat, read straight from the tier table."""
    return next(t.unit_amount for t in p.tiers if t.up_to is None or seat <= t.up_to)


@settings(max_examples=200)
@given(plan_id=st.sampled_from(GRADUATED), data=st.data())
def test_graduated_total_is_the_sum_of_per_seat_prices(plan_id: str, data: st.DataObject) -> None:
    p = plan(plan_id)
    seats = data.draw(st.integers(1, p.max_seats))
    assert p.monthly_amount(seats) == sum(unit_price_of_seat(p, n) for n in range(1, seats + 1))
    lines = p.monthly_breakdown(seats)
    assert sum(line.seats for line in lines) == seats
    assert [line.first_seat for line in lines] == [1] + [line.last_seat + 1 for line in lines[:-1]]
    # one more seat always costs exactly that seat's price
    if seats < p.max_seats:
        assert p.monthly_amount(seats + 1) - p.monthly_amount(seats) == unit_price_of_seat(p, seats + 1)


@given(plan_id=st.sampled_from(VOLUME), seats=st.integers(1, 500))
def test_volume_total_prices_every_seat_at_the_total_tier(plan_id: str, seats: int) -> None:
    p = plan(plan_id)
    assert p.monthly_amount(seats) == seats * unit_price_of_seat(p, seats)
    assert p.term_amount(seats) == p.monthly_amount(seats) * p.months


@given(numerator=st.integers(-(10**15), 10**15), denominator=st.integers(1, 10**9))
def test_round_half_up_matches_exact_rational_rounding(numerator: int, denominator: int) -> None:
    exact = Fraction(numerator, denominator)
    rounded = round_half_up(numerator, denominator)
    assert abs(exact - rounded) <= Fraction(1, 2)
    # a tie goes away from zero
    if abs(exact - rounded) == Fraction(1, 2):
        assert abs(rounded) > abs(exact)


@st.composite
def increase(draw: st.DrawFn) -> tuple[Plan, int, int]:
    p = plan(draw(st.sampled_from(GRADUATED)))
    old = draw(st.integers(1, p.max_seats - 1))
    new = draw(st.integers(old + 1, p.max_seats))
    return p, old, new


# from a day before the term starts to a day after it ends
offsets = st.integers(-86_400, TERM + 86_400)


@settings(max_examples=300)
@given(change=increase(), a=offsets, b=offsets)
def test_pro_rata_is_bounded_by_the_difference_and_monotonic_in_remaining_time(
        change: tuple[Plan, int, int], a: int, b: int) -> None:
    p, old, new = change
    difference = p.term_amount(new) - p.term_amount(old)
    earlier, later = sorted((a, b))
    at_earlier = prorated_amount(p, old, new, TERM_START + timedelta(seconds=earlier), TERM_START, TERM_END)
    at_later = prorated_amount(p, old, new, TERM_START + timedelta(seconds=later), TERM_START, TERM_END)
    assert 0 <= at_later <= at_earlier <= difference


anchors = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 31),
                       timezones=st.just(UTC))


@given(anchor=anchors, terms=st.integers(1, 60), term=st.sampled_from(["monthly", "annual"]))
def test_chained_terms_never_drift_from_the_anchor(anchor: datetime, terms: int, term: str) -> None:
    step = 1 if term == "monthly" else 12
    start = anchor
    for n in range(1, terms + 1):
        end = next_period_end(anchor, start, term)
        assert end == add_months(anchor, n * step)
        assert end > start
        # the anchor's day, or the month's last day when the month is shorter
        assert end.day == min(anchor.day, calendar.monthrange(end.year, end.month)[1])
        assert end.time() == anchor.time()
        start = end
