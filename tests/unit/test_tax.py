"""VAT for a Swedish seller (SPEC 2.13) and the VAT ID format check (SPEC 2.12)."""

from __future__ import annotations

import pytest
from selfservice.domain.billing import check_country, check_vat_id
from selfservice.domain.errors import InvalidInput
from selfservice.domain.tax import REVERSE_CHARGE_NOTE, TaxTreatment, tax_treatment, vat_id_format_ok

EXPORT = "VAT not applicable: service supplied outside the EU."


@pytest.mark.parametrize(
    ("country", "vat_id", "rate_bp", "reverse_charge", "note"),
    [
        pytest.param("SE", None, 2500, False, None, id="se-25pct"),
        pytest.param("SE", "SE556677889901", 2500, False, None, id="se-with-vat-id-still-25pct"),
        pytest.param("DE", "DE123456789", 0, True, REVERSE_CHARGE_NOTE, id="de-vat-id-reverse-charge"),
        pytest.param("DE", None, 1900, False, None, id="de-no-vat-id-19pct"),
        pytest.param("FR", None, 2000, False, None, id="fr-no-vat-id-20pct"),
        pytest.param("FR", "FRXX123456789", 0, True, REVERSE_CHARGE_NOTE, id="fr-vat-id-reverse-charge"),
        pytest.param("GR", None, 2400, False, None, id="gr-24pct"),
        pytest.param("FI", None, 2550, False, None, id="fi-25.5pct"),
        pytest.param("DK", None, 2500, False, None, id="dk-25pct"),
        pytest.param("US", None, 0, False, EXPORT, id="us-0pct"),
        pytest.param("US", "123456789", 0, False, EXPORT, id="us-with-tax-id-0pct-no-reverse-charge"),
        pytest.param("NO", None, 0, False, EXPORT, id="no-0pct"),
        pytest.param("GB", None, 0, False, EXPORT, id="gb-outside-eu-0pct"),
        pytest.param("CH", None, 0, False, EXPORT, id="ch-0pct"),
        pytest.param(None, None, 2500, False, None, id="no-billing-info-se-rate"),
    ],
)
def test_tax_treatment(country: str | None, vat_id: str | None, rate_bp: int, reverse_charge: bool,
                       note: str | None) -> None:
    assert tax_treatment(country, vat_id) == TaxTreatment(rate_bp, reverse_charge, note)


def test_reverse_charge_note_names_the_directive() -> None:
    assert "Reverse charge" in REVERSE_CHARGE_NOTE
    assert "2006/112/EC" in REVERSE_CHARGE_NOTE


@pytest.mark.parametrize(
    ("rate_bp", "text"),
    [
        pytest.param(2500, "25", id="whole"),
        pytest.param(2550, "25.5", id="half"),
        pytest.param(2505, "25.05", id="hundredth"),
        pytest.param(0, "0", id="zero"),
    ],
)
def test_rate_percent(rate_bp: int, text: str) -> None:
    assert TaxTreatment(rate_bp, False, None).rate_percent == text


@pytest.mark.parametrize(
    ("vat_id", "country"),
    [
        pytest.param("SE556677889901", "SE", id="se"),
        pytest.param("DE123456789", "DE", id="de"),
        pytest.param("de 123.456-789", "DE", id="de-spaces-dots-lower-case"),
        pytest.param("FRXX123456789", "FR", id="fr-letters"),
        pytest.param("FR12123456789", "FR", id="fr-digits"),
        pytest.param("EL123456789", "GR", id="gr-uses-el-prefix"),
        pytest.param("ATU12345678", "AT", id="at"),
        pytest.param("NL123456789B01", "NL", id="nl"),
        pytest.param("IE1234567T", "IE", id="ie-new"),
        pytest.param("IE1234567WA", "IE", id="ie-two-letters"),
        pytest.param("IE1A23456B", "IE", id="ie-old"),
        pytest.param("ESX1234567Y", "ES", id="es"),
        pytest.param("BE0123456789", "BE", id="be"),
        pytest.param("LT123456789", "LT", id="lt-9"),
        pytest.param("LT123456789012", "LT", id="lt-12"),
        pytest.param("NO123456789MVA", "NO", id="non-eu-free-form"),
        pytest.param("12-3456789", "US", id="non-eu-with-dash"),
    ],
)
def test_valid_vat_ids(vat_id: str, country: str) -> None:
    assert vat_id_format_ok(vat_id, country)


@pytest.mark.parametrize(
    ("vat_id", "country"),
    [
        pytest.param("SE5566778899", "SE", id="se-missing-01"),
        pytest.param("SE556677889902", "SE", id="se-wrong-suffix"),
        pytest.param("556677889901", "SE", id="se-no-prefix"),
        pytest.param("DE12345678", "DE", id="de-8-digits"),
        pytest.param("DE1234567890", "DE", id="de-10-digits"),
        pytest.param("FR123456789", "DE", id="prefix-of-another-country"),
        pytest.param("DE123456789", "FR", id="de-id-for-fr"),
        pytest.param("FR1234567890", "FR", id="fr-too-short"),
        pytest.param("GR123456789", "GR", id="gr-prefix-refused-el-required"),
        pytest.param("AT12345678", "AT", id="at-without-u"),
        pytest.param("NL123456789", "NL", id="nl-without-b-suffix"),
        pytest.param("LT1234567890", "LT", id="lt-10-digits"),
        pytest.param("", "DE", id="empty"),
        pytest.param("X", "US", id="non-eu-too-short"),
        pytest.param("A" * 21, "US", id="non-eu-too-long"),
        pytest.param("AB_12", "NO", id="non-eu-not-alphanumeric"),
    ],
)
def test_invalid_vat_ids(vat_id: str, country: str) -> None:
    assert not vat_id_format_ok(vat_id, country)
    with pytest.raises(InvalidInput) as refused:
        check_vat_id(vat_id, country)
    assert refused.value.details == {"field": "vat_id", "country": country}


def test_check_vat_id_normalises_and_passes_none_through() -> None:
    assert check_vat_id(" de 123.456.789 ", "DE") == "DE123456789"
    assert check_vat_id("el-123456789", "GR") == "EL123456789"
    assert check_vat_id(None, "DE") is None


@pytest.mark.parametrize("country", ["SE", "DE", "GR", "US", "NO"])
def test_known_countries(country: str) -> None:
    assert check_country(country) == country


@pytest.mark.parametrize("country", ["XX", "EL", "se", "SWE", "", "UK"])
def test_unknown_countries_refused(country: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_country(country)
    assert refused.value.details == {"field": "country"}
