"""Card rules (SPEC 2.10, 2.11). The API never sees a card number: only the sandbox tokeniser does,
and it keeps brand, last four, expiry, holder and a fingerprint, never the number or the CVC."""

from __future__ import annotations

import re
from datetime import datetime

from selfservice.domain.errors import InvalidInput


def luhn_ok(number: str) -> bool:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def brand_of(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if re.match(r"^(5[1-5]|2[2-7])", number):
        return "mastercard"
    if re.match(r"^3[47]", number):
        return "amex"
    return "unknown"


def normalise_number(number: str) -> str:
    return re.sub(r"[\s-]", "", number)


def is_expired(exp_month: int, exp_year: int, now: datetime) -> bool:
    """A card is valid through the last day of its expiry month."""
    return (exp_year, exp_month) < (now.year, now.month)


def check_card_details(number: str, exp_month: int, exp_year: int, cvc: str, now: datetime) -> str:
    """Validates what a tokeniser receives; returns the normalised number. Messages never echo it."""
    digits = normalise_number(number)
    if not luhn_ok(digits):
        raise InvalidInput("The card number is not valid.", field="number")
    if not 1 <= exp_month <= 12:
        raise InvalidInput("The expiry month must be 1-12.", field="exp_month")
    if is_expired(exp_month, exp_year, now):
        raise InvalidInput("The card has expired.", field="exp_year")
    expected_cvc = 4 if brand_of(digits) == "amex" else 3
    if not (cvc.isdigit() and len(cvc) in (3, 4) and (len(cvc) == expected_cvc or brand_of(digits) == "unknown")):
        raise InvalidInput("The security code (CVC) is not valid.", field="cvc")
    return digits
