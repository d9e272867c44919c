"""VAT rules for a seller established in Sweden (SPEC 2.13).

- buyer in Sweden: 25 %
- buyer in another EU country with a VAT ID: reverse charge, 0 %, with the note on the invoice
- buyer in another EU country without a VAT ID: that country's standard rate
- buyer outside the EU: 0 % (export of services)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SELLER_COUNTRY = "SE"

# Standard VAT rates in basis points (2500 = 25 %).
EU_STANDARD_RATES_BP: dict[str, int] = {
    "AT": 2000, "BE": 2100, "BG": 2000, "CY": 1900, "CZ": 2100, "DE": 1900, "DK": 2500, "EE": 2400,
    "ES": 2100, "FI": 2550, "FR": 2000, "GR": 2400, "HR": 2500, "HU": 2700, "IE": 2300, "IT": 2200,
    "LT": 2100, "LU": 1700, "LV": 2100, "MT": 1800, "NL": 2100, "PL": 2300, "PT": 2300, "RO": 2100,
    "SE": 2500, "SI": 2200, "SK": 2300,
}

# VAT numbers carry the country prefix; Greece uses EL.
VAT_PREFIX = {country: country for country in EU_STANDARD_RATES_BP} | {"GR": "EL"}

# Shapes of EU VAT numbers after the prefix (format only; VIES validity is not checked here).
_VAT_BODY = {
    "AT": r"U\d{8}", "BE": r"[01]\d{9}", "BG": r"\d{9,10}", "CY": r"\d{8}[A-Z]", "CZ": r"\d{8,10}",
    "DE": r"\d{9}", "DK": r"\d{8}", "EE": r"\d{9}", "EL": r"\d{9}", "ES": r"[A-Z0-9]\d{7}[A-Z0-9]",
    "FI": r"\d{8}", "FR": r"[A-Z0-9]{2}\d{9}", "HR": r"\d{11}", "HU": r"\d{8}", "IE": r"\d{7}[A-Z]{1,2}|\d[A-Z+*]\d{5}[A-Z]",
    "IT": r"\d{11}", "LT": r"\d{9}|\d{12}", "LU": r"\d{8}", "LV": r"\d{11}", "MT": r"\d{8}",
    "NL": r"\d{9}B\d{2}", "PL": r"\d{10}", "PT": r"\d{9}", "RO": r"\d{2,10}", "SE": r"\d{10}01",
    "SI": r"\d{8}", "SK": r"\d{10}",
}

REVERSE_CHARGE_NOTE = "Reverse charge: VAT to be accounted for by the recipient (Article 196, Directive 2006/112/EC)."


def normalise_vat_id(vat_id: str) -> str:
    return re.sub(r"[\s.\-]", "", vat_id).upper()


def vat_id_format_ok(vat_id: str, country: str) -> bool:
    """True when `vat_id` has the shape of the buyer country's EU VAT number. Non-EU IDs are free-form."""
    vat = normalise_vat_id(vat_id)
    if country not in EU_STANDARD_RATES_BP:
        return 2 <= len(vat) <= 20 and vat.isalnum()
    prefix = VAT_PREFIX[country]
    if not vat.startswith(prefix):
        return False
    return re.fullmatch(_VAT_BODY[prefix], vat[len(prefix):]) is not None


@dataclass(frozen=True, slots=True)
class TaxTreatment:
    rate_bp: int
    reverse_charge: bool
    note: str | None

    @property
    def rate_percent(self) -> str:
        return rate_percent(self.rate_bp)


def rate_percent(rate_bp: int) -> str:
    """A rate in basis points as the API and invoices show it: 2500 -> "25", 2550 -> "25.5"."""
    whole, frac = divmod(rate_bp, 100)
    return f"{whole}" if frac == 0 else f"{whole}.{frac:02d}".rstrip("0")


def tax_treatment(country: str | None, vat_id: str | None) -> TaxTreatment:
    """The VAT treatment for a buyer. An unknown country (no billing information yet) is taxed as
    Swedish: the seller's own rate is the safe default until the buyer says otherwise."""
    if country is None or country == SELLER_COUNTRY:
        return TaxTreatment(EU_STANDARD_RATES_BP[SELLER_COUNTRY], False, None)
    if country in EU_STANDARD_RATES_BP:
        if vat_id:
            return TaxTreatment(0, True, REVERSE_CHARGE_NOTE)
        return TaxTreatment(EU_STANDARD_RATES_BP[country], False, None)
    return TaxTreatment(0, False, "VAT not applicable: service supplied outside the EU.")
