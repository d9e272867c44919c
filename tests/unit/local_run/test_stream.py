"""The local run's DynamoDB stream emulation, without sockets: the stream triggers read from the
template, the record in Lambda's shape, the FilterCriteria subset, and the poller's delivery, retry
and give-up rules against fake clients."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from selfservice_local.functions import Invocation
from selfservice_local.stream import Delivery, Feed, Shard, StreamPoller, check_pattern, lambda_record, passes
from selfservice_local.template import Function, StreamTrigger, TemplateError, load_template, parse_template
from support.events import load_event

ROOT = Path(__file__).resolve().parents[3]
STREAM_ARN = "arn:aws:dynamodb:eu-north-1:123456789012:table/selfservice-table/stream/2026-03-01T00:00:00.000"


def publisher_trigger() -> StreamTrigger:
    (trigger,) = load_template(ROOT / "template.yaml").functions["EventPublisherFunction"].streams
    return trigger


def test_the_publishers_stream_trigger_comes_from_the_template() -> None:
    template = load_template(ROOT / "template.yaml")
    assert [f.logical_id for f in template.stream_functions()] == ["EventPublisherFunction"]
    trigger = publisher_trigger()
    assert (trigger.table, trigger.starting_position, trigger.batch_size) == ("Table", "TRIM_HORIZON", 100)
    assert trigger.filters == ({"eventName": ["INSERT"], "dynamodb": {"NewImage": {"entity": {"S": ["audit"]}}}},)
    assert trigger.report_batch_item_failures and trigger.maximum_retry_attempts == 10
    assert trigger.on_failure == "OutboxDeadLetterQueue"


def test_a_stream_needs_a_get_att_of_a_table() -> None:
    raw = {"Resources": {"F": {"Type": "AWS::Serverless::Function", "Properties": {
        "CodeUri": "functions/f/", "Handler": "app.lambda_handler",
        "Events": {"S": {"Type": "DynamoDB", "Properties": {"Stream": "arn:aws:dynamodb:...", "StartingPosition": "LATEST"}}},
    }}}}
    with pytest.raises(TemplateError, match="GetAtt"):
        parse_template(raw, ROOT / "template.yaml")


def test_a_get_records_record_becomes_what_lambda_delivers() -> None:
    raw = {
        "eventID": "abc", "eventName": "INSERT", "eventVersion": "1.0", "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC),
            "Keys": {"PK": {"S": "TENANT#t"}},
            "NewImage": {"PK": {"S": "TENANT#t"}, "blob": {"B": b"\x00\x01"},
                         "nested": {"M": {"n": {"N": "5"}, "l": {"L": [{"BS": [b"a"]}, {"NULL": True}]}}}},
            "SequenceNumber": "100", "SizeBytes": 42, "StreamViewType": "NEW_IMAGE",
        },
    }

    record = lambda_record(raw, "eu-north-1", STREAM_ARN)

    assert list(record) == ["eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb",
                            "eventSourceARN"]
    assert record["eventVersion"] == "1.1" and record["awsRegion"] == "eu-north-1"
    assert record["eventSourceARN"] == STREAM_ARN
    change = record["dynamodb"]
    assert change["ApproximateCreationDateTime"] == 1772366405
    assert change["NewImage"]["blob"] == {"B": "AAE="}
    assert change["NewImage"]["nested"] == {"M": {"n": {"N": "5"}, "l": {"L": [{"BS": ["YQ=="]}, {"NULL": True}]}}}
    assert (change["SequenceNumber"], change["SizeBytes"], change["StreamViewType"]) == ("100", 42, "NEW_IMAGE")
    json.dumps(record)  # plain JSON, as Lambda hands it over


def test_the_template_filter_keeps_new_audit_records_only() -> None:
    filters = publisher_trigger().filters
    audit = load_event("event_publisher")["Records"][0]
    modified = copy.deepcopy(audit) | {"eventName": "MODIFY"}
    subscription = copy.deepcopy(audit)
    subscription["dynamodb"]["NewImage"]["entity"] = {"S": "subscription"}
    removed = copy.deepcopy(audit) | {"eventName": "REMOVE"}
    del removed["dynamodb"]["NewImage"]

    assert passes(filters, audit)
    assert not passes(filters, modified)
    assert not passes(filters, subscription)
    assert not passes(filters, removed)
    assert passes((), subscription)  # no filter: every record


@pytest.mark.parametrize("pattern", [
    {"eventName": [{"prefix": "INS"}]},
    {"eventName": "INSERT"},
    {"dynamodb": {"NewImage": {"entity": {"S": [{"anything-but": ["x"]}]}}}},
    {},
])
def test_patterns_beyond_exact_match_fail_the_start(pattern: dict[str, Any]) -> None:
    with pytest.raises(TemplateError):
        check_pattern(pattern, "F.S.FilterCriteria[0]")


# --- the poller ------------------------------------------------------------------------------------

def stream_record(sequence: int, entity: str = "audit", event_name: str = "INSERT") -> dict[str, Any]:
    """A record as GetRecords returns it (boto3-parsed)."""
    return {"eventID": f"e{sequence}", "eventName": event_name, "eventVersion": "1.1", "eventSource": "aws:dynamodb",
            "awsRegion": "eu-north-1",
            "dynamodb": {"ApproximateCreationDateTime": datetime(2026, 3, 1, tzinfo=UTC),
                         "Keys": {"PK": {"S": "TENANT#t"}, "SK": {"S": f"X#{sequence}"}},
                         "NewImage": {"PK": {"S": "TENANT#t"}, "SK": {"S": f"X#{sequence}"}, "entity": {"S": entity}},
                         "SequenceNumber": str(sequence), "SizeBytes": 10, "StreamViewType": "NEW_IMAGE"}}


class FakeStreams:
    def __init__(self, pages: list[list[dict[str, Any]]]) -> None:
        self.pages = pages
        self.limits: list[int] = []

    def get_shard_iterator(self, **_: Any) -> dict[str, Any]:
        return {"ShardIterator": "it-0"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:  # boto3's argument names
        self.limits.append(Limit)
        page = int(ShardIterator.split("-")[1])
        records = self.pages[page] if page < len(self.pages) else []
        return {"Records": records, "NextShardIterator": f"it-{min(page + 1, len(self.pages))}"}


class FakeSqs:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send_message(self, QueueUrl: str, MessageBody: str) -> dict[str, Any]:
        self.sent.append({"url": QueueUrl, "body": json.loads(MessageBody)})
        return {}


def poller(pages: list[list[dict[str, Any]]], results: list[Any], retries: int = 2,
           ) -> tuple[StreamPoller, list[list[str]], list[Delivery], FakeSqs]:
    trigger = StreamTrigger("AuditRecords", "Table", "TRIM_HORIZON", 100, publisher_trigger().filters, True, retries,
                            "OutboxDeadLetterQueue")
    function = Function("EventPublisherFunction", ROOT / "functions" / "event_publisher", "app.lambda_handler", 60, 512)
    feed = Feed(function, trigger, STREAM_ARN, [Shard("shard-1", None)], "http://queue/dlq")
    invoked: list[list[str]] = []
    reports: list[Delivery] = []

    def invoke(logical_id: str, event: dict[str, Any]) -> Invocation:
        assert logical_id == "EventPublisherFunction"
        invoked.append([r["dynamodb"]["SequenceNumber"] for r in event["Records"]])
        result = results.pop(0)
        if isinstance(result, Exception):
            raise result
        return Invocation(result, 1.0, False)

    sqs = FakeSqs()
    runner = StreamPoller([feed], FakeStreams(pages), sqs, "eu-north-1", invoke, reports.append)  # type: ignore[arg-type]
    runner.position_shards()  # no thread: the tests poll by hand
    return runner, invoked, reports, sqs


def again(runner: StreamPoller) -> int:
    for shard in runner.feeds[0].shards:
        shard.retry_at = 0.0  # no waiting for the pause in a test
    return runner.poll_once()


def test_matching_records_are_delivered_in_one_batch_and_the_rest_consumed() -> None:
    pages = [[stream_record(1), stream_record(2, entity="subscription"), stream_record(3, event_name="MODIFY"),
              stream_record(4)]]
    runner, invoked, reports, _ = poller(pages, [{"batchItemFailures": []}])

    assert runner.poll_once() == 1
    assert runner.poll_once() == 0  # nothing new

    assert invoked == [["1", "4"]]
    assert [(r.records, r.failed) for r in reports] == [(2, 0)]


def test_a_failed_record_is_retried_from_there_on() -> None:
    pages = [[stream_record(1), stream_record(2), stream_record(3)]]
    results: list[Any] = [{"batchItemFailures": [{"itemIdentifier": "3"}, {"itemIdentifier": "2"}]},
                          {"batchItemFailures": []}]
    runner, invoked, reports, sqs = poller(pages, results)

    runner.poll_once()
    assert runner.poll_once() == 0  # the retry waits for its pause
    again(runner)

    assert invoked == [["1", "2", "3"], ["2", "3"]]
    assert [(r.records, r.failed) for r in reports] == [(3, 2), (2, 0)]
    assert "retry 1 of 2" in reports[0].note
    assert sqs.sent == []


def test_an_exception_or_an_unknown_identifier_fails_the_whole_batch() -> None:
    pages = [[stream_record(1), stream_record(2)]]
    results: list[Any] = [RuntimeError("boom"), {"batchItemFailures": [{"itemIdentifier": "99"}]}, None]
    runner, invoked, _, _ = poller(pages, results, retries=5)

    runner.poll_once()
    again(runner)
    again(runner)

    assert invoked == [["1", "2"], ["1", "2"], ["1", "2"]]


def test_after_the_last_retry_the_batch_is_described_on_the_dead_letter_queue() -> None:
    pages = [[stream_record(1), stream_record(2)], [stream_record(3)]]
    failing = {"batchItemFailures": [{"itemIdentifier": "1"}]}
    runner, invoked, reports, sqs = poller(pages, [failing, failing, failing, {"batchItemFailures": []}], retries=2)

    runner.poll_once()
    again(runner)
    again(runner)  # the second retry fails too: give up
    again(runner)  # the shard moves on

    assert invoked == [["1", "2"], ["1", "2"], ["1", "2"], ["3"]]
    assert "gave up after 2 retries" in reports[2].note
    (message,) = sqs.sent
    assert message["url"] == "http://queue/dlq"
    info = message["body"]["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == ("1", "2", 2)
    assert info["streamArn"] == STREAM_ARN and info["shardId"] == "shard-1"
    assert message["body"]["requestContext"]["condition"] == "RetryAttemptsExhausted"
