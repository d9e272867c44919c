"""Terms (SPEC 2.3): anchored to the start day, clamped to each month's length, never drifting."""

from __future__ import annotations

from datetime import datetime

import pytest
from selfservice.domain.terms import add_months, iso, months_between, next_period_end, parse_iso, term_seconds, utc
from selfservice.services.provisioning import current_term


@pytest.mark.parametrize(
    ("anchor", "months", "expected"),
    [
        pytest.param(utc(2026, 3, 10), 1, utc(2026, 4, 10), id="plain-month"),
        pytest.param(utc(2026, 1, 31), 1, utc(2026, 2, 28), id="jan31-to-feb28"),
        pytest.param(utc(2028, 1, 31), 1, utc(2028, 2, 29), id="jan31-to-feb29-leap"),
        pytest.param(utc(2026, 1, 31), 2, utc(2026, 3, 31), id="jan31-plus-2-is-mar31"),
        pytest.param(utc(2026, 1, 30), 1, utc(2026, 2, 28), id="jan30-to-feb28"),
        pytest.param(utc(2026, 3, 31), 1, utc(2026, 4, 30), id="mar31-to-apr30"),
        pytest.param(utc(2028, 2, 29), 1, utc(2028, 3, 29), id="feb29-anchor-to-mar29"),
        pytest.param(utc(2026, 12, 15), 1, utc(2027, 1, 15), id="december-rolls-year"),
        pytest.param(utc(2026, 1, 15), 13, utc(2027, 2, 15), id="thirteen-months"),
        pytest.param(utc(2026, 1, 15), -1, utc(2025, 12, 15), id="backwards"),
        pytest.param(utc(2024, 2, 29), 12, utc(2025, 2, 28), id="annual-feb29-to-feb28"),
        pytest.param(utc(2024, 2, 29), 48, utc(2028, 2, 29), id="annual-feb29-in-4-years"),
        pytest.param(utc(2026, 1, 31, 23, 59, 58), 1, utc(2026, 2, 28, 23, 59, 58), id="keeps-time-of-day"),
    ],
)
def test_add_months_clamps_to_month_end(anchor: datetime, months: int, expected: datetime) -> None:
    assert add_months(anchor, months) == expected


@pytest.mark.parametrize(
    ("anchor", "start", "term", "end"),
    [
        pytest.param(utc(2026, 1, 31), utc(2026, 1, 31), "monthly", utc(2026, 2, 28), id="jan31-first-term"),
        # the term that started on the clamped Feb 28 still ends on the anchor day, Mar 31
        pytest.param(utc(2026, 1, 31), utc(2026, 2, 28), "monthly", utc(2026, 3, 31), id="feb28-back-to-mar31"),
        pytest.param(utc(2028, 1, 31), utc(2028, 2, 29), "monthly", utc(2028, 3, 31), id="leap-feb29-to-mar31"),
        pytest.param(utc(2026, 1, 31), utc(2026, 4, 30), "monthly", utc(2026, 5, 31), id="apr30-to-may31"),
        pytest.param(utc(2024, 2, 29), utc(2024, 2, 29), "annual", utc(2025, 2, 28), id="annual-leap-to-feb28"),
        pytest.param(utc(2024, 2, 29), utc(2025, 2, 28), "annual", utc(2026, 2, 28), id="annual-feb28-to-feb28"),
        pytest.param(utc(2024, 2, 29), utc(2027, 2, 28), "annual", utc(2028, 2, 29), id="annual-back-to-feb29"),
        pytest.param(utc(2026, 3, 1), utc(2026, 3, 1), "annual", utc(2027, 3, 1), id="annual-plain"),
    ],
)
def test_next_period_end_keeps_the_anchor(anchor: datetime, start: datetime, term: str, end: datetime) -> None:
    assert next_period_end(anchor, start, term) == end


def test_a_year_of_monthly_terms_from_jan31_never_drifts() -> None:
    anchor = utc(2026, 1, 31, 10, 30)
    ends = []
    start = anchor
    for _ in range(13):
        start = next_period_end(anchor, start, "monthly")
        ends.append(start)
    assert [(e.month, e.day) for e in ends] == [
        (2, 28), (3, 31), (4, 30), (5, 31), (6, 30), (7, 31), (8, 31), (9, 30), (10, 31), (11, 30), (12, 31),
        (1, 31), (2, 28),
    ]
    assert ends[11].year == 2027
    assert all((e.hour, e.minute) == (10, 30) for e in ends)


def test_annual_terms_from_feb29_return_to_feb29_in_leap_years() -> None:
    anchor = utc(2024, 2, 29)
    start = anchor
    ends = []
    for _ in range(8):
        start = next_period_end(anchor, start, "annual")
        ends.append(start)
    assert [(e.year, e.day) for e in ends] == [
        (2025, 28), (2026, 28), (2027, 28), (2028, 29), (2029, 28), (2030, 28), (2031, 28), (2032, 29)]


def test_months_between_ignores_the_day() -> None:
    assert months_between(utc(2026, 1, 31), utc(2026, 2, 1)) == 1
    assert months_between(utc(2026, 1, 1), utc(2027, 3, 31)) == 14
    assert months_between(utc(2026, 5, 1), utc(2026, 3, 1)) == -2


def test_term_seconds() -> None:
    assert term_seconds(utc(2026, 3, 1), utc(2026, 4, 1)) == 31 * 86_400
    assert term_seconds(utc(2026, 2, 1), utc(2026, 3, 1)) == 28 * 86_400
    assert term_seconds(utc(2028, 2, 1), utc(2028, 3, 1)) == 29 * 86_400
    assert term_seconds(utc(2026, 3, 1), utc(2027, 3, 1)) == 365 * 86_400


def test_iso_round_trip() -> None:
    assert iso(utc(2026, 3, 10, 9, 0, 5)) == "2026-03-10T09:00:05Z"
    assert parse_iso("2026-03-10T09:00:05Z") == utc(2026, 3, 10, 9, 0, 5)
    assert parse_iso("2026-03-10T11:00:05+02:00") == utc(2026, 3, 10, 9, 0, 5)
    assert parse_iso("2026-03-10T09:00:05") == utc(2026, 3, 10, 9, 0, 5)  # naive is taken as UTC


@pytest.mark.parametrize(
    ("anchor", "term", "now", "start", "end"),
    [
        pytest.param(utc(2026, 3, 1), "monthly", utc(2026, 3, 10), utc(2026, 3, 1), utc(2026, 4, 1),
                     id="monthly-first-term"),
        pytest.param(utc(2026, 3, 1), "monthly", utc(2026, 3, 1), utc(2026, 3, 1), utc(2026, 4, 1),
                     id="monthly-exactly-at-start"),
        pytest.param(utc(2025, 11, 15), "monthly", utc(2026, 3, 10), utc(2026, 2, 15), utc(2026, 3, 15),
                     id="monthly-past-start-day-not-yet-reached"),     # Mar 10 < Mar 15: still the Feb term
        pytest.param(utc(2025, 11, 15), "monthly", utc(2026, 3, 15), utc(2026, 3, 15), utc(2026, 4, 15),
                     id="monthly-past-exactly-on-boundary"),           # the new term starts at its first second
        pytest.param(utc(2025, 11, 15), "monthly", utc(2026, 3, 14, 23, 59, 59), utc(2026, 2, 15),
                     utc(2026, 3, 15), id="monthly-past-last-second"),
        pytest.param(utc(2026, 1, 31), "monthly", utc(2026, 3, 10), utc(2026, 2, 28), utc(2026, 3, 31),
                     id="monthly-jan31-anchor-clamped-start"),
        pytest.param(utc(2024, 6, 1), "annual", utc(2026, 3, 10), utc(2025, 6, 1), utc(2026, 6, 1),
                     id="annual-past"),
        pytest.param(utc(2024, 2, 29), "annual", utc(2026, 3, 10), utc(2026, 2, 28), utc(2027, 2, 28),
                     id="annual-feb29-anchor"),
        pytest.param(utc(2026, 4, 1), "monthly", utc(2026, 3, 10), utc(2026, 4, 1), utc(2026, 5, 1),
                     id="monthly-future-start"),
        pytest.param(utc(2026, 6, 30), "annual", utc(2026, 3, 10), utc(2026, 6, 30), utc(2027, 6, 30),
                     id="annual-future-start"),
    ],
)
def test_current_term(anchor: datetime, term: str, now: datetime, start: datetime, end: datetime) -> None:
    assert current_term(anchor, term, now) == (start, end)
