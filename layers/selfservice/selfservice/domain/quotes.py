"""Quotes (SPEC 2.2): the price of a proposed change, computed exactly as the change itself would
charge it. Free to ask for; they change nothing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from selfservice.domain.catalog import Plan, TierLine
from selfservice.domain.model import BillingInfo, ChargeLine, Subscription, User
from selfservice.domain.money import percent_of, round_half_up
from selfservice.domain.subscriptions import check_increase, check_reduction, check_renewal, renewal_period
from selfservice.domain.tax import TaxTreatment, tax_treatment
from selfservice.domain.terms import term_seconds
from selfservice.domain.wording import SEAT_REDUCTION, Wording

ChangeKind = Literal["renewal", "increase", "reduction"]


# An invoice line; a quote's lines become the invoice's lines unchanged.
Line = ChargeLine


@dataclass(frozen=True, slots=True)
class Quote:
    change: ChangeKind
    seats: int
    currency: str
    monthly_amount: int
    tiers: tuple[TierLine, ...]
    lines: tuple[Line, ...]
    amount_due: int
    tax: TaxTreatment
    tax_amount: int
    total: int
    effective_at: datetime
    period_start: datetime | None
    period_end: datetime | None
    acknowledgement: Wording | None


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def term_lines(plan: Plan, seats: int, start: datetime, end: datetime) -> list[Line]:
    """One invoice line per price tier: quantity seats x (unit per month x months in the term)."""
    lines = []
    for tier in plan.monthly_breakdown(seats):
        unit = tier.unit_amount * plan.months
        lines.append(Line(
            f"{plan.name}: seats {tier.first_seat}-{tier.last_seat}, {_day(start)} to {_day(end)}",
            tier.seats, unit, tier.seats * unit, start, end,
        ))
    return lines


def remaining_seconds(now: datetime, period_start: datetime, period_end: datetime) -> int:
    """Seconds of the term still to come: never negative after it ends, never more than the whole term
    before it starts (a subscription provisioned to start in the future)."""
    return min(max(0, term_seconds(now, period_end)), term_seconds(period_start, period_end))


def prorated_amount(plan: Plan, old_seats: int, new_seats: int, now: datetime,
                    period_start: datetime, period_end: datetime) -> int:
    """(term_amount(new) - term_amount(old)) x remaining_seconds / term_seconds, rounded half-up once.
    Under volume pricing more seats can cost less (26 seats in a cheaper tier than 25): adding seats
    is then free, never a credit."""
    difference = max(0, plan.term_amount(new_seats) - plan.term_amount(old_seats))
    remaining = remaining_seconds(now, period_start, period_end)
    return round_half_up(difference * remaining, term_seconds(period_start, period_end))


def _priced(change: ChangeKind, plan: Plan, seats: int, lines: list[Line], billing: BillingInfo | None,
            effective_at: datetime, period: tuple[datetime, datetime] | None,
            wording: Wording | None) -> Quote:
    treatment = tax_treatment(billing.country if billing else None, billing.vat_id if billing else None)
    subtotal = sum(line.amount for line in lines)
    tax = percent_of(subtotal, treatment.rate_bp)
    return Quote(
        change, seats, plan.currency, plan.monthly_amount(seats), tuple(plan.monthly_breakdown(seats)),
        tuple(lines), subtotal, treatment, tax, subtotal + tax, effective_at,
        period[0] if period else None, period[1] if period else None, wording,
    )


def quote_renewal(sub: Subscription, plan: Plan, seats: int, users: Iterable[User], billing: BillingInfo | None,
                  now: datetime) -> Quote:
    check_renewal(sub, plan, seats, users, now)
    _anchor, start, end = renewal_period(sub, now)
    return _priced("renewal", plan, seats, term_lines(plan, seats, start, end), billing, start, (start, end), None)


def increase_lines(sub: Subscription, plan: Plan, seats: int, now: datetime) -> list[Line]:
    added = seats - sub.seats
    start, end = sub.current_period_start, sub.current_period_end
    remaining_days = round_half_up(remaining_seconds(now, start, end), 86_400)
    prorated = prorated_amount(plan, sub.seats, seats, now, start, end)
    lines = [Line(
        f"{plan.name}: {added} added seats ({sub.seats} to {seats}), prorated for the remaining "
        f"{remaining_days} of {round_half_up(term_seconds(start, end), 86_400)} days, to {_day(end)}",
        1, prorated, prorated, max(now, start), end,
    )]
    if sub.renewal is not None:
        renewal = sub.renewal
        next_seats = renewal.seats + added
        difference = max(0, plan.term_amount(next_seats) - plan.term_amount(renewal.seats))
        lines.append(Line(
            f"{plan.name}: {added} added seats ({renewal.seats} to {next_seats}) for the prepaid period "
            f"{_day(renewal.period_start)} to {_day(renewal.period_end)}",
            1, difference, difference, renewal.period_start, renewal.period_end,
        ))
    return lines


def quote_increase(sub: Subscription, plan: Plan, seats: int, billing: BillingInfo | None, now: datetime) -> Quote:
    check_increase(sub, plan, seats, now)
    return _priced("increase", plan, seats, increase_lines(sub, plan, seats, now), billing, now,
                   (sub.current_period_start, sub.current_period_end), None)


def quote_reduction(sub: Subscription, plan: Plan, seats: int, users: Iterable[User],
                    billing: BillingInfo | None, now: datetime) -> Quote:
    """Nothing is due now; the new monthly cost applies from the next term."""
    check_reduction(sub, plan, seats, users, now)
    return _priced("reduction", plan, seats, [], billing, sub.current_period_end, None, SEAT_REDUCTION)
