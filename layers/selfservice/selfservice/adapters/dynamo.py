"""The DynamoDB repository: the `Repository` port on the single table (docs/data-model.md).

Every read of a tenant's account is one Query of its item collection; every change is one
TransactWriteItems whose Puts are conditioned on the stored version, so the loser of a race gets
ConcurrentUpdate and nothing of its change is written. The client is injected (built lazily by the
composition root), so importing this module creates no botocore client and stays cheap at cold start.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from selfservice.adapters import dynamo_items as items
from selfservice.domain.errors import ConcurrentUpdate
from selfservice.domain.invoices import Invoice
from selfservice.domain.model import AuditEvent, BillingInfo, PaymentMethod, Subscription, Tenant, TenantState, User
from selfservice.ports import Changeset, Page

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef, TransactWriteItemTypeDef

    from selfservice.adapters.dynamo_items import Item

CONCURRENT_UPDATE_MESSAGE = "Someone else changed this at the same time; reload and try again."

# Cancellation reasons that mean "someone else got there first": a failed version check, or another
# transaction on the same item in flight at the same moment.
_LOST_RACE = frozenset({"ConditionalCheckFailed", "TransactionConflict"})


class DynamoRepository:
    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self._table = table_name
        self._client = client

    def load_tenant(self, tenant_id: str) -> TenantState | None:
        query: QueryInputTypeDef = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :account)",
            "ExpressionAttributeValues": {
                ":pk": {"S": items.tenant_pk(tenant_id)},
                ":account": {"S": items.ACCOUNT_PREFIX},
            },
            # Read-your-writes: the portal shows the account right after a change, and a change should
            # not start from a copy that is already stale.
            "ConsistentRead": True,
        }
        tenant: Tenant | None = None
        billing: BillingInfo | None = None
        subscriptions: list[Subscription] = []
        users: list[User] = []
        cards: list[PaymentMethod] = []
        while True:
            response = self._client.query(**query)
            for item in response.get("Items", []):
                match items.from_item(item):
                    case Tenant() as t:
                        tenant = t
                    case BillingInfo() as b:
                        billing = b
                    case Subscription() as s:
                        subscriptions.append(s)
                    case User() as u:
                        users.append(u)
                    case PaymentMethod() as p:
                        cards.append(p)
            last_key = response.get("LastEvaluatedKey")
            if not last_key:  # only a collection above 1 MB needs a second page
                break
            query["ExclusiveStartKey"] = last_key
        if tenant is None:
            return None
        # The Query returns items in SK order, i.e. subscriptions and users sorted by id.
        return TenantState(tenant, billing, tuple(subscriptions), tuple(users), tuple(cards))

    def commit(self, changeset: Changeset) -> None:
        actions, sort_keys = self._transaction(changeset)
        if not actions:
            return
        try:
            self._client.transact_write_items(TransactItems=actions)
        except ClientError as error:
            details = _lost_race(error, sort_keys)
            if details is None:
                raise
            raise ConcurrentUpdate(CONCURRENT_UPDATE_MESSAGE, **details) from None

    def _transaction(self, changeset: Changeset) -> tuple[list[TransactWriteItemTypeDef], list[str]]:
        """The Puts of the transaction, and the sort key each one writes (in the same order)."""
        size = len(changeset.writes) + len(changeset.events) + len(changeset.numbers) + len(changeset.deletes)
        if size > items.MAX_TRANSACTION_ITEMS:
            raise ValueError(
                f"a changeset holds at most {items.MAX_TRANSACTION_ITEMS} writes and events together "
                f"(DynamoDB's transaction limit); this one holds {size}"
            )
        pk = items.tenant_pk(changeset.tenant_id)
        actions: list[TransactWriteItemTypeDef] = []
        sort_keys: list[str] = []
        for entity in changeset.writes:
            item = items.to_item(entity)
            _check_item(item, pk, sort_keys)
            if entity.version < 1:
                raise ValueError(f"version must be >= 1, not {entity.version}")
            if entity.version == 1:
                actions.append(_put_new(self._table, item))
            else:
                actions.append({"Put": {
                    "TableName": self._table,
                    "Item": item,
                    "ConditionExpression": "#v = :expected",
                    "ExpressionAttributeNames": {"#v": "version"},
                    "ExpressionAttributeValues": {":expected": {"N": str(entity.version - 1)}},
                }})
        for entity in changeset.deletes:
            item = items.to_item(entity)
            _check_item(item, pk, sort_keys)
            actions.append({"Delete": {
                "TableName": self._table,
                "Key": items.key(item[items.PK]["S"], item[items.SK]["S"]),
                "ConditionExpression": "#v = :expected",
                "ExpressionAttributeNames": {"#v": "version"},
                "ExpressionAttributeValues": {":expected": {"N": str(entity.version)}},
            }})
        for event in changeset.events:
            item = items.event_to_item(event)
            _check_item(item, pk, sort_keys)
            actions.append(_put_new(self._table, item))
        for sequence, number in changeset.numbers:
            # The counter lives outside the tenant; its check makes numbers gapless: number n is taken
            # only if n - 1 was the last one issued, in the same transaction as the invoice bearing it.
            counter = items.sequence_key(sequence) | {"last": {"N": str(number)}}
            sort_keys.append(f"{items.SEQUENCE_PREFIX}{sequence}")
            if number == 1:
                actions.append(_put_new(self._table, counter))
            else:
                actions.append({"Put": {
                    "TableName": self._table,
                    "Item": counter,
                    "ConditionExpression": "#last = :previous",
                    "ExpressionAttributeNames": {"#last": "last"},
                    "ExpressionAttributeValues": {":previous": {"N": str(number - 1)}},
                }})
        return actions, sort_keys

    def get_invoice(self, tenant_id: str, invoice_id: str) -> Invoice | None:
        response = self._client.get_item(
            TableName=self._table, Key=items.key(items.tenant_pk(tenant_id), items.invoice_sk(invoice_id)),
            ConsistentRead=True,
        )
        found = items.from_item(response["Item"]) if "Item" in response else None
        return found if isinstance(found, Invoice) else None

    def list_invoices(self, tenant_id: str, limit: int, cursor: str | None) -> Page[Invoice]:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        pk = items.tenant_pk(tenant_id)
        query: QueryInputTypeDef = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :invoices)",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":invoices": {"S": items.INVOICE_PREFIX}},
            "ScanIndexForward": False,  # invoice ids sort by issue time: newest first
            "Limit": limit + 1,
        }
        if cursor is not None:
            after = items.decode_activity_cursor(cursor, tenant_id)
            query["ExclusiveStartKey"] = items.key(pk, items.invoice_sk(after))
        response = self._client.query(**query)
        found = [i for i in (items.from_item(item) for item in response.get("Items", [])) if isinstance(i, Invoice)]
        page = found[:limit]
        more = len(found) > limit or "LastEvaluatedKey" in response
        next_cursor = items.encode_activity_cursor(tenant_id, page[-1].id) if more and page else None
        return Page(page, next_cursor)

    def last_number(self, sequence: str) -> int:
        response = self._client.get_item(
            TableName=self._table, Key=items.sequence_key(sequence), ConsistentRead=True,
        )
        item = response.get("Item")
        return int(item["last"]["N"]) if item else 0

    def due_subscriptions(self, shard: int, now: datetime, limit: int, cursor: str | None) -> Page[Subscription]:
        """One Query of the due-work index (GSI1, projection ALL): the shard's partition up to `now`."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        query: QueryInputTypeDef = {
            "TableName": self._table,
            "IndexName": items.GSI1,
            "KeyConditionExpression": "GSI1PK = :shard AND GSI1SK <= :bound",
            "ExpressionAttributeValues": {
                ":shard": {"S": items.due_partition(shard)},
                ":bound": {"S": items.due_sort_key_upper_bound(now)},
            },
            "Limit": limit,
        }
        if cursor is not None:
            query["ExclusiveStartKey"] = items.decode_due_cursor(cursor, shard)
        response = self._client.query(**query)
        found = [s for s in (items.from_item(item) for item in response.get("Items", [])) if isinstance(s, Subscription)]
        last_key = response.get("LastEvaluatedKey")
        return Page(found, items.encode_due_cursor(last_key) if last_key else None)

    def list_activity(self, tenant_id: str, limit: int, cursor: str | None) -> Page[AuditEvent]:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        pk = items.tenant_pk(tenant_id)
        query: QueryInputTypeDef = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :events)",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":events": {"S": items.EVENT_PREFIX}},
            "ScanIndexForward": False,  # event ids sort by time: newest first
            # One more than the page, so that "is there a next page?" is answered by this same Query
            # (with Limit=limit DynamoDB returns a LastEvaluatedKey even when nothing follows).
            "Limit": limit + 1,
        }
        if cursor is not None:
            after = items.decode_activity_cursor(cursor, tenant_id)
            query["ExclusiveStartKey"] = items.key(pk, items.event_sk(after))
        response = self._client.query(**query)
        found = [items.event_from_item(item) for item in response.get("Items", [])]
        page = found[:limit]
        # More follows if the extra item came back, or if DynamoDB stopped early at its 1 MB page size.
        more = len(found) > limit or "LastEvaluatedKey" in response
        next_cursor = items.encode_activity_cursor(tenant_id, page[-1].id) if more and page else None
        return Page(page, next_cursor)


def _put_new(table: str, item: Item) -> TransactWriteItemTypeDef:
    return {"Put": {"TableName": table, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}}


def _check_item(item: Item, pk: str, sort_keys: list[str]) -> None:
    """Refuse changesets DynamoDB would reject with a less helpful ValidationException; note the SK."""
    if item[items.PK]["S"] != pk:
        raise ValueError("a changeset stays inside one tenant")
    sk = item[items.SK]["S"]
    if sk in sort_keys:
        raise ValueError("a changeset writes each item at most once")
    sort_keys.append(sk)


def _lost_race(error: ClientError, sort_keys: list[str]) -> dict[str, str] | None:
    """If the error means a lost race: the details of the ConcurrentUpdate, naming the item (its SK
    without the collection prefix, as the in-memory fake names it). None for any other error."""
    response: Any = error.response
    code = response.get("Error", {}).get("Code")
    if code == "TransactionConflictException":
        return {}
    if code != "TransactionCanceledException":
        return None
    reasons = response.get("CancellationReasons") or []
    for reason, sk in zip(reasons, sort_keys, strict=False):
        if reason.get("Code") in _LOST_RACE:
            return {"item": sk.removeprefix(items.ACCOUNT_PREFIX)}
    return None
