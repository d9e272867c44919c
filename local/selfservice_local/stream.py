"""DynamoDB stream -> the template's stream-triggered functions (the outbox publisher), as Lambda's
event source mapping does it, against the moto server's stream.

A background thread reads each shard with GetRecords every half second, keeps the records that pass
the trigger's FilterCriteria, and invokes the function with them in the shape Lambda delivers. A batch
the function fails (an exception, or `batchItemFailures` with ReportBatchItemFailures) is retried from
the first failed record, after a pause, up to MaximumRetryAttempts; then Lambda's on-failure message
goes to the destination queue and the shard moves on. Bisecting a failed batch is not emulated.

Filters: the subset the template uses, exact-match patterns (`{"eventName": ["INSERT"], "dynamodb":
{"NewImage": {"entity": {"S": ["audit"]}}}}`): every key of the pattern must be present and its value
one of the listed ones; several filters are alternatives. A pattern with anything else (prefix,
anything-but, numeric ...) fails the start rather than filter differently from Lambda.
"""

from __future__ import annotations

import base64
import json
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from selfservice_local.functions import Invocation
from selfservice_local.gateway import ACCOUNT_ID
from selfservice_local.template import Function, StreamTrigger, TemplateError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from mypy_boto3_sqs import SQSClient

POLL_INTERVAL_SECONDS = 0.5
MAX_RETRY_PAUSE_SECONDS = 8.0


# --- the record as Lambda delivers it -------------------------------------------------------------

def lambda_record(raw: Mapping[str, Any], region: str, stream_arn: str) -> dict[str, Any]:
    """A record of GetRecords (as boto3 parses it) -> the record of a Lambda stream event: creation time
    in epoch seconds, binary attributes base64-encoded, the stream's ARN and region."""
    change = raw["dynamodb"]
    dynamodb: dict[str, Any] = {}
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
    elif created is not None:
        dynamodb["ApproximateCreationDateTime"] = int(float(created))
    for image in ("Keys", "NewImage", "OldImage"):
        if image in change:
            dynamodb[image] = {name: _json_attribute(value) for name, value in change[image].items()}
    dynamodb["SequenceNumber"] = str(change["SequenceNumber"])
    dynamodb["SizeBytes"] = int(change.get("SizeBytes", 0))
    dynamodb["StreamViewType"] = str(change.get("StreamViewType", "NEW_IMAGE"))
    return {
        "eventID": str(raw.get("eventID") or uuid.uuid4().hex),
        "eventName": str(raw["eventName"]),
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }


def _json_attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    (kind, inner), = value.items()
    if kind == "B":
        return {"B": base64.b64encode(bytes(inner)).decode()}
    if kind == "BS":
        return {"BS": [base64.b64encode(bytes(v)).decode() for v in inner]}
    if kind == "M":
        return {"M": {k: _json_attribute(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_json_attribute(v) for v in inner]}
    return {kind: inner}


# --- FilterCriteria (exact match) -----------------------------------------------------------------

def check_pattern(pattern: Any, where: str) -> None:
    """Refuse what the local filter does not implement, naming the place in the pattern."""
    if not isinstance(pattern, dict) or not pattern:
        raise TemplateError(f"{where}: a filter pattern must be a non-empty object")
    for key, value in pattern.items():
        if isinstance(value, dict):
            check_pattern(value, f"{where}.{key}")
        elif not isinstance(value, list) or not value or not all(
                isinstance(v, str | int | float | bool) or v is None for v in value):
            raise TemplateError(f"{where}.{key}: the local run filters on exact values only ([\"a\", \"b\"]), "
                                f"not {json.dumps(value)}")


def matches(pattern: Mapping[str, Any], value: Any) -> bool:
    if not isinstance(value, Mapping):
        return False
    for key, wanted in pattern.items():
        if key not in value:
            return False
        if isinstance(wanted, Mapping):
            if not matches(wanted, value[key]):
                return False
        elif value[key] not in wanted or isinstance(value[key], Mapping | list):
            return False
    return True


def passes(filters: Sequence[Mapping[str, Any]], record: Mapping[str, Any]) -> bool:
    """Lambda's rule: no filters, every record; otherwise any one filter that matches."""
    return not filters or any(matches(pattern, record) for pattern in filters)


# --- the poller ------------------------------------------------------------------------------------

@dataclass
class Shard:
    shard_id: str
    iterator: str | None
    pending: list[dict[str, Any]] = field(default_factory=list)  # a failed batch waiting for its retry
    retries: int = 0
    retry_at: float = 0.0


@dataclass
class Feed:
    """One DynamoDB event of one function: the stream it reads and where each shard stands."""

    function: Function
    trigger: StreamTrigger
    stream_arn: str
    shards: list[Shard]
    on_failure_queue_url: str | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """What one invocation did, for the terminal line."""

    feed: Feed
    records: int
    failed: int  # records to retry (from the first failed one on)
    ms: float
    note: str


class StreamPoller:
    def __init__(self, feeds: list[Feed], streams: DynamoDBStreamsClient, sqs: SQSClient, region: str,
                 invoke: Callable[[str, dict[str, Any]], Invocation], report: Callable[[Delivery], None],
                 interval: float = POLL_INTERVAL_SECONDS) -> None:
        for feed in feeds:
            for i, pattern in enumerate(feed.trigger.filters):
                check_pattern(pattern, f"{feed.function.logical_id}.{feed.trigger.name}.FilterCriteria[{i}]")
        self.feeds = feeds
        self._streams = streams
        self._sqs = sqs
        self.region = region
        self._invoke = invoke
        self._report = report
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if not self.feeds:
            return
        self.position_shards()
        self._thread = threading.Thread(target=self._loop, name="local-stream", daemon=True)
        self._thread.start()

    def position_shards(self) -> None:
        """Each shard's iterator at the trigger's StartingPosition, counted from now, as when Lambda
        creates the event source mapping."""
        for feed in self.feeds:
            for shard in feed.shards:
                shard.iterator = self._streams.get_shard_iterator(
                    StreamArn=feed.stream_arn, ShardId=shard.shard_id,
                    ShardIteratorType=feed.trigger.starting_position,  # type: ignore[arg-type]
                )["ShardIterator"]

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.poll_once()
            except Exception:
                if self._stop.is_set():
                    return
                traceback.print_exc(file=sys.stderr)

    def poll_once(self) -> int:
        """One round over every shard of every feed; the number of invocations."""
        invocations = 0
        for feed in self.feeds:
            for shard in feed.shards:
                if self._stop.is_set():
                    return invocations
                batch = self._next_batch(feed, shard)
                if batch:
                    self._deliver(feed, shard, batch)
                    invocations += 1
        return invocations

    def _next_batch(self, feed: Feed, shard: Shard) -> list[dict[str, Any]]:
        if shard.pending:
            return shard.pending if time.monotonic() >= shard.retry_at else []
        if shard.iterator is None:
            return []
        answer = self._streams.get_records(ShardIterator=shard.iterator, Limit=feed.trigger.batch_size)
        shard.iterator = answer.get("NextShardIterator")
        records = [lambda_record(r, self.region, feed.stream_arn) for r in answer.get("Records", [])]
        # Records no filter keeps are consumed without an invocation, as Lambda does.
        return [r for r in records if passes(feed.trigger.filters, r)]

    def _deliver(self, feed: Feed, shard: Shard, batch: list[dict[str, Any]]) -> None:
        started = time.perf_counter()
        retry_from: int | None = None
        try:
            invocation = self._invoke(feed.function.logical_id, {"Records": batch})
            retry_from = self._first_failed(feed, batch, invocation.result)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            retry_from = 0  # a function error fails the whole batch
        ms = (time.perf_counter() - started) * 1000
        if retry_from is None:
            shard.pending, shard.retries = [], 0
            self._report(Delivery(feed, len(batch), 0, ms, f"{len(batch)} record{'s' if len(batch) != 1 else ''} handled"))
            return
        failed = batch[retry_from:]
        limit = feed.trigger.maximum_retry_attempts
        if 0 <= limit <= shard.retries:
            note = self._give_up(feed, shard, failed)
            shard.pending, shard.retries = [], 0
        else:
            shard.retries += 1
            pause = min(MAX_RETRY_PAUSE_SECONDS, 2.0 ** (shard.retries - 1))
            shard.pending, shard.retry_at = failed, time.monotonic() + pause
            note = (f"{len(failed)} of {len(batch)} to retry, retry {shard.retries}"
                    f"{f' of {limit}' if limit >= 0 else ''} in {pause:g} s")
        self._report(Delivery(feed, len(batch), len(failed), ms, note))

    @staticmethod
    def _first_failed(feed: Feed, batch: list[dict[str, Any]], result: Any) -> int | None:
        """Index of the record to retry from; None when the batch succeeded. Lambda's rules: an empty or
        absent list is success; an identifier that is not a record of the batch fails the whole batch."""
        if not feed.trigger.report_batch_item_failures or not isinstance(result, dict):
            return None
        failures = result.get("batchItemFailures") or []
        if not failures:
            return None
        positions = {r["dynamodb"]["SequenceNumber"]: i for i, r in enumerate(batch)}
        found = [positions.get(f.get("itemIdentifier")) if isinstance(f, dict) else None for f in failures]
        if any(i is None for i in found):
            return 0
        return min(i for i in found if i is not None)

    def _give_up(self, feed: Feed, shard: Shard, failed: list[dict[str, Any]]) -> str:
        """Lambda's on-failure record for a stream batch: where the records are, not the records."""
        if feed.on_failure_queue_url is None:
            return f"{len(failed)} records dropped after {shard.retries} retries (no on-failure destination)"
        first, last = failed[0]["dynamodb"], failed[-1]["dynamodb"]
        message = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{feed.function.logical_id}",
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": shard.retries + 1,
            },
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": None},
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "DDBStreamBatchInfo": {
                "shardId": shard.shard_id,
                "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _arrival(first),
                "approximateArrivalOfLastRecord": _arrival(last),
                "batchSize": len(failed),
                "streamArn": feed.stream_arn,
            },
        }
        self._sqs.send_message(QueueUrl=feed.on_failure_queue_url, MessageBody=json.dumps(message))
        return f"gave up after {shard.retries} retries: {len(failed)} records described on {feed.trigger.on_failure}"


def _arrival(change: Mapping[str, Any]) -> str | None:
    seconds = change.get("ApproximateCreationDateTime")
    if seconds is None:
        return None
    return datetime.fromtimestamp(float(seconds), UTC).isoformat().replace("+00:00", "Z")


def build_feeds(functions: Sequence[Function], resources: Mapping[str, str], dynamodb: DynamoDBClient,
                streams: DynamoDBStreamsClient, sqs: SQSClient) -> list[Feed]:
    """A feed per DynamoDB event of the given functions, on the tables the local run created."""
    feeds = []
    for function in functions:
        for trigger in function.streams:
            where = f"{function.logical_id}.{trigger.name}"
            table = resources.get(trigger.table)
            if table is None:
                raise TemplateError(f"{where}: {trigger.table} is not a table of the template")
            stream_arn = dynamodb.describe_table(TableName=table)["Table"].get("LatestStreamArn")
            if not stream_arn:
                raise TemplateError(f"{where}: table {trigger.table} has no StreamSpecification")
            description = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]
            shards = [Shard(s["ShardId"], None) for s in description.get("Shards", [])]
            queue_url = None
            if trigger.on_failure is not None:
                if trigger.on_failure not in resources:
                    raise TemplateError(f"{where}: the on-failure destination {trigger.on_failure} is not a queue "
                                        "of the template")
                queue_url = sqs.get_queue_url(QueueName=resources[trigger.on_failure])["QueueUrl"]
            feeds.append(Feed(function, trigger, stream_arn, shards, queue_url))
    return feeds
