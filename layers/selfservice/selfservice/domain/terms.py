"""Term arithmetic. Terms are anchored to the day of the subscription's first start, clamped to each
month's length: an anchor of Jan 31 gives Feb 28 (or 29), then Mar 31 again, never a drift to the 28th."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

from selfservice.domain.catalog import MONTHS_IN_TERM


def add_months(anchor: datetime, months: int) -> datetime:
    """`anchor` moved by `months`, its day clamped to the target month's length."""
    index = anchor.year * 12 + (anchor.month - 1) + months
    year, month0 = divmod(index, 12)
    day = min(anchor.day, calendar.monthrange(year, month0 + 1)[1])
    return anchor.replace(year=year, month=month0 + 1, day=day)


def months_between(anchor: datetime, moment: datetime) -> int:
    """Whole calendar months from anchor's month to moment's month (day ignored)."""
    return (moment.year - anchor.year) * 12 + (moment.month - anchor.month)


def next_period_end(anchor: datetime, period_start: datetime, term: str) -> datetime:
    """The end of the term that starts at `period_start`, keeping the anchor's day."""
    return add_months(anchor, months_between(anchor, period_start) + MONTHS_IN_TERM[term])


def term_seconds(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds())


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def iso(moment: datetime) -> str:
    """ISO-8601 in UTC with a Z, seconds precision when there are no microseconds."""
    text = moment.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
