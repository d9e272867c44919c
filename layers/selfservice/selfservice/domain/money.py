"""Money is an integer count of minor units (cents, öre) plus an ISO-4217 code. Never floats."""

from __future__ import annotations

CURRENCY_EXPONENTS = {"EUR": 2, "SEK": 2, "USD": 2, "GBP": 2, "NOK": 2, "DKK": 2}


def round_half_up(numerator: int, denominator: int) -> int:
    """Exact rational rounding, half away from zero, to an integer number of minor units."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    sign = -1 if numerator < 0 else 1
    quotient, remainder = divmod(abs(numerator), denominator)
    if remainder * 2 >= denominator:
        quotient += 1
    return sign * quotient


def percent_of(amount: int, rate_basis_points: int) -> int:
    """`amount` x rate, rate in basis points (2500 = 25 %), rounded half-up once."""
    return round_half_up(amount * rate_basis_points, 10_000)


def format_amount(amount: int, currency: str) -> str:
    """Human rendering for PDFs and messages: 1234567 EUR -> '12,345.67 EUR'."""
    exponent = CURRENCY_EXPONENTS.get(currency, 2)
    sign = "-" if amount < 0 else ""
    major, minor = divmod(abs(amount), 10**exponent)
    return f"{sign}{major:,}.{minor:0{exponent}d} {currency}"
