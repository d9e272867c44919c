"""Attempt counters for the abuse limits (the `AttemptCounter` port; the rule is services/limits.py).

DynamoDB: one item per tenant, counter and window, in the tenant's own partition of the single table
(`PK = TENANT#<tenant id>`, `SK = LIMIT#<name>#<window start>`: outside the `A#` account collection, so
no account read ever sees it). One attempt is one `UpdateItem` that adds 1 under the condition that the
window is not full yet; a full window fails the condition and writes nothing. The item carries
`expires_at` (epoch seconds), the table's TTL attribute, so DynamoDB forgets it a day after its window.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from selfservice.adapters import dynamo_items as items

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

LIMIT_PREFIX = "LIMIT#"
ENTITY = "attempt_counter"
TTL_ATTRIBUTE = "expires_at"  # template.yaml: the table's TimeToLiveSpecification
KEEP_AFTER_WINDOW = timedelta(days=1)


def counter_sk(name: str, window_start: datetime) -> str:
    return f"{LIMIT_PREFIX}{name}#{items.format_time(window_start)}"


class DynamoAttemptCounter:
    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self._table = table_name
        self._client = client

    def count(self, tenant_id: str, name: str, window_start: datetime, window_end: datetime, limit: int) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._client.update_item(
                TableName=self._table,
                Key=items.key(items.tenant_pk(tenant_id), counter_sk(name, window_start)),
                UpdateExpression="ADD #count :one SET #entity = :entity, #expires = :expires",
                ConditionExpression="attribute_not_exists(#count) OR #count < :limit",
                ExpressionAttributeNames={"#count": "count", "#entity": "entity", "#expires": TTL_ATTRIBUTE},
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":limit": {"N": str(limit)},
                    ":entity": {"S": ENTITY},
                    ":expires": {"N": str(int((window_end + KEEP_AFTER_WINDOW).timestamp()))},
                },
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True


class MemoryAttemptCounter:
    """The in-memory fake: the same rule (count until `limit`, then refuse) without a store."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str, datetime], int] = {}
        self._lock = threading.Lock()

    def count(self, tenant_id: str, name: str, window_start: datetime, window_end: datetime, limit: int) -> bool:
        key = (tenant_id, name, window_start)
        with self._lock:
            if self._counts.get(key, 0) >= limit:
                return False
            self._counts[key] = self._counts.get(key, 0) + 1
            return True

    def counted(self, tenant_id: str, name: str, window_start: datetime) -> int:
        return self._counts.get((tenant_id, name, window_start), 0)
