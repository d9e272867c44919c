"""The outbox publisher: audit records, as the table's stream delivers them, become events on the bus.

Every change commits its audit record in the same transaction (the outbox); the stream hands each new
record to the publisher, which puts it on EventBridge. The contract consumers rely on (source,
detail-types, the detail schema, delivery semantics) is docs/events.md; change it only by adding.

Records in, events out: the bus is the `EventPublisher` port, the time budget and the pause between
retries are injected, so the rules below are tested without AWS and without waiting.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from selfservice.domain.model import AuditEvent
from selfservice.domain.terms import iso
from selfservice.domain.wording import ALL_WORDINGS
from selfservice.ports import BusEntry, EventPublisher, FailedEntry

SOURCE = "selfservice"  # the `source` of every event this project puts on its bus
SCHEMA_VERSION = 1  # detail.schema_version: bumped only for a change that is not an addition
MAX_ENTRIES_PER_REQUEST = 10  # PutEvents takes at most 10 entries ...
MAX_REQUEST_BYTES = 256 * 1024  # ... of at most 256 KB together (and so each entry too)

# Failure reasons, as logged and documented (docs/events.md).
MALFORMED = "malformed_record"  # an audit record the publisher cannot read: a bug to look at, never skipped
OVERSIZED = "oversized_event"  # the event is larger than EventBridge takes: it cannot succeed as it is
NOT_ACCEPTED = "not_accepted"  # EventBridge refused or failed the entry, after the retries

_WORDING_TEXT = {wording.version: wording.text for wording in ALL_WORDINGS.values()}


class MalformedRecord(ValueError):
    """A stream record with an audit record in it that cannot be turned into an event."""


# --- one record ------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class OutboxRecord:
    """One stream record as the publisher needs it (read by adapters.dynamo_stream): its position in the
    stream, and the audit record it carries. `event` None and `problem` None: the record carries no
    audit record (the event source filter keeps those away). `problem`: it carries one that cannot be
    read; `event_id` and `tenant_id` say what they can, for the log."""

    sequence_number: str
    event: AuditEvent | None
    problem: str | None = None
    event_id: str | None = None
    tenant_id: str | None = None


def detail_of(event: AuditEvent) -> dict[str, Any]:
    """The `detail` of the event (docs/events.md, schema_version 1)."""
    ack = event.acknowledgement
    return {
        "schema_version": SCHEMA_VERSION,
        "id": event.id,
        "type": event.type,
        "tenant_id": event.tenant_id,
        "subject_id": event.subject_id,
        "actor": event.actor,
        "occurred_at": iso(event.at),
        "before": event.before,
        "after": event.after,
        "acknowledgement": None if ack is None else {
            "version": ack.wording_version,
            "text": _WORDING_TEXT.get(ack.wording_version),
            "accepted_by": ack.accepted_by,
            "accepted_at": iso(ack.accepted_at),
        },
        "data": event.data,
    }


def bus_entry(event: AuditEvent) -> BusEntry:
    """detail-type = the audit type, unchanged ("subscription.reduction_scheduled"): one name in the
    activity history, the detail and the consumers' rules. The event's time is when the change happened."""
    if not event.type:
        raise MalformedRecord("the audit record has no type")
    try:
        detail = json.dumps(detail_of(event), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as problem:
        raise MalformedRecord(f"the audit record does not make a JSON detail: {problem}") from problem
    return BusEntry(event_id=event.id, source=SOURCE, detail_type=event.type, detail=detail, time=event.at)


def batches(entries: Sequence[BusEntry]) -> Iterator[list[BusEntry]]:
    """Consecutive PutEvents requests: at most 10 entries and 256 KB each, in the order given. Every
    entry must fit on its own (see OVERSIZED)."""
    batch: list[BusEntry] = []
    size = 0
    for entry in entries:
        if batch and (len(batch) == MAX_ENTRIES_PER_REQUEST or size + entry.size > MAX_REQUEST_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(entry)
        size += entry.size
    if batch:
        yield batch


# --- a batch of stream records ---------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Entries EventBridge did not accept are sent again, up to `attempts` tries in all, after pauses
    of first_delay, 2 x first_delay ... (at most max_delay), and only while the invocation keeps
    `reserve_ms` of its time for the last call and the answer. What is still failing then goes back to
    Lambda as batch item failures, which retries it (and finally sends it to the dead-letter queue)."""

    attempts: int = 4
    first_delay_s: float = 0.1
    max_delay_s: float = 2.0
    reserve_ms: int = 5_000

    def delay(self, attempt: int) -> float:
        return float(min(self.max_delay_s, self.first_delay_s * 2 ** (attempt - 1)))


@dataclass(frozen=True, slots=True)
class RecordFailure:
    sequence_number: str
    reason: str  # MALFORMED, OVERSIZED or NOT_ACCEPTED
    message: str
    event_id: str | None = None
    tenant_id: str | None = None
    detail_type: str | None = None


@dataclass(frozen=True, slots=True)
class PublishReport:
    published: tuple[BusEntry, ...] = ()
    failures: tuple[RecordFailure, ...] = ()
    skipped: tuple[str, ...] = ()  # sequence numbers of records that carry no audit record
    attempts: int = 0  # PutEvents rounds (the first try and the retries)
    records: int = 0

    def batch_item_failures(self) -> dict[str, list[dict[str, str]]]:
        """The answer of a function with ReportBatchItemFailures: Lambda retries from the first failed
        record on (later ones that did go out are sent again: consumers de-duplicate on detail.id)."""
        return {"batchItemFailures": [{"itemIdentifier": f.sequence_number} for f in self.failures]}


@dataclass(slots=True)
class _Pending:
    sequence_number: str
    event: AuditEvent
    entry: BusEntry
    last_error: FailedEntry | None = field(default=None)


def publish_outbox(
    records: Sequence[OutboxRecord],
    publisher: EventPublisher,
    *,
    remaining_ms: Callable[[], int],
    sleep: Callable[[float], None] = time.sleep,
    policy: RetryPolicy | None = None,
) -> PublishReport:
    """Put the audit record of each stream record on the bus; report, in stream order, the records that
    could not be published. Nothing is dropped: a record is published, skipped because it carries no
    audit record, or reported as failed (malformed, oversized, or not accepted after the retries)."""
    policy = policy or RetryPolicy()
    failures: dict[str, RecordFailure] = {}
    skipped: list[str] = []
    pending: list[_Pending] = []
    for record in records:
        sequence = record.sequence_number
        if record.problem is not None:
            failures[sequence] = RecordFailure(sequence, MALFORMED, record.problem, record.event_id, record.tenant_id)
            continue
        if record.event is None:
            skipped.append(sequence)
            continue
        event = record.event
        try:
            entry = bus_entry(event)
        except MalformedRecord as problem:
            failures[sequence] = RecordFailure(sequence, MALFORMED, str(problem), event.id, event.tenant_id, event.type)
            continue
        if entry.size > MAX_REQUEST_BYTES:
            failures[sequence] = RecordFailure(
                sequence, OVERSIZED, f"the event is {entry.size} bytes; EventBridge takes at most {MAX_REQUEST_BYTES}",
                event.id, event.tenant_id, event.type)
            continue
        pending.append(_Pending(sequence, event, entry))

    published: list[BusEntry] = []
    attempts = 0
    while pending:
        attempts += 1
        by_id = {p.entry.event_id: p for p in pending}  # audit ids are unique: each is its item's sort key
        failed: list[_Pending] = []
        for batch in batches([p.entry for p in pending]):
            rejected = {f.entry.event_id: f for f in publisher.publish(batch)}
            for entry in batch:
                item = by_id[entry.event_id]
                if entry.event_id in rejected:
                    item.last_error = rejected[entry.event_id]
                    failed.append(item)
                else:
                    published.append(entry)
        pending = failed
        if not pending or attempts >= policy.attempts:
            break
        pause = policy.delay(attempts)
        if remaining_ms() - pause * 1000 < policy.reserve_ms:
            break  # no time for another round: Lambda retries these records
        sleep(pause)

    for item in pending:
        error = item.last_error
        message = f"{error.code}: {error.message}" if error else "not sent"
        failures[item.sequence_number] = RecordFailure(
            item.sequence_number, NOT_ACCEPTED, f"{message} (after {attempts} attempts)",
            item.event.id, item.event.tenant_id, item.event.type)
    return PublishReport(
        published=tuple(published),
        failures=tuple(failures[r.sequence_number] for r in records if r.sequence_number in failures),
        skipped=tuple(skipped),
        attempts=attempts,
        records=len(records),
    )
