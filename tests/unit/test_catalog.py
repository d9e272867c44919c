"""The catalog: the shipped file loads and holds the documented plans; a malformed file never loads."""

from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

import pytest
from selfservice.domain.catalog import CatalogError, Tier, load_catalog, parse_catalog, require_plan
from selfservice.domain.errors import InvalidInput, NotFound

GRADUATED_EUR = (Tier(10, 3000), Tier(25, 2700), Tier(50, 2500), Tier(None, 2200))
VOLUME_SEK = (Tier(10, 34000), Tier(25, 31000), Tier(50, 28500), Tier(None, 25000))


def shipped() -> dict[str, Any]:
    text = resources.files("selfservice.domain").joinpath("catalog.json").read_text("utf-8")
    raw: dict[str, Any] = json.loads(text)
    return raw


def test_shipped_catalog_loads_with_seller() -> None:
    catalog = load_catalog()
    assert catalog.seller.name == "Nordlys Analytics AB"
    assert catalog.seller.vat_id.startswith("SE")
    assert set(catalog.plans) == {
        "business-monthly-eur", "business-annual-eur", "business-monthly-sek", "business-annual-sek",
        "enterprise-annual-eur",
    }


@pytest.mark.parametrize(
    ("plan_id", "edition", "currency", "term", "months", "max_seats", "mode", "tiers"),
    [
        pytest.param("business-monthly-eur", "business", "EUR", "monthly", 1, 500, "graduated", GRADUATED_EUR,
                     id="business-monthly-eur"),
        pytest.param("business-annual-eur", "business", "EUR", "annual", 12, 500, "graduated", GRADUATED_EUR,
                     id="business-annual-eur"),
        pytest.param("business-monthly-sek", "business", "SEK", "monthly", 1, 500, "volume", VOLUME_SEK,
                     id="business-monthly-sek"),
        pytest.param("business-annual-sek", "business", "SEK", "annual", 12, 500, "volume", VOLUME_SEK,
                     id="business-annual-sek"),
        pytest.param("enterprise-annual-eur", "enterprise", "EUR", "annual", 12, 10000, "graduated",
                     (Tier(100, 4000), Tier(500, 3500), Tier(None, 3000)), id="enterprise-annual-eur"),
    ],
)
def test_shipped_plans(plan_id: str, edition: str, currency: str, term: str, months: int, max_seats: int,
                       mode: str, tiers: tuple[Tier, ...]) -> None:
    p = load_catalog().plan(plan_id)
    assert (p.id, p.edition, p.currency, p.term, p.months, p.max_seats, p.tiers_mode) == (
        plan_id, edition, currency, term, months, max_seats, mode)
    assert p.tiers == tiers


def test_unknown_plan_is_not_found_in_catalog_and_invalid_input_as_a_request() -> None:
    with pytest.raises(NotFound) as not_found:
        load_catalog().plan("gold")
    assert not_found.value.details == {"plan_id": "gold"}
    with pytest.raises(InvalidInput):
        require_plan("gold")
    assert require_plan("business-monthly-eur").id == "business-monthly-eur"


def test_parse_catalog_accepts_the_shipped_file() -> None:
    assert parse_catalog(shipped()).plans == load_catalog().plans


def _plan0(raw: dict[str, Any]) -> dict[str, Any]:
    plan: dict[str, Any] = raw["plans"][0]
    return plan


def _set(path: tuple[Any, ...], value: Any) -> Any:
    def mutate(raw: dict[str, Any]) -> None:
        target: Any = raw
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return mutate


def _delete(path: tuple[Any, ...]) -> Any:
    def mutate(raw: dict[str, Any]) -> None:
        target: Any = raw
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return mutate


def _append_duplicate(raw: dict[str, Any]) -> None:
    raw["plans"].append(copy.deepcopy(raw["plans"][1]) | {"id": raw["plans"][0]["id"]})


P0 = ("plans", 0)
T = (*P0, "tiers")

BAD_FILES = [
    pytest.param(_set(("extra",), 1), id="unknown-top-level-field"),
    pytest.param(_delete(("seller",)), id="missing-seller"),
    pytest.param(_delete(("seller", "vat_id")), id="seller-missing-field"),
    pytest.param(_set(("seller", "name"), 5), id="seller-name-not-a-string"),
    pytest.param(_set(("seller", "address"), "Sveavägen 44"), id="seller-address-not-a-list"),
    pytest.param(_set(("plans",), []), id="no-plans"),
    pytest.param(_set(("plans",), {}), id="plans-not-a-list"),
    pytest.param(_set(P0, 5), id="plan-not-an-object"),
    pytest.param(_set((*P0, "colour"), "blue"), id="unknown-plan-field"),
    pytest.param(_delete((*P0, "max_seats")), id="missing-plan-field"),
    pytest.param(_set((*P0, "id"), ""), id="empty-id"),
    pytest.param(_set((*P0, "id"), 7), id="id-not-a-string"),
    pytest.param(_set((*P0, "name"), 5), id="name-not-a-string"),
    pytest.param(_set((*P0, "name"), " "), id="name-blank"),
    pytest.param(_append_duplicate, id="duplicate-plan-id"),
    pytest.param(_set((*P0, "edition"), "premium"), id="unknown-edition"),
    pytest.param(_set((*P0, "currency"), "XBT"), id="unknown-currency"),
    pytest.param(_set((*P0, "currency"), "eur"), id="lower-case-currency"),
    pytest.param(_set((*P0, "term"), "weekly"), id="unknown-term"),
    pytest.param(_set((*P0, "tiers_mode"), "stairstep"), id="unknown-tiers-mode"),
    pytest.param(_set((*P0, "max_seats"), 0), id="max-seats-zero"),
    pytest.param(_set((*P0, "max_seats"), 500.0), id="max-seats-float"),
    pytest.param(_set((*P0, "max_seats"), True), id="max-seats-bool"),
    pytest.param(_set((*P0, "max_seats"), "500"), id="max-seats-string"),
    pytest.param(_set(T, []), id="no-tiers"),
    pytest.param(_set(T, {"up_to": None, "unit_amount": 1}), id="tiers-not-a-list"),
    pytest.param(_set((*T, 0), 3000), id="tier-not-an-object"),
    pytest.param(_set((*T, 0, "unit_amount"), 30.0), id="float-amount"),
    pytest.param(_set((*T, 0, "unit_amount"), 29.99), id="fractional-amount"),
    pytest.param(_set((*T, 0, "unit_amount"), True), id="bool-amount"),
    pytest.param(_set((*T, 0, "unit_amount"), "3000"), id="string-amount"),
    pytest.param(_set((*T, 0, "unit_amount"), -1), id="negative-amount"),
    pytest.param(_set((*T, 0, "extra"), 1), id="unknown-tier-field"),
    pytest.param(_delete((*T, 0, "up_to")), id="missing-up-to"),
    pytest.param(_set((*T, 1, "up_to"), 10), id="non-increasing-tiers-equal"),     # 10, 10
    pytest.param(_set((*T, 1, "up_to"), 9), id="decreasing-tiers"),                # 10, 9
    pytest.param(_set((*T, 0, "up_to"), 0), id="first-tier-up-to-zero"),
    pytest.param(_set((*T, 0, "up_to"), 10.0), id="float-up-to"),
    pytest.param(_set((*T, 0, "up_to"), True), id="bool-up-to"),
    pytest.param(_set((*T, 1, "up_to"), None), id="null-before-last-tier"),
    pytest.param(_set((*T, 3, "up_to"), 100), id="last-tier-not-null"),
]


@pytest.mark.parametrize("mutate", BAD_FILES)
def test_malformed_catalog_is_refused_at_load(mutate: Any) -> None:
    raw = shipped()
    mutate(raw)
    with pytest.raises(CatalogError):
        parse_catalog(raw)


def test_single_open_tier_is_valid() -> None:
    raw = shipped()
    _plan0(raw)["tiers"] = [{"up_to": None, "unit_amount": 1000}]
    assert parse_catalog(raw).plans["business-monthly-eur"].tiers == (Tier(None, 1000),)
