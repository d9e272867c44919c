"""The plan catalog: a data file (catalog.json) validated once at load, and the pricing rules.

graduated: each seat is priced by the tier it falls in (seats 1-10 at tier 1, 11-25 at tier 2 ...).
volume:    every seat is priced at the tier that the total falls in.
Amounts are per seat per month in minor units; a term amount is the monthly cost x months in the term.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

from selfservice.domain.errors import InvalidInput, InvalidSeatCount, NotFound, SeatLimitExceeded
from selfservice.domain.money import CURRENCY_EXPONENTS

Edition = Literal["business", "enterprise"]
Term = Literal["monthly", "annual"]
TiersMode = Literal["graduated", "volume"]

MONTHS_IN_TERM: dict[str, int] = {"monthly": 1, "annual": 12}


@dataclass(frozen=True, slots=True)
class Tier:
    up_to: int | None
    unit_amount: int


@dataclass(frozen=True, slots=True)
class TierLine:
    """One row of a price breakdown: seats first_seat..last_seat at unit_amount per month."""

    first_seat: int
    last_seat: int
    seats: int
    unit_amount: int
    amount: int


@dataclass(frozen=True, slots=True)
class Plan:
    id: str
    name: str
    edition: Edition
    currency: str
    term: Term
    max_seats: int
    tiers_mode: TiersMode
    tiers: tuple[Tier, ...]

    @property
    def months(self) -> int:
        return MONTHS_IN_TERM[self.term]

    def check_seats(self, seats: int) -> None:
        if seats < 1:
            raise InvalidSeatCount("A subscription has at least one seat.", seats=seats, minimum=1)
        if seats > self.max_seats:
            raise SeatLimitExceeded(
                f"The plan allows at most {self.max_seats} seats.", seats=seats, max_seats=self.max_seats
            )

    def monthly_breakdown(self, seats: int) -> list[TierLine]:
        self.check_seats(seats)
        if self.tiers_mode == "volume":
            tier = next(t for t in self.tiers if t.up_to is None or seats <= t.up_to)
            return [TierLine(1, seats, seats, tier.unit_amount, seats * tier.unit_amount)]
        lines: list[TierLine] = []
        first = 1
        for tier in self.tiers:
            last = seats if tier.up_to is None else min(seats, tier.up_to)
            if last >= first:
                count = last - first + 1
                lines.append(TierLine(first, last, count, tier.unit_amount, count * tier.unit_amount))
                first = last + 1
            if first > seats:
                break
        return lines

    def monthly_amount(self, seats: int) -> int:
        return sum(line.amount for line in self.monthly_breakdown(seats))

    def term_amount(self, seats: int) -> int:
        return self.monthly_amount(seats) * self.months


@dataclass(frozen=True, slots=True)
class Seller:
    name: str
    address: tuple[str, ...]
    vat_id: str
    email: str


@dataclass(frozen=True, slots=True)
class Catalog:
    seller: Seller
    plans: dict[str, Plan]

    def plan(self, plan_id: str) -> Plan:
        try:
            return self.plans[plan_id]
        except KeyError:
            raise NotFound(f"Unknown plan {plan_id!r}.", plan_id=plan_id) from None


class CatalogError(ValueError):
    """The catalog file is malformed: raised at load, so a bad file never serves a price."""


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise CatalogError(message)


def _is_text(value: object) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _parse_plan(raw: dict[str, Any]) -> Plan:
    keys = {"id", "name", "edition", "currency", "term", "max_seats", "tiers_mode", "tiers"}
    _require(isinstance(raw, dict), "each plan is an object")
    _require(set(raw) == keys, f"plan fields must be exactly {sorted(keys)}: {sorted(raw)}")
    pid = raw["id"]
    _require(isinstance(pid, str) and pid != "", "plan id must be a non-empty string")
    _require(_is_text(raw["name"]), f"{pid}: name must be a non-empty string")
    _require(raw["edition"] in ("business", "enterprise"), f"{pid}: bad edition")
    _require(raw["currency"] in CURRENCY_EXPONENTS, f"{pid}: unsupported currency")
    _require(raw["term"] in MONTHS_IN_TERM, f"{pid}: term must be monthly or annual")
    _require(raw["tiers_mode"] in ("graduated", "volume"), f"{pid}: bad tiers_mode")
    max_seats = raw["max_seats"]
    _require(isinstance(max_seats, int) and not isinstance(max_seats, bool) and max_seats >= 1,
             f"{pid}: max_seats must be a positive integer")
    tiers_raw = raw["tiers"]
    _require(isinstance(tiers_raw, list) and len(tiers_raw) >= 1, f"{pid}: at least one tier")
    tiers: list[Tier] = []
    previous = 0
    for index, tier in enumerate(tiers_raw):
        _require(isinstance(tier, dict), f"{pid}: each tier is an object")
        _require(set(tier) == {"up_to", "unit_amount"}, f"{pid}: tier fields are up_to and unit_amount")
        up_to, unit = tier["up_to"], tier["unit_amount"]
        _require(isinstance(unit, int) and not isinstance(unit, bool) and unit >= 0,
                 f"{pid}: unit_amount must be a non-negative integer (minor units)")
        last = index == len(tiers_raw) - 1
        if last:
            _require(up_to is None, f"{pid}: the last tier must have up_to null")
        else:
            _require(isinstance(up_to, int) and not isinstance(up_to, bool) and up_to > previous,
                     f"{pid}: tier bounds must increase")
            previous = up_to
        tiers.append(Tier(up_to, unit))
    return Plan(pid, raw["name"], raw["edition"], raw["currency"], raw["term"], max_seats,
                raw["tiers_mode"], tuple(tiers))


def parse_catalog(raw: dict[str, Any]) -> Catalog:
    _require(isinstance(raw, dict) and set(raw) == {"seller", "plans"}, "catalog has seller and plans")
    seller = raw["seller"]
    _require(isinstance(seller, dict) and set(seller) == {"name", "address", "vat_id", "email"},
             "seller fields are name, address, vat_id and email")
    _require(all(_is_text(seller[key]) for key in ("name", "vat_id", "email")),
             "seller name, vat_id and email are non-empty strings")
    _require(isinstance(seller["address"], list) and len(seller["address"]) >= 1
             and all(_is_text(line) for line in seller["address"]), "seller address is a list of lines")
    _require(isinstance(raw["plans"], list) and len(raw["plans"]) >= 1, "plans is a non-empty list")
    plans: dict[str, Plan] = {}
    for raw_plan in raw["plans"]:
        plan = _parse_plan(raw_plan)
        _require(plan.id not in plans, f"duplicate plan id {plan.id}")
        plans[plan.id] = plan
    return Catalog(
        Seller(seller["name"], tuple(seller["address"]), seller["vat_id"], seller["email"]), plans
    )


@cache
def load_catalog() -> Catalog:
    text = resources.files("selfservice.domain").joinpath("catalog.json").read_text("utf-8")
    return parse_catalog(json.loads(text))


def require_plan(plan_id: str) -> Plan:
    try:
        return load_catalog().plan(plan_id)
    except NotFound:
        raise InvalidInput(f"Unknown plan {plan_id!r}.", plan_id=plan_id) from None
