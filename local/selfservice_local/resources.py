"""Create the template's stateful resources (DynamoDB tables, S3 buckets, EventBridge buses, SQS queues) in an AWS
emulation: moto's in-process `mock_aws` for the tests, a moto server for the local run.

Definitions come from template.yaml itself, so the tests and the local run use the table the stack
deploys (keys, GSIs, stream, TTL), not a copy that could drift. What an emulation cannot mean is left
out: a table's KMS encryption (moto would generate a key per table, per test) and throughput.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError
from cfnlint.decode.cfn_yaml import load  # type: ignore[import-untyped]

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

NAME_PREFIX = "selfservice-"

# Settings (docs/architecture.md) -> the logical id of the resource they name.
ENVIRONMENT = {
    "TABLE_NAME": "Table",
    "IDEMPOTENCY_TABLE_NAME": "IdempotencyTable",
    "INVOICE_BUCKET": "InvoiceBucket",
    "EVENT_BUS_NAME": "EventBus",
}

_TABLE = "AWS::DynamoDB::Table"
_BUCKET = "AWS::S3::Bucket"
_BUS = "AWS::Events::EventBus"
_QUEUE = "AWS::SQS::Queue"
_NAME_PROPERTY = {_TABLE: "TableName", _BUCKET: "BucketName", _BUS: "Name", _QUEUE: "QueueName"}


def create_resources_from_template(
    template_path: str | Path = "template.yaml", *, endpoint_url: str | None = None, region: str = "eu-north-1"
) -> dict[str, str]:
    """Create every table, bucket, bus and queue of the template; returns logical id -> physical name.
    Resources that already exist (a restarted local run on the same moto server) are kept."""
    resources: dict[str, Any] = _plain(load(str(template_path))).get("Resources", {})
    key_id, secret = _credentials(endpoint_url)
    options: dict[str, Any] = {"region_name": region, "endpoint_url": endpoint_url,
                               "aws_access_key_id": key_id, "aws_secret_access_key": secret}
    dynamodb: DynamoDBClient | None = None
    s3: S3Client | None = None
    events: EventBridgeClient | None = None
    sqs: SQSClient | None = None
    created: dict[str, str] = {}
    for logical_id, resource in resources.items():
        kind = resource.get("Type")
        if kind not in _NAME_PROPERTY:
            continue
        properties: dict[str, Any] = resource.get("Properties") or {}
        name = physical_name(logical_id, properties.get(_NAME_PROPERTY[kind]))
        if kind == _TABLE:
            dynamodb = dynamodb or shared_session().client("dynamodb", **options)
            _create_table(dynamodb, name, properties)
        elif kind == _BUCKET:
            s3 = s3 or shared_session().client("s3", **options)
            _create_bucket(s3, name, properties, region)
        elif kind == _BUS:
            events = events or shared_session().client("events", **options)
            _create_bus(events, name)
        else:
            sqs = sqs or shared_session().client("sqs", **options)
            sqs.create_queue(QueueName=name)  # idempotent for the same name and attributes
        created[logical_id] = name
    return created


def environment_for(resources: Mapping[str, str]) -> dict[str, str]:
    """The settings that name the created resources, for those the template has."""
    return {variable: resources[logical] for variable, logical in ENVIRONMENT.items() if logical in resources}


def physical_name(logical_id: str, explicit: object) -> str:
    """The template's own name if it is a plain string; otherwise (absent, or an intrinsic such as
    !Sub "${AWS::StackName}-...") a stable local one. Lower case, since bucket names must be."""
    if isinstance(explicit, str) and explicit:
        return explicit
    return f"{NAME_PREFIX}{logical_id.lower()}"


@functools.cache
def shared_session() -> boto3.session.Session:
    """One session for the process: it keeps the service models it has read, where a fresh session (and
    moto resets boto3's default one for every test) reads them from disk again (~50 ms per client)."""
    return boto3.session.Session()


def _credentials(endpoint_url: str | None) -> tuple[str | None, str | None]:
    # A moto server accepts any credentials; give boto3 some if the environment has none, so the local
    # run never picks up (or needs) a developer's real ones.
    if endpoint_url is None or os.environ.get("AWS_ACCESS_KEY_ID"):
        return None, None
    return "testing", "testing"


def _plain(node: Any) -> Any:
    """cfn-lint's str_node/dict_node/list_node -> plain str/dict/list, which botocore validates happily."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node


def _enabled(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _create_table(client: DynamoDBClient, name: str, properties: Mapping[str, Any]) -> None:
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": properties["KeySchema"],
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "BillingMode": "PAY_PER_REQUEST",  # on-demand, as deployed: no throughput to configure
    }
    indexes = [
        {key: index[key] for key in ("IndexName", "KeySchema", "Projection") if key in index}
        for index in properties.get("GlobalSecondaryIndexes", [])
    ]
    if indexes:
        request["GlobalSecondaryIndexes"] = indexes
    local_indexes = [
        {key: index[key] for key in ("IndexName", "KeySchema", "Projection") if key in index}
        for index in properties.get("LocalSecondaryIndexes", [])
    ]
    if local_indexes:
        request["LocalSecondaryIndexes"] = local_indexes
    stream = properties.get("StreamSpecification")
    if stream and isinstance(stream.get("StreamViewType"), str):
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    try:
        client.create_table(**request)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceInUseException":
            raise
        return
    ttl = properties.get("TimeToLiveSpecification")
    if ttl and _enabled(ttl.get("Enabled")) and isinstance(ttl.get("AttributeName"), str):
        client.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True}
        )
    pitr = properties.get("PointInTimeRecoverySpecification")
    if pitr and _enabled(pitr.get("PointInTimeRecoveryEnabled")):
        client.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )


def _create_bucket(client: S3Client, name: str, properties: Mapping[str, Any], region: str) -> None:
    try:
        if region == "us-east-1":  # the one region that refuses an explicit LocationConstraint
            client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=_enabled(properties.get("ObjectLockEnabled")))
        else:
            client.create_bucket(
                Bucket=name,
                CreateBucketConfiguration={"LocationConstraint": region},  # type: ignore[typeddict-item]
                ObjectLockEnabledForBucket=_enabled(properties.get("ObjectLockEnabled")),
            )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
    # Encrypted at rest and private, whatever the template says about keys the emulation cannot hold.
    client.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    block = properties.get("PublicAccessBlockConfiguration")
    flags = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
    settings = {flag: _enabled(block[flag]) if isinstance(block, dict) and flag in block else True for flag in flags}
    client.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": settings["BlockPublicAcls"],
            "IgnorePublicAcls": settings["IgnorePublicAcls"],
            "BlockPublicPolicy": settings["BlockPublicPolicy"],
            "RestrictPublicBuckets": settings["RestrictPublicBuckets"],
        },
    )
    lock = properties.get("ObjectLockConfiguration")
    if _enabled(properties.get("ObjectLockEnabled")) and isinstance(lock, dict) and "Rule" in lock:
        client.put_object_lock_configuration(
            Bucket=name, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": lock["Rule"]}
        )
    versioning = properties.get("VersioningConfiguration")
    if isinstance(versioning, dict) and versioning.get("Status") in ("Enabled", "Suspended"):
        client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning["Status"]})


def _create_bus(client: EventBridgeClient, name: str) -> None:
    try:
        client.create_event_bus(Name=name)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceAlreadyExistsException":
            raise
