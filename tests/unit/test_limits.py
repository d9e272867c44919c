"""The charging limit (services/limits.py) on the in-memory counter: ten attempts per subscription and
clock hour, the eleventh refused with the time the window ends."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest
from selfservice.adapters.attempt_counters import MemoryAttemptCounter
from selfservice.adapters.clock import ManualClock
from selfservice.adapters.memory import InMemoryRepository
from selfservice.domain.catalog import load_catalog
from selfservice.domain.errors import RateLimited
from selfservice.services import Deps
from selfservice.services.limits import CHARGE_ATTEMPTS_PER_HOUR, count_charge_attempt, hour_window

START = datetime(2026, 3, 10, 12, 59, 30, tzinfo=UTC)


@pytest.fixture
def deps() -> Deps:
    return Deps(repo=InMemoryRepository(), clock=ManualClock(START), catalog=load_catalog(),
                attempts=MemoryAttemptCounter())


def test_the_window_is_the_clock_hour() -> None:
    assert hour_window(START) == (datetime(2026, 3, 10, 12, tzinfo=UTC), datetime(2026, 3, 10, 13, tzinfo=UTC))


def test_ten_attempts_pass_and_the_eleventh_says_when_to_retry(deps: Deps) -> None:
    for _ in range(CHARGE_ATTEMPTS_PER_HOUR):
        count_charge_attempt(deps, "ten_a", "sub_a")

    with pytest.raises(RateLimited) as refused:
        count_charge_attempt(deps, "ten_a", "sub_a")

    assert refused.value.code == "rate_limited"
    assert refused.value.details["retry_after"] == "2026-03-10T13:00:00Z"
    assert refused.value.details["retry_after_seconds"] == 30
    count_charge_attempt(deps, "ten_a", "sub_b")  # another subscription has its own count
    count_charge_attempt(deps, "ten_b", "sub_a")  # and another tenant
    assert isinstance(deps.clock, ManualClock)
    deps.clock.advance(30)  # 13:00: a new window
    count_charge_attempt(deps, "ten_a", "sub_a")


def test_a_refused_attempt_is_not_counted(deps: Deps) -> None:
    counter = deps.attempts
    assert isinstance(counter, MemoryAttemptCounter)
    for _ in range(CHARGE_ATTEMPTS_PER_HOUR + 5):
        with contextlib.suppress(RateLimited):
            count_charge_attempt(deps, "ten_a", "sub_a")

    assert counter.counted("ten_a", "charge#sub_a", hour_window(START)[0]) == CHARGE_ATTEMPTS_PER_HOUR


def test_without_a_counter_nothing_is_limited() -> None:
    unlimited = Deps(repo=InMemoryRepository(), clock=ManualClock(START), catalog=load_catalog())
    for _ in range(3 * CHARGE_ATTEMPTS_PER_HOUR):
        count_charge_attempt(unlimited, "ten_a", "sub_a")
