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
