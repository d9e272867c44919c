from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from selfservice_local.clock import ClockError, OffsetClock

REAL = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def test_the_offset_clock_moves_forward_only() -> None:
    real = [REAL]
    clock = OffsetClock(lambda: real[0])
    assert clock.now() == REAL
    clock.advance(121)
    assert clock.now() == REAL + timedelta(seconds=121)
    real[0] += timedelta(seconds=10)  # and keeps ticking with real time
    assert clock.now() == REAL + timedelta(seconds=131)
    assert clock.set(datetime(2026, 3, 1, tzinfo=UTC)) == datetime(2026, 3, 1, tzinfo=UTC)
    assert clock.now() == datetime(2026, 3, 1, tzinfo=UTC)
    with pytest.raises(ClockError, match="forward"):
        clock.advance(-1)
    with pytest.raises(ClockError, match="forward"):
        clock.set(datetime(2026, 2, 1, tzinfo=UTC))
    with pytest.raises(ClockError, match="UTC offset"):
        clock.set(datetime(2027, 1, 1))
    with pytest.raises(ClockError, match="five years"):
        clock.advance(6 * 366 * 86400)
