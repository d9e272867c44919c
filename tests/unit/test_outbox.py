"""The outbox publisher's rules (services/outbox.py, adapters/dynamo_stream.py) on stream events made
from real stored records (events/event_publisher*.json, see tests/integration/test_stream_fixtures.py),
against a fake bus: translation of every audit type, batching, retries, and what is reported back."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from selfservice.adapters.dynamo_stream import MalformedBatch, outbox_records
from selfservice.domain.wording import ALL_WORDINGS
from selfservice.ports import BusEntry, FailedEntry
from selfservice.services.outbox import (
    MALFORMED,
    NOT_ACCEPTED,
    OVERSIZED,
    SOURCE,
    PublishReport,
    RetryPolicy,
    publish_outbox,
)
from support.events import load_event

ROOT = Path(__file__).resolve().parents[2]

# Every audit type the services write today: the fixture holds one real record of each.
TODAY = {
    "tenant.provisioned", "billing_info.updated", "user.assigned", "user.removed",
    "subscription.reduction_scheduled", "subscription.reduction_undone",
    "subscription.cancellation_scheduled", "subscription.cancellation_undone", "subscription.upgrade_requested",
}
DETAIL_KEYS = {"schema_version", "id", "type", "tenant_id", "subject_id", "actor", "occurred_at", "before", "after",
               "acknowledgement", "data"}


class FakeBus:
    """The EventPublisher port: records every call; `refuse` says how many times to refuse an event id."""

    def __init__(self, refuse: dict[str, int] | None = None) -> None:
        self.calls: list[list[BusEntry]] = []
        self.refuse = dict(refuse or {})

    def publish(self, entries: Sequence[BusEntry]) -> list[FailedEntry]:
        assert 1 <= len(entries) <= 10
        assert sum(e.size for e in entries) <= 256 * 1024
        self.calls.append(list(entries))
        failed = []
        for entry in entries:
            if self.refuse.get(entry.event_id, 0) > 0:
                self.refuse[entry.event_id] -= 1
                failed.append(FailedEntry(entry, "InternalFailure", "try again"))
        return failed

    @property
    def sent(self) -> list[BusEntry]:
        return [e for call in self.calls for e in call]


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def every_type() -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = load_event("event_publisher-audit-types")["Records"]
    return records


def record_of(audit_type: str) -> dict[str, Any]:
    return next(r for r in every_type() if r["dynamodb"]["NewImage"]["type"]["S"] == audit_type)


def copies(count: int, *, data: str | None = None) -> list[dict[str, Any]]:
    """`count` records like the stored reduction record, each its own audit id and sequence number."""
    base = record_of("subscription.reduction_scheduled")
    records = []
    for i in range(count):
        record = copy.deepcopy(base)
        image = record["dynamodb"]["NewImage"]
        event_id = f"evt_copy{i:04d}"
        image["id"] = {"S": event_id}
        image["SK"] = record["dynamodb"]["Keys"]["SK"] = {"S": f"EVENT#{event_id}"}
        record["dynamodb"]["SequenceNumber"] = str(2000 + i)
        if data is not None:
            image["data"] = {"M": {"note": {"S": data}}}
        records.append(record)
    return records


def publish(records: list[dict[str, Any]], bus: FakeBus, *, remaining_ms: int = 60_000,
            sleeps: Sleeps | None = None) -> PublishReport:
    return publish_outbox(outbox_records(records), bus, remaining_ms=lambda: remaining_ms,
                          sleep=sleeps if sleeps is not None else Sleeps())


def details(bus: FakeBus) -> list[dict[str, Any]]:
    return [json.loads(e.detail) for e in bus.sent]


# --- translation -----------------------------------------------------------------------------------

def test_the_fixture_holds_a_real_record_of_every_audit_type_written_today() -> None:
    assert {r["dynamodb"]["NewImage"]["type"]["S"] for r in every_type()} >= TODAY


@pytest.mark.parametrize("audit_type", sorted(TODAY))
def test_each_audit_record_becomes_one_event(audit_type: str) -> None:
    record = record_of(audit_type)
    image = record["dynamodb"]["NewImage"]
    bus = FakeBus()

    report = publish([record], bus)

    assert report.batch_item_failures() == {"batchItemFailures": []}
    (entry,) = bus.sent
    detail = json.loads(entry.detail)
    assert (entry.source, entry.detail_type, entry.event_id) == (SOURCE, audit_type, image["id"]["S"])
    assert set(detail) == DETAIL_KEYS
    assert detail["schema_version"] == 1
    assert detail["id"] == image["id"]["S"] and detail["type"] == audit_type
    assert detail["tenant_id"] == image["tenant_id"]["S"]
    assert detail["subject_id"] == image["subject_id"]["S"] and detail["actor"] == image["actor"]["S"]
    assert detail["occurred_at"].startswith(image["at"]["S"][:19]) and detail["occurred_at"].endswith("Z")
    assert entry.time.isoformat().startswith(image["at"]["S"][:19])
    assert isinstance(detail["data"], dict)


def test_a_reduction_event_carries_before_after_and_the_acknowledgement_with_its_wording() -> None:
    bus = FakeBus()
    publish([record_of("subscription.reduction_scheduled")], bus)

    (detail,) = details(bus)
    assert detail["before"]["seats"] == 10 and detail["before"]["scheduled_reduction"] is None
    assert detail["after"]["scheduled_reduction"] == {"seats": 6, "effective_at": "2026-03-31T00:00:00Z"}
    assert detail["data"] == {"seats": 6, "effective_at": "2026-03-31T00:00:00Z"}
    assert detail["acknowledgement"] == {
        "version": "seat-reduction/2026-01", "text": ALL_WORDINGS["seat_reduction"].text,
        "accepted_by": detail["actor"], "accepted_at": "2026-03-10T12:00:00Z",
    }
    assert detail["occurred_at"] == "2026-03-10T12:00:00Z"


def test_numbers_stay_numbers_and_nulls_stay_null() -> None:
    bus = FakeBus()
    publish([record_of("tenant.provisioned"), record_of("subscription.upgrade_requested")], bus)

    provisioned, upgrade = details(bus)
    assert provisioned["before"] is None and provisioned["after"] is None and provisioned["acknowledgement"] is None
    assert isinstance(provisioned["data"]["seats"], int)
    assert upgrade["data"]["account_manager"]["email"].endswith(".example")


def test_the_whole_stream_batch_is_published_in_stream_order() -> None:
    bus = FakeBus()
    report = publish(every_type(), bus)

    assert [e.detail_type for e in bus.sent] == [r["dynamodb"]["NewImage"]["type"]["S"] for r in every_type()]
    assert len(report.published) == len(every_type()) and report.attempts == 1


# --- batching --------------------------------------------------------------------------------------

def test_at_most_ten_entries_per_put_events() -> None:
    bus = FakeBus()
    report = publish(copies(25), bus)

    assert [len(call) for call in bus.calls] == [10, 10, 5]
    assert [e.event_id for e in bus.sent] == [f"evt_copy{i:04d}" for i in range(25)]
    assert report.failures == ()


def test_at_most_256_kb_per_put_events() -> None:
    bus = FakeBus()
    publish(copies(5, data="x" * 100_000), bus)  # about 100 KB each: two fit in one request

    assert [len(call) for call in bus.calls] == [2, 2, 1]


# --- failures --------------------------------------------------------------------------------------

def test_entries_the_bus_refuses_are_retried_and_then_succeed() -> None:
    records = copies(12)
    bus = FakeBus(refuse={"evt_copy0003": 1, "evt_copy0011": 1})  # refused once each
    sleeps = Sleeps()

    report = publish(records, bus, sleeps=sleeps)

    assert report.batch_item_failures() == {"batchItemFailures": []}
    assert report.attempts == 2 and sleeps == [0.1]
    assert [e.event_id for e in bus.calls[-1]] == ["evt_copy0003", "evt_copy0011"]
    assert sorted(e.event_id for e in report.published) == [f"evt_copy{i:04d}" for i in range(12)]


def test_entries_still_refused_after_the_retries_are_reported_as_batch_item_failures() -> None:
    records = copies(12)
    bus = FakeBus(refuse={"evt_copy0003": 99, "evt_copy0011": 99})
    sleeps = Sleeps()

    report = publish(records, bus, sleeps=sleeps)

    assert report.attempts == RetryPolicy().attempts == 4
    assert sleeps == [0.1, 0.2, 0.4]  # exponential backoff between the attempts
    assert report.batch_item_failures() == {"batchItemFailures": [{"itemIdentifier": "2003"},
                                                                  {"itemIdentifier": "2011"}]}
    assert {f.reason for f in report.failures} == {NOT_ACCEPTED}
    assert report.failures[0].event_id == "evt_copy0003"
    assert "InternalFailure" in report.failures[0].message
    assert len(report.published) == 10


def test_no_retry_when_the_invocation_has_no_time_left() -> None:
    bus = FakeBus(refuse={"evt_copy0001": 99})
    sleeps = Sleeps()

    report = publish(copies(3), bus, remaining_ms=4_000, sleeps=sleeps)  # below the 5 s kept in reserve

    assert sleeps == [] and report.attempts == 1
    assert report.batch_item_failures() == {"batchItemFailures": [{"itemIdentifier": "2001"}]}


def test_an_event_larger_than_eventbridge_takes_fails_alone_and_is_never_sent() -> None:
    records = copies(3)
    records[1] = copies(2, data="é" * 140_000)[1]  # 280 KB of UTF-8
    bus = FakeBus()

    report = publish(records, bus)

    assert [e.event_id for e in bus.sent] == ["evt_copy0000", "evt_copy0002"]
    (failure,) = report.failures
    assert (failure.sequence_number, failure.reason, failure.event_id) == ("2001", OVERSIZED, "evt_copy0001")
    assert report.batch_item_failures() == {"batchItemFailures": [{"itemIdentifier": "2001"}]}


@pytest.mark.parametrize("damage", [
    pytest.param(lambda image: image.pop("type"), id="no-type"),
    pytest.param(lambda image: image.update(at={"S": "yesterday"}), id="bad-time"),
    pytest.param(lambda image: image.update(tenant_id={"N": "5"}), id="wrong-kind"),
    pytest.param(lambda image: image.update(type={"S": ""}), id="empty-type"),
])
def test_a_malformed_audit_record_is_reported_not_skipped(damage: Any) -> None:
    records = copies(3)
    damage(records[1]["dynamodb"]["NewImage"])
    bus = FakeBus()

    report = publish(records, bus)

    assert [e.event_id for e in bus.sent] == ["evt_copy0000", "evt_copy0002"]
    (failure,) = report.failures
    assert (failure.sequence_number, failure.reason) == ("2001", MALFORMED)
    assert failure.event_id == "evt_copy0001"
    assert report.batch_item_failures() == {"batchItemFailures": [{"itemIdentifier": "2001"}]}


def test_records_without_an_audit_record_are_skipped_and_counted() -> None:
    records = copies(3)
    records[0]["eventName"] = "MODIFY"
    records[1]["dynamodb"]["NewImage"]["entity"] = {"S": "subscription"}
    bus = FakeBus()

    report = publish(records, bus)

    assert [e.event_id for e in bus.sent] == ["evt_copy0002"]
    assert report.skipped == ("2000", "2001") and report.failures == ()


def test_a_record_without_a_sequence_number_fails_the_whole_batch() -> None:
    records = copies(2)
    del records[1]["dynamodb"]["SequenceNumber"]

    with pytest.raises(MalformedBatch):
        outbox_records(records)


# --- the contract is documented --------------------------------------------------------------------

def written_audit_types() -> set[str]:
    """Every audit type passed to `audit(...)` in the services' source."""
    pattern = re.compile(r"audit\(\s*[^,()]+,\s*\"([a-z_]+\.[a-z_]+)\"")
    found: set[str] = set()
    for path in (ROOT / "layers" / "selfservice" / "selfservice" / "services").glob("*.py"):
        found |= set(pattern.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_audit_type_the_services_write_is_a_documented_detail_type() -> None:
    documented = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")
    written = written_audit_types()
    assert written >= TODAY
    missing = sorted(t for t in written if f"`{t}`" not in documented)
    assert not missing, f"add these detail-types to docs/events.md: {missing}"
