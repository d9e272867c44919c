"""The table's DynamoDB stream, as Lambda delivers it, read into the outbox publisher's records.

A stream record (`Records[]` of the event) carries the item in the low-level attribute-value format
(`{"S": ...}`, `{"N": "5"}`) that dynamo_items translates, so the audit record reads back exactly as
the activity history reads it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from selfservice.adapters.dynamo_items import event_from_item
from selfservice.services.outbox import OutboxRecord


class MalformedBatch(ValueError):
    """A record without a sequence number cannot be reported on its own: the whole batch fails (and
    Lambda retries it, bisects it, and finally sends it to the on-failure destination)."""


def outbox_records(records: Sequence[Mapping[str, Any]]) -> list[OutboxRecord]:
    return [outbox_record(record) for record in records]


def outbox_record(record: Mapping[str, Any]) -> OutboxRecord:
    change = record.get("dynamodb")
    change = change if isinstance(change, Mapping) else {}
    sequence = change.get("SequenceNumber")
    if not isinstance(sequence, str) or not sequence:
        raise MalformedBatch(f"a stream record without a sequence number (eventID {record.get('eventID')!r})")
    image = change.get("NewImage")
    if record.get("eventName") != "INSERT" or not isinstance(image, Mapping) or _text(image, "entity") != "audit":
        return OutboxRecord(sequence, None)  # not an outbox record: the event source filter keeps these away
    try:
        event = event_from_item(image)
    except (KeyError, TypeError, ValueError, AttributeError) as problem:
        return OutboxRecord(sequence, None, f"unreadable audit record: {type(problem).__name__}: {problem}",
                            _text(image, "id"), _text(image, "tenant_id"))
    return OutboxRecord(sequence, event)


def _text(image: Mapping[str, Any], name: str) -> str | None:
    value = image.get(name)
    found = value.get("S") if isinstance(value, Mapping) else None
    return found if isinstance(found, str) else None
