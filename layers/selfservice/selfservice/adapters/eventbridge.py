"""The project's EventBridge bus: the `EventPublisher` port over PutEvents."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from selfservice.ports import BusEntry, FailedEntry

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef

MAX_ENTRIES = 10  # PutEvents' limit per call


class EventBridgePublisher:
    def __init__(self, client: EventBridgeClient, bus_name: str) -> None:
        self._client = client
        self.bus_name = bus_name

    def publish(self, entries: Sequence[BusEntry]) -> list[FailedEntry]:
        if not entries:
            return []
        if len(entries) > MAX_ENTRIES:
            raise ValueError(f"PutEvents takes at most {MAX_ENTRIES} entries, not {len(entries)}")
        request: list[PutEventsRequestEntryTypeDef] = [
            {"Source": e.source, "DetailType": e.detail_type, "Detail": e.detail, "Time": e.time,
             "EventBusName": self.bus_name, "Resources": []}
            for e in entries
        ]
        try:
            # botocore's standard retry mode has already retried throttling and 5xx by the time this fails.
            response = self._client.put_events(Entries=request)
        except ClientError as error:
            details = error.response.get("Error", {})
            code, message = details.get("Code", "ClientError"), details.get("Message", str(error))
            return [FailedEntry(e, code, message) for e in entries]
        except BotoCoreError as error:  # no answer at all: connection, timeout ...
            return [FailedEntry(e, type(error).__name__, str(error)) for e in entries]
        if not response.get("FailedEntryCount"):
            return []
        # The result entries are in the order of the request: each has an EventId or an ErrorCode. An
        # entry without a result (never seen) counts as failed: at-least-once, never silently lost.
        results = list(response.get("Entries", []))
        failed = []
        for index, entry in enumerate(entries):
            result = results[index] if index < len(results) else {"ErrorCode": "MissingResult"}
            if result.get("ErrorCode") or not result.get("EventId"):
                failed.append(FailedEntry(entry, result.get("ErrorCode") or "MissingResult",
                                          result.get("ErrorMessage", "")))
        return failed
