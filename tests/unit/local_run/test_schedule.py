from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from selfservice_local.functions import Invocation
from selfservice_local.schedule import Schedule, Scheduler, rate_seconds, scheduled_event


@pytest.mark.parametrize(("expression", "seconds"), [
    ("rate(5 minutes)", 300), ("rate(1 minute)", 60), ("rate(2 hours)", 7200), ("rate(1 day)", 86400),
    ("cron(0/5 * * * ? *)", None), ("every 5 minutes", None),
])
def test_rate_expressions(expression: str, seconds: int | None) -> None:
    assert rate_seconds(expression) == seconds


def test_the_scheduled_event_is_what_eventbridge_sends() -> None:
    event = scheduled_event("selfservice-local-PeriodEnd", "eu-north-1", datetime(2026, 3, 1, tzinfo=UTC))
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    assert event["time"] == "2026-03-01T00:00:00Z"
    assert event["resources"] == ["arn:aws:events:eu-north-1:123456789012:rule/selfservice-local-PeriodEnd"]


def test_the_scheduler_invokes_every_interval_until_stopped() -> None:
    calls: list[str] = []
    reported = threading.Event()

    def invoke(function: str) -> Invocation:
        calls.append(function)
        return Invocation({"applied": 0}, 1.0, False)

    def report(_schedule: Schedule, _invocation: Invocation | None, _ms: float) -> None:
        if len(calls) >= 3:
            reported.set()

    scheduler = Scheduler([Schedule("PeriodEnd", "rate(1 minute)", 0.02)], invoke, report)
    scheduler.start()
    assert reported.wait(5)
    scheduler.stop()
    count = len(calls)
    assert count >= 3 and set(calls) == {"PeriodEnd"}
    assert len(calls) == count  # nothing runs after stop


def test_the_schedule_runs_on_the_local_clock_so_moving_it_past_the_next_run_fires_at_once() -> None:
    from selfservice_local.clock import OffsetClock

    clock = OffsetClock(lambda: datetime(2026, 3, 1, tzinfo=UTC))  # real time stands still here
    calls: list[str] = []
    fired = threading.Event()

    def invoke(function: str) -> Invocation:
        calls.append(function)
        fired.set()
        return Invocation({"processed": 0}, 1.0, False)

    scheduler = Scheduler([Schedule("PeriodEnd", "rate(5 minutes)", 300)], invoke, lambda *_: None,
                          now=clock.now, poll_seconds=0.01)
    scheduler.start()
    try:
        assert not fired.wait(0.1)  # five minutes of the local clock have not passed
        clock.advance(301)
        assert fired.wait(5)
        fired.clear()
        assert not fired.wait(0.1)  # once for the time skipped, then every five minutes again
        assert scheduler.run_now("PeriodEnd").result == {"processed": 0}  # on demand ...
        fired.clear()
        clock.advance(200)
        assert not fired.wait(0.1)  # ... and the interval starts again from then
        clock.advance(101)
        assert fired.wait(5)
    finally:
        scheduler.stop()
    assert calls == ["PeriodEnd"] * 3  # the skipped time, on demand, five minutes after that


def test_an_on_demand_run_after_the_clock_moved_past_the_due_time_runs_once() -> None:
    """Moving the local clock past a term end runs the applier on demand: the loop, which would see the
    same due time passed, must not run it a second time."""
    from selfservice_local.clock import OffsetClock

    clock = OffsetClock(lambda: datetime(2026, 3, 1, tzinfo=UTC))
    calls: list[str] = []
    running = threading.Event()
    release = threading.Event()

    def invoke(function: str) -> Invocation:
        calls.append(function)
        running.set()
        release.wait(5)  # the on-demand run takes a while: the loop looks at the clock meanwhile
        return Invocation({"processed": 0}, 1.0, False)

    # The loop looks at the clock every 50 ms: it sees the due time passed while the run is in progress.
    scheduler = Scheduler([Schedule("PeriodEnd", "rate(5 minutes)", 300)], invoke, lambda *_: None,
                          now=clock.now, poll_seconds=0.05)
    scheduler.start()
    try:
        clock.advance(3600)
        on_demand = threading.Thread(target=scheduler.run_now, args=("PeriodEnd",))
        on_demand.start()
        assert running.wait(5)
        threading.Event().wait(0.3)  # several polls of the loop while the on-demand run is in progress
        release.set()
        on_demand.join(5)
        threading.Event().wait(0.3)
    finally:
        scheduler.stop()
    assert calls == ["PeriodEnd"]
