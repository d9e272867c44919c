"""Pricing (SPEC 2.2): graduated and volume tiers per seat per month, term amount = monthly x months."""

from __future__ import annotations

import pytest
from selfservice.domain.catalog import TierLine
from selfservice.domain.errors import InvalidSeatCount, RuleViolation, SeatLimitExceeded

from .builders import plan

# (first_seat, last_seat, seats, unit_amount, amount)
Row = tuple[int, int, int, int, int]


@pytest.mark.parametrize(
    ("seats", "rows", "monthly"),
    [
        # 1 x 3000
        pytest.param(1, [(1, 1, 1, 3000, 3000)], 3000, id="graduated-1-seat"),
        # 10 x 3000 = 30000: the whole first tier, nothing of the second
        pytest.param(10, [(1, 10, 10, 3000, 30000)], 30000, id="graduated-10-seats"),
        # 10 x 3000 + 1 x 2700 = 32700
        pytest.param(11, [(1, 10, 10, 3000, 30000), (11, 11, 1, 2700, 2700)], 32700, id="graduated-11-seats"),
        # 10 x 3000 + 2 x 2700 = 35400
        pytest.param(12, [(1, 10, 10, 3000, 30000), (11, 12, 2, 2700, 5400)], 35400, id="graduated-12-seats"),
        # 30000 + 15 x 2700 (40500) = 70500
        pytest.param(25, [(1, 10, 10, 3000, 30000), (11, 25, 15, 2700, 40500)], 70500, id="graduated-25-seats"),
        # 70500 + 1 x 2500 = 73000
        pytest.param(26, [(1, 10, 10, 3000, 30000), (11, 25, 15, 2700, 40500), (26, 26, 1, 2500, 2500)],
                     73000, id="graduated-26-seats"),
        # 70500 + 25 x 2500 (62500) = 133000
        pytest.param(50, [(1, 10, 10, 3000, 30000), (11, 25, 15, 2700, 40500), (26, 50, 25, 2500, 62500)],
                     133000, id="graduated-50-seats"),
        # 133000 + 1 x 2200 = 135200
        pytest.param(51, [(1, 10, 10, 3000, 30000), (11, 25, 15, 2700, 40500), (26, 50, 25, 2500, 62500),
                          (51, 51, 1, 2200, 2200)], 135200, id="graduated-51-seats"),
        # 133000 + 450 x 2200 (990000) = 1123000
        pytest.param(500, [(1, 10, 10, 3000, 30000), (11, 25, 15, 2700, 40500), (26, 50, 25, 2500, 62500),
                           (51, 500, 450, 2200, 990000)], 1_123_000, id="graduated-500-seats"),
    ],
)
@pytest.mark.parametrize("plan_id", ["business-monthly-eur", "business-annual-eur"])
def test_graduated_breakdown(plan_id: str, seats: int, rows: list[Row], monthly: int) -> None:
    p = plan(plan_id)
    assert p.monthly_breakdown(seats) == [TierLine(*row) for row in rows]
    assert p.monthly_amount(seats) == monthly


@pytest.mark.parametrize(
    ("seats", "unit", "monthly"),
    [
        pytest.param(1, 34000, 34000, id="volume-1-seat"),             # 1 x 34000
        pytest.param(10, 34000, 340000, id="volume-10-seats"),         # 10 x 34000, still tier 1
        pytest.param(11, 31000, 341000, id="volume-11-seats"),         # 11 x 31000: every seat at tier 2
        pytest.param(25, 31000, 775000, id="volume-25-seats"),         # 25 x 31000
        pytest.param(26, 28500, 741000, id="volume-26-seats"),         # 26 x 28500: cheaper than 25 seats
        pytest.param(50, 28500, 1_425_000, id="volume-50-seats"),      # 50 x 28500
        pytest.param(51, 25000, 1_275_000, id="volume-51-seats"),      # 51 x 25000
        pytest.param(500, 25000, 12_500_000, id="volume-500-seats"),   # 500 x 25000
    ],
)
@pytest.mark.parametrize("plan_id", ["business-monthly-sek", "business-annual-sek"])
def test_volume_prices_every_seat_at_the_total_tier(plan_id: str, seats: int, unit: int, monthly: int) -> None:
    p = plan(plan_id)
    assert p.monthly_breakdown(seats) == [TierLine(1, seats, seats, unit, monthly)]
    assert p.monthly_amount(seats) == monthly


@pytest.mark.parametrize(
    ("seats", "monthly"),
    [
        pytest.param(100, 400_000, id="enterprise-100-seats"),       # 100 x 4000
        pytest.param(101, 403_500, id="enterprise-101-seats"),       # 400000 + 1 x 3500
        pytest.param(501, 1_803_000, id="enterprise-501-seats"),     # 400000 + 400 x 3500 + 1 x 3000
    ],
)
def test_enterprise_graduated(seats: int, monthly: int) -> None:
    assert plan("enterprise-annual-eur").monthly_amount(seats) == monthly


@pytest.mark.parametrize(
    ("plan_id", "seats", "term_amount"),
    [
        pytest.param("business-monthly-eur", 12, 35_400, id="monthly-x1-12-seats"),           # 35400 x 1
        pytest.param("business-annual-eur", 12, 424_800, id="annual-x12-12-seats"),           # 35400 x 12
        pytest.param("business-annual-eur", 1, 36_000, id="annual-x12-1-seat"),              # 3000 x 12
        pytest.param("business-monthly-sek", 26, 741_000, id="sek-monthly-x1-26-seats"),      # 26 x 28500
        pytest.param("business-annual-sek", 26, 8_892_000, id="sek-annual-x12-26-seats"),     # 741000 x 12
        pytest.param("enterprise-annual-eur", 100, 4_800_000, id="enterprise-annual-x12"),    # 400000 x 12
    ],
)
def test_term_amount_is_monthly_times_months(plan_id: str, seats: int, term_amount: int) -> None:
    assert plan(plan_id).term_amount(seats) == term_amount


@pytest.mark.parametrize(
    ("plan_id", "seats", "error", "details"),
    [
        pytest.param("business-monthly-eur", 0, InvalidSeatCount, {"seats": 0, "minimum": 1}, id="zero-seats"),
        pytest.param("business-monthly-eur", -3, InvalidSeatCount, {"seats": -3, "minimum": 1},
                     id="negative-seats"),
        pytest.param("business-monthly-eur", 501, SeatLimitExceeded, {"seats": 501, "max_seats": 500},
                     id="one-above-max"),
        pytest.param("business-monthly-sek", 501, SeatLimitExceeded, {"seats": 501, "max_seats": 500},
                     id="volume-one-above-max"),
        pytest.param("enterprise-annual-eur", 10_001, SeatLimitExceeded, {"seats": 10_001, "max_seats": 10_000},
                     id="enterprise-above-max"),
    ],
)
def test_seat_count_out_of_range_is_refused(plan_id: str, seats: int, error: type[RuleViolation],
                                            details: dict[str, int]) -> None:
    p = plan(plan_id)
    for price in (p.monthly_breakdown, p.monthly_amount, p.term_amount, p.check_seats):
        with pytest.raises(error) as refused:
            price(seats)
        assert refused.value.details == details
    assert error.code in ("invalid_seat_count", "seat_limit_exceeded")


@pytest.mark.parametrize("plan_id", ["business-monthly-eur", "business-monthly-sek", "enterprise-annual-eur"])
def test_max_seats_itself_is_allowed(plan_id: str) -> None:
    p = plan(plan_id)
    p.check_seats(p.max_seats)
    p.check_seats(1)
    assert sum(line.seats for line in p.monthly_breakdown(p.max_seats)) == p.max_seats
