"""EventBridge schedules of the template's functions (the period-end applier), run in the local run:
`rate(...)` expressions on a background thread, and any scheduled function on demand through
POST /_local/period-end/run. Cron expressions run on demand only.

The rates run on the local clock (the test clock every handler sees), not on real time: moving the
clock forward past a schedule's next run fires it at once, as the cloud would have fired it somewhere
in the time skipped (once, not once per missed interval: the applier catches up in one run)."""

from __future__ import annotations

import re
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from selfservice_local.functions import Invocation
from selfservice_local.gateway import ACCOUNT_ID

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> int | None:
    """The interval of a `rate(...)` schedule expression; None for cron() and anything else."""
    match = _RATE.match(expression.strip())
    if not match:
        return None
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]


def scheduled_event(rule_name: str, region: str, at: datetime) -> dict[str, Any]:
    """What EventBridge Scheduler/rules send a Lambda target."""
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
        "account": ACCOUNT_ID, "time": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "region": region,
        "resources": [f"arn:aws:events:{region}:{ACCOUNT_ID}:rule/{rule_name}"], "detail": {},
    }


@dataclass(frozen=True, slots=True)
class Schedule:
    function: str  # logical id
    expression: str
    interval_seconds: float


class Scheduler:
    """Invokes each rate schedule's function every interval of the clock `now` (first run one interval
    after start), until stopped. `invoke` runs the function; `report` writes the terminal line. The
    clock is looked at every `poll_seconds` of real time at most, so a jump of the local clock is seen
    within that; `run_now` runs a schedule's function at once and starts its interval again."""

    def __init__(self, schedules: list[Schedule], invoke: Callable[[str], Invocation],
                 report: Callable[[Schedule, Invocation | None, float], None],
                 now: Callable[[], datetime] = lambda: datetime.now(UTC), poll_seconds: float = 1.0) -> None:
        self.schedules = schedules
        self._invoke = invoke
        self._report = report
        self._now = now
        self._poll = poll_seconds
        self._due: dict[Schedule, datetime] = {}
        self._due_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if not self.schedules:
            return
        self._thread = threading.Thread(target=self._loop, name="local-schedules", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def run_now(self, function: str) -> Invocation:
        """Invoke `function` now, outside the loop (the caller reports it); its schedules' intervals
        start again from now, before the run (a clock just moved past their due time would otherwise
        have the loop run it too) and after it, so the loop does not run it a second time right after."""
        self._restart_intervals(function)
        try:
            return self._invoke(function)
        finally:
            self._restart_intervals(function)

    def _restart_intervals(self, function: str) -> None:
        with self._due_lock:
            for schedule in self.schedules:
                if schedule.function == function and schedule in self._due:
                    self._due[schedule] = self._now() + timedelta(seconds=schedule.interval_seconds)

    def _loop(self) -> None:
        started = self._now()
        with self._due_lock:
            self._due = {s: started + timedelta(seconds=s.interval_seconds) for s in self.schedules}
        while not self._stop.is_set():
            with self._due_lock:
                schedule = min(self._due, key=lambda s: self._due[s])
                wait = (self._due[schedule] - self._now()).total_seconds()
            if wait > 0:
                if self._stop.wait(min(wait, self._poll)):
                    return
                continue  # look at the clock again: it may have been moved meanwhile
            began = time.perf_counter()
            try:
                invocation: Invocation | None = self._invoke(schedule.function)
            except Exception:
                traceback.print_exc(file=sys.stderr)
                invocation = None
            self._report(schedule, invocation, (time.perf_counter() - began) * 1000)
            with self._due_lock:
                self._due[schedule] = self._now() + timedelta(seconds=schedule.interval_seconds)
