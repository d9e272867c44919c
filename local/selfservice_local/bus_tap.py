"""What a consumer of the bus sees, for GET /_local/events: a rule on the project's bus (source
`selfservice`) with an SQS queue as its target, both created at start, exactly as a downstream
service would subscribe. The queue is drained on each request into a bounded history."""

from __future__ import annotations

import json
import threading
from collections import deque
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from selfservice.services.outbox import SOURCE

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_sqs import SQSClient

TAP_NAME = "selfservice-local-events-tap"
HISTORY = 1000  # events kept; older ones fall off


class BusTap:
    def __init__(self, events: EventBridgeClient, sqs: SQSClient, bus_name: str) -> None:
        self._events = events
        self._sqs = sqs
        self.bus_name = bus_name
        self._queue_url: str | None = None
        self._seen: deque[dict[str, Any]] = deque(maxlen=HISTORY)
        self._received = 0
        self._lock = threading.Lock()

    def install(self) -> None:
        self._queue_url = self._sqs.create_queue(QueueName=TAP_NAME)["QueueUrl"]
        queue_arn = self._sqs.get_queue_attributes(QueueUrl=self._queue_url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        self._events.put_rule(Name=TAP_NAME, EventBusName=self.bus_name, State="ENABLED",
                              EventPattern=json.dumps({"source": [SOURCE]}),
                              Description="local run: every event of the bus, for GET /_local/events")
        self._events.put_targets(Rule=TAP_NAME, EventBusName=self.bus_name,
                                 Targets=[{"Id": "local-events", "Arn": queue_arn}])

    @property
    def received(self) -> int:
        return self._received

    def recent(self, limit: int, tenant_id: str | None = None, detail_type: str | None = None) -> list[dict[str, Any]]:
        """The last `limit` events (newest first), optionally of one tenant or one detail-type."""
        with self._lock:
            self._drain()
            found = []
            for event in reversed(self._seen):
                detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
                if tenant_id is not None and detail.get("tenant_id") != tenant_id:
                    continue
                if detail_type is not None and event.get("detail-type") != detail_type:
                    continue
                found.append(event)
                if len(found) >= limit:
                    break
            return found

    def _drain(self) -> None:
        if self._queue_url is None:
            return
        while True:
            answer = self._sqs.receive_message(QueueUrl=self._queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            messages = answer.get("Messages", [])
            if not messages:
                return
            for message in messages:
                self._seen.append(_as_delivered(json.loads(message["Body"])))
                self._received += 1
            self._sqs.delete_message_batch(QueueUrl=self._queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])


def _as_delivered(event: dict[str, Any]) -> dict[str, Any]:
    # moto passes the entry's Time on as epoch seconds; EventBridge delivers an ISO-8601 string.
    for key in ("time", "ingestion-time"):
        if isinstance(event.get(key), int | float):
            event[key] = datetime.fromtimestamp(event[key], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    event.pop("ingestion-time", None)  # moto's own field; not part of an EventBridge event
    return event
