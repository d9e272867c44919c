"""The outbox publisher end to end on moto: real changes through the function handlers, the table's
stream read with GetRecords, the records the template's FilterCriteria keep handed to the real
handler (functions/event_publisher/app.py), and the events read back as a consumer gets them: a rule
on the bus with an SQS queue as its target."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from selfservice import bootstrap
from selfservice.adapters.clock import ManualClock
from selfservice.adapters.eventbridge import EventBridgePublisher
from selfservice.ports import BusEntry
from selfservice_local.resources import shared_session
from support.events import load_event
from support.functions import invoke
from support.stream import REGION, delivered_to_publisher, stream_event, stream_records

from .conftest import Tenant


@pytest.fixture
def consumer(aws: dict[str, str]) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """A downstream service: a rule on the project's bus for source `selfservice`, targeting a queue.
    Yields a function that returns what arrived since the last call."""
    events = shared_session().client("events", region_name=REGION)
    sqs = shared_session().client("sqs", region_name=REGION)
    queue_url = sqs.create_queue(QueueName="downstream-consumer")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = aws["EventBus"]
    events.put_rule(Name="downstream", EventBusName=bus, EventPattern=json.dumps({"source": ["selfservice"]}))
    events.put_targets(Rule="downstream", EventBusName=bus, Targets=[{"Id": "queue", "Arn": queue_arn}])

    def arrived() -> list[dict[str, Any]]:
        found = []
        while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
            found += [json.loads(m["Body"]) for m in messages]
            sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
        return found

    yield arrived


def reduce_and_undo(business: Tenant, request_as: Callable[..., Any]) -> None:
    sub = {"subscription_id": business.subscription_id}
    assert request_as(business, "seats", "seats-reduce", path=sub, body={"seats": 6, "acknowledged": True}).status == 200
    assert request_as(business, "seats", "seats-undo", path=sub, body={"acknowledged": True}).status == 200


def test_a_seat_reduction_reaches_a_consumer_of_the_bus(aws: dict[str, str], business: Tenant,
                                                        request_as: Callable[..., Any],
                                                        consumer: Callable[[], list[dict[str, Any]]]) -> None:
    reduce_and_undo(business, request_as)
    records = delivered_to_publisher(stream_records(aws["Table"]))
    assert [r["dynamodb"]["NewImage"]["type"]["S"] for r in records] == [
        "tenant.provisioned", "subscription.reduction_scheduled", "subscription.reduction_undone"]

    result = invoke("event_publisher", stream_event(records))

    assert result == {"batchItemFailures": []}
    received = consumer()
    assert [e["detail-type"] for e in received] == [
        "tenant.provisioned", "subscription.reduction_scheduled", "subscription.reduction_undone"]
    reduction = received[1]
    assert reduction["source"] == "selfservice"
    assert reduction["resources"] == []
    detail = reduction["detail"]
    (recorded,) = [a for a in request_as(business, "activity", "activity").body["items"]
                   if a["type"] == "subscription.reduction_scheduled"]
    assert detail == {
        "schema_version": 1,
        "id": recorded["id"],  # the audit id: what consumers de-duplicate on
        "type": "subscription.reduction_scheduled",
        "tenant_id": business.tenant_id,
        "subject_id": business.subscription_id,
        "actor": business.sao_subject,
        "occurred_at": "2026-03-10T12:00:00Z",
        "before": recorded["before"],
        "after": recorded["after"],
        "acknowledgement": recorded["acknowledgement"],
        "data": {"seats": 6, "effective_at": "2026-03-31T00:00:00Z"},
    }


def test_the_committed_stream_events_publish_cleanly(aws: dict[str, str], api: ManualClock,
                                                     consumer: Callable[[], list[dict[str, Any]]]) -> None:
    for name in ("event_publisher", "event_publisher-audit-types"):
        event = load_event(name)
        assert invoke("event_publisher", event) == {"batchItemFailures": []}
        assert [e["detail"]["id"] for e in consumer()] == [
            r["dynamodb"]["NewImage"]["id"]["S"] for r in event["Records"]]


def test_when_the_bus_refuses_every_record_is_a_batch_item_failure(aws: dict[str, str], business: Tenant,
                                                                   request_as: Callable[..., Any],
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   consumer: Callable[[], list[dict[str, Any]]],
                                                                   clock: ManualClock) -> None:
    reduce_and_undo(business, request_as)
    records = delivered_to_publisher(stream_records(aws["Table"]))
    monkeypatch.setenv("EVENT_BUS_NAME", "no-such-bus")  # PutEvents fails as a whole, every time
    bootstrap.reset()
    bootstrap.override(clock=clock)

    result = invoke("event_publisher", stream_event(records))

    assert result == {"batchItemFailures": [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in records]}
    assert consumer() == []


def test_a_malformed_audit_record_is_reported_and_the_others_go_out(aws: dict[str, str], business: Tenant,
                                                                    request_as: Callable[..., Any],
                                                                    consumer: Callable[[], list[dict[str, Any]]]) -> None:
    reduce_and_undo(business, request_as)
    records = delivered_to_publisher(stream_records(aws["Table"]))
    del records[1]["dynamodb"]["NewImage"]["at"]

    result = invoke("event_publisher", stream_event(records))

    assert result == {"batchItemFailures": [{"itemIdentifier": records[1]["dynamodb"]["SequenceNumber"]}]}
    assert [e["detail-type"] for e in consumer()] == ["tenant.provisioned", "subscription.reduction_undone"]


# --- the adapter on its own: what PutEvents answers, mapped to failed entries -------------------------

def entries(count: int) -> list[BusEntry]:
    at = datetime(2026, 3, 10, 12, tzinfo=UTC)
    return [BusEntry(f"evt_{i}", "selfservice", "user.assigned", json.dumps({"id": f"evt_{i}"}), at)
            for i in range(count)]


def test_the_adapter_returns_the_entries_put_events_refused(aws: dict[str, str]) -> None:
    client = shared_session().client("events", region_name=REGION)
    publisher = EventBridgePublisher(client, aws["EventBus"])
    sent = entries(3)
    with Stubber(client) as stub:
        stub.add_response("put_events", {"FailedEntryCount": 1, "Entries": [
            {"EventId": "1"}, {"ErrorCode": "ThrottlingException", "ErrorMessage": "slow down"}, {"EventId": "3"}]})
        failed = publisher.publish(sent)
        stub.add_client_error("put_events", service_error_code="InternalException", http_status_code=500)
        all_failed = publisher.publish(sent)

    assert [(f.entry.event_id, f.code, f.message) for f in failed] == [("evt_1", "ThrottlingException", "slow down")]
    assert [(f.entry.event_id, f.code) for f in all_failed] == [(e.event_id, "InternalException") for e in sent]


def test_the_adapter_sends_to_the_configured_bus(aws: dict[str, str],
                                                 consumer: Callable[[], list[dict[str, Any]]]) -> None:
    publisher = EventBridgePublisher(shared_session().client("events", region_name=REGION), aws["EventBus"])

    assert publisher.publish(entries(10)) == []
    with pytest.raises(ValueError, match="at most 10"):
        publisher.publish(entries(11))
    assert [e["detail"]["id"] for e in consumer()] == [f"evt_{i}" for i in range(10)]


def test_without_a_bus_name_the_publisher_cannot_be_built(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EVENT_BUS_NAME")
    bootstrap.reset()
    with pytest.raises(bootstrap.SettingsError, match="EVENT_BUS_NAME"):
        bootstrap.event_publisher()
    bootstrap.reset()


def test_put_events_rejects_a_bus_that_does_not_exist(aws: dict[str, str]) -> None:
    # The premise of the "bus refuses" case above: moto fails the whole call, as EventBridge does.
    client = shared_session().client("events", region_name=REGION)
    with pytest.raises(ClientError):
        client.put_events(Entries=[{"Source": "s", "DetailType": "d", "Detail": "{}", "EventBusName": "no-such-bus"}])
