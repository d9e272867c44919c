"""EventBridge schedules of the template's functions (the period-end applier), run in the local run:
`rate(...)` expressions on a background thread, and any scheduled function on demand through
POST /_local/period-end/run. Cron expressions run on demand only."""

from __future__ import annotations

import re
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
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
    """Invokes each rate schedule's function every interval (first run one interval after start),
    until stopped. `invoke` runs the function; `report` writes the terminal line."""

    def __init__(self, schedules: list[Schedule], invoke: Callable[[str], Invocation],
                 report: Callable[[Schedule, Invocation | None, float], None]) -> None:
        self.schedules = schedules
        self._invoke = invoke
        self._report = report
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

    def _loop(self) -> None:
        started = time.monotonic()
        due = {s: started + s.interval_seconds for s in self.schedules}
        while not self._stop.is_set():
            schedule = min(due, key=lambda s: due[s])
            if self._stop.wait(max(0.0, due[schedule] - time.monotonic())):
                return
            began = time.perf_counter()
            try:
                invocation: Invocation | None = self._invoke(schedule.function)
            except Exception:
                traceback.print_exc(file=sys.stderr)
                invocation = None
            self._report(schedule, invocation, (time.perf_counter() - began) * 1000)
            due[schedule] = time.monotonic() + schedule.interval_seconds
