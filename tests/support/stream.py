"""The table's DynamoDB stream on moto, read the way Lambda's event source mapping reads it: every
record of the shard (GetRecords), in Lambda's record shape (the local run's converter), and the ones
the publisher's FilterCriteria in template.yaml let through."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from botocore.config import Config
from selfservice_local.resources import shared_session
from selfservice_local.stream import lambda_record, passes
from selfservice_local.template import StreamTrigger, load_template

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
REGION = "eu-north-1"
PUBLISHER = "EventPublisherFunction"


@cache
def publisher_trigger() -> StreamTrigger:
    (trigger,) = load_template(TEMPLATE).functions[PUBLISHER].streams
    return trigger


def stream_records(table_name: str) -> list[dict[str, Any]]:
    """Every record the table's stream holds, oldest first, as a Lambda stream event carries them."""
    dynamodb = shared_session().client("dynamodb", region_name=REGION)
    # botocore sends stream calls to an account-based host (<account>.streams-ddb...) that moto's
    # in-process mock does not route; the regional endpoint is the same API.
    streams = shared_session().client("dynamodbstreams", region_name=REGION,
                                      config=Config(account_id_endpoint_mode="disabled"))
    stream_arn = dynamodb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
        iterator: str | None = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            answer = streams.get_records(ShardIterator=iterator, Limit=1000)
            if not answer["Records"]:
                break
            records += [lambda_record(r, REGION, stream_arn) for r in answer["Records"]]
            iterator = answer.get("NextShardIterator")
    return records


def delivered_to_publisher(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records Lambda hands the publisher: those its FilterCriteria keep."""
    return [r for r in records if passes(publisher_trigger().filters, r)]


def stream_event(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": records}
