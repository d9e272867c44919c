"""The local run's test clock: real time plus an offset that only grows. It keeps ticking (so a removed
user's licence frees itself after two minutes of real waiting, as in the cloud) and /_local/clock
moves it forward (to see the same without waiting, or to reach a term end)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

MAX_ADVANCE = timedelta(days=5 * 366)


class ClockError(ValueError):
    pass


class OffsetClock:
    def __init__(self, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._real_now = now
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._real_now() + self._offset

    @property
    def offset(self) -> timedelta:
        with self._lock:
            return self._offset

    def advance(self, seconds: float) -> datetime:
        delta = timedelta(seconds=seconds)
        if delta < timedelta(0):
            raise ClockError("The clock only moves forward.")
        if delta > MAX_ADVANCE:
            raise ClockError("Advance the clock by at most five years at a time.")
        with self._lock:
            self._offset += delta
            return self._real_now() + self._offset

    def set(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            raise ClockError("Give the time with its UTC offset, e.g. 2026-03-01T00:00:00Z.")
        with self._lock:
            real = self._real_now()
            target = moment.astimezone(UTC) - real
            if target < self._offset:
                raise ClockError("The clock only moves forward.")
            if target - self._offset > MAX_ADVANCE:
                raise ClockError("Advance the clock by at most five years at a time.")
            self._offset = target
            return real + self._offset
