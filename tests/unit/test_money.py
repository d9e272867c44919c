"""Money: integer minor units, rounded half away from zero exactly once."""

from __future__ import annotations

import pytest
from selfservice.domain.money import format_amount, percent_of, round_half_up


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        pytest.param(10, 5, 2, id="exact"),
        pytest.param(0, 7, 0, id="zero"),
        pytest.param(14, 10, 1, id="below-half-down"),         # 1.4 -> 1
        pytest.param(15, 10, 2, id="exact-half-up"),           # 1.5 -> 2
        pytest.param(25, 10, 3, id="exact-half-up-even"),      # 2.5 -> 3 (not banker's 2)
        pytest.param(16, 10, 2, id="above-half-up"),           # 1.6 -> 2
        pytest.param(1, 2, 1, id="one-half"),                  # 0.5 -> 1
        pytest.param(499_999, 1_000_000, 0, id="just-below-half"),
        pytest.param(500_000, 1_000_000, 1, id="just-half"),
        pytest.param(-14, 10, -1, id="negative-below-half"),   # -1.4 -> -1
        pytest.param(-15, 10, -2, id="negative-exact-half"),   # -1.5 -> -2 (away from zero)
        pytest.param(-25, 10, -3, id="negative-half-even"),    # -2.5 -> -3
        pytest.param(-16, 10, -2, id="negative-above-half"),
        pytest.param(-1, 3, 0, id="negative-third"),           # -0.33 -> 0
        pytest.param(-2, 3, -1, id="negative-two-thirds"),     # -0.67 -> -1
        # big exact rationals: no float ever touches them
        pytest.param(10**30 + 5, 10, 10**29 + 1, id="huge-half"),
    ],
)
def test_round_half_up(numerator: int, denominator: int, expected: int) -> None:
    assert round_half_up(numerator, denominator) == expected


@pytest.mark.parametrize("denominator", [0, -1])
def test_round_half_up_refuses_non_positive_denominator(denominator: int) -> None:
    with pytest.raises(ValueError, match="denominator"):
        round_half_up(1, denominator)


@pytest.mark.parametrize(
    ("amount", "rate_bp", "expected"),
    [
        pytest.param(10_000, 2500, 2500, id="25pct-exact"),
        pytest.param(3_000, 1900, 570, id="19pct"),             # 3000 x 0.19 = 570
        pytest.param(1, 2500, 0, id="25pct-of-1-cent"),          # 0.25 -> 0
        pytest.param(2, 2500, 1, id="25pct-of-2-cents-half"),    # 0.50 -> 1
        pytest.param(3, 2500, 1, id="25pct-of-3-cents"),         # 0.75 -> 1
        pytest.param(6, 2500, 2, id="25pct-of-6-cents-half"),    # 1.50 -> 2
        pytest.param(199, 2550, 51, id="25.5pct"),               # 50.745 -> 51
        pytest.param(10, 1700, 2, id="17pct-of-10"),             # 1.7 -> 2
        pytest.param(12_345, 0, 0, id="zero-rate"),
        pytest.param(-6, 2500, -2, id="negative-half"),          # -1.5 -> -2
    ],
)
def test_percent_of(amount: int, rate_bp: int, expected: int) -> None:
    assert percent_of(amount, rate_bp) == expected


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        pytest.param(1_234_567, "EUR", "12,345.67 EUR", id="thousands"),
        pytest.param(0, "EUR", "0.00 EUR", id="zero"),
        pytest.param(5, "SEK", "0.05 SEK", id="leading-zero-minor"),
        pytest.param(100, "SEK", "1.00 SEK", id="whole"),
        pytest.param(-5, "EUR", "-0.05 EUR", id="negative-below-one"),
        pytest.param(-123_456, "EUR", "-1,234.56 EUR", id="negative-thousands"),
        pytest.param(100_000_000_00, "USD", "100,000,000.00 USD", id="hundred-million"),
    ],
)
def test_format_amount(amount: int, currency: str, expected: str) -> None:
    assert format_amount(amount, currency) == expected
