"""In-memory repository: the fake the unit tests run the real services against. The contract tests
(tests/integration/test_repository_contract.py) run the same assertions against it and DynamoDB.

It shares with the DynamoDB adapter what must not drift: the activity cursor format, the transaction
size limit, the audit record translation (events are stored as DynamoDB would return them), and what
the due-work index holds under which key."""

from __future__ import annotations

import threading
from datetime import datetime

from selfservice.adapters.dynamo_items import (
    GSI1PK,
    GSI1SK,
    MAX_TRANSACTION_ITEMS,
    PK,
    SK,
    decode_activity_cursor,
    decode_due_cursor,
    due_partition,
    due_sort_key_upper_bound,
    encode_activity_cursor,
    encode_due_cursor,
    event_from_item,
    event_to_item,
    from_item,
    to_item,
)
from selfservice.domain.errors import ConcurrentUpdate
from selfservice.domain.invoices import Invoice
from selfservice.domain.model import AuditEvent, BillingInfo, PaymentMethod, Subscription, Tenant, TenantState, User
from selfservice.ports import Changeset, Entity, Page


def entity_key(entity: Entity) -> tuple[str, str]:
    match entity:
        case Tenant():
            return entity.id, "TENANT"
        case BillingInfo():
            return entity.tenant_id, "BILLING"
        case Subscription():
            return entity.tenant_id, f"SUB#{entity.id}"
        case User():
            return entity.tenant_id, f"USER#{entity.id}"
        case PaymentMethod():
            return entity.tenant_id, f"CARD#{entity.id}"
        case Invoice():
            return entity.tenant_id, f"~INVOICE#{entity.id}"  # outside the account collection
    raise TypeError(f"not a stored entity: {type(entity).__name__}")


class InMemoryRepository:
    def __init__(self) -> None:
        self._items: dict[tuple[str, str], Entity] = {}
        self._events: dict[str, list[AuditEvent]] = {}
        self._event_ids: dict[str, set[str]] = {}
        self._sequences: dict[str, int] = {}
        self._lock = threading.Lock()
        self.commits = 0

    def load_tenant(self, tenant_id: str) -> TenantState | None:
        with self._lock:
            tenant = self._items.get((tenant_id, "TENANT"))
            if not isinstance(tenant, Tenant):
                return None
            mine = [e for (tid, _sk), e in sorted(self._items.items(), key=lambda kv: kv[0]) if tid == tenant_id]
        billing = next((e for e in mine if isinstance(e, BillingInfo)), None)
        return TenantState(
            tenant,
            billing,
            tuple(e for e in mine if isinstance(e, Subscription)),
            tuple(e for e in mine if isinstance(e, User)),
            tuple(e for e in mine if isinstance(e, PaymentMethod)),
        )

    def commit(self, changeset: Changeset) -> None:
        size = len(changeset.writes) + len(changeset.events) + len(changeset.numbers) + len(changeset.deletes)
        if size > MAX_TRANSACTION_ITEMS:
            raise ValueError(
                f"a changeset holds at most {MAX_TRANSACTION_ITEMS} writes and events together "
                f"(DynamoDB's transaction limit); this one holds {size}"
            )
        keys = [entity_key(e) for e in changeset.writes]
        delete_keys = [entity_key(e) for e in changeset.deletes]
        event_ids = [e.id for e in changeset.events]
        if any(tid != changeset.tenant_id for tid, _ in keys) or any(
            e.tenant_id != changeset.tenant_id for e in changeset.events
        ):
            raise ValueError("a changeset stays inside one tenant")
        if any(tid != changeset.tenant_id for tid, _ in delete_keys):
            raise ValueError("a changeset stays inside one tenant")
        all_keys = keys + delete_keys
        if len(set(all_keys)) != len(all_keys) or len(set(event_ids)) != len(event_ids):
            raise ValueError("a changeset writes each item at most once")
        if any(e.version < 1 for e in changeset.writes):
            raise ValueError("version must be >= 1")
        # Keep what DynamoDB would store and return: this also refuses what it could not store (naive
        # datetimes, non-JSON audit payloads), so a unit test cannot pass on data production rejects.
        writes = [from_item(to_item(e)) for e in changeset.writes]
        events = [event_from_item(event_to_item(e)) for e in changeset.events]
        with self._lock:
            for entity, key in zip(changeset.writes, keys, strict=True):
                stored = self._items.get(key)
                expected = entity.version - 1
                if (stored is None and expected != 0) or (stored is not None and stored.version != expected):
                    raise ConcurrentUpdate(
                        "Someone else changed this at the same time; reload and try again.", item=key[1]
                    )
            for entity, key in zip(changeset.deletes, delete_keys, strict=True):
                stored = self._items.get(key)
                if stored is None or stored.version != entity.version:
                    raise ConcurrentUpdate(
                        "Someone else changed this at the same time; reload and try again.", item=key[1]
                    )
            for sequence, number in changeset.numbers:
                if self._sequences.get(sequence, 0) != number - 1:
                    raise ConcurrentUpdate(
                        "Someone else changed this at the same time; reload and try again.",
                        item=f"SEQ#{sequence}",
                    )
            recorded = self._event_ids.setdefault(changeset.tenant_id, set())
            for event_id in event_ids:
                if event_id in recorded:
                    raise ConcurrentUpdate(
                        "Someone else changed this at the same time; reload and try again.",
                        item=f"EVENT#{event_id}",
                    )
            for stored_entity, key in zip(writes, keys, strict=True):
                assert stored_entity is not None
                self._items[key] = stored_entity
            for key in delete_keys:
                del self._items[key]
            self._events.setdefault(changeset.tenant_id, []).extend(events)
            recorded.update(event_ids)
            for sequence, number in changeset.numbers:
                self._sequences[sequence] = number
            self.commits += 1

    def list_activity(self, tenant_id: str, limit: int, cursor: str | None) -> Page[AuditEvent]:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        after = decode_activity_cursor(cursor, tenant_id) if cursor is not None else None
        with self._lock:
            events = sorted(self._events.get(tenant_id, []), key=lambda e: e.id, reverse=True)
        if after is not None:
            events = [e for e in events if e.id < after]
        page = events[:limit]
        more = len(events) > limit
        return Page(page, encode_activity_cursor(tenant_id, page[-1].id) if more and page else None)

    def get_invoice(self, tenant_id: str, invoice_id: str) -> Invoice | None:
        with self._lock:
            found = self._items.get((tenant_id, f"~INVOICE#{invoice_id}"))
        return found if isinstance(found, Invoice) else None

    def list_invoices(self, tenant_id: str, limit: int, cursor: str | None) -> Page[Invoice]:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        after = decode_activity_cursor(cursor, tenant_id) if cursor is not None else None
        with self._lock:
            invoices = sorted(
                (e for (tid, _sk), e in self._items.items() if tid == tenant_id and isinstance(e, Invoice)),
                key=lambda i: i.id, reverse=True,
            )
        if after is not None:
            invoices = [i for i in invoices if i.id < after]
        page = invoices[:limit]
        more = len(invoices) > limit
        return Page(page, encode_activity_cursor(tenant_id, page[-1].id) if more and page else None)

    def last_number(self, sequence: str) -> int:
        with self._lock:
            return self._sequences.get(sequence, 0)

    def due_subscriptions(self, shard: int, now: datetime, limit: int, cursor: str | None) -> Page[Subscription]:
        """What the due-work index holds (adapters/dynamo_items.py decides what is in it and under which
        key): live subscriptions of the shard due at or before `now`, in index order."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        bound = due_sort_key_upper_bound(now)
        after = None
        if cursor is not None:
            start = decode_due_cursor(cursor, shard)
            after = (start[GSI1SK]["S"], start[PK]["S"], start[SK]["S"])
        with self._lock:
            subscriptions = [e for e in self._items.values() if isinstance(e, Subscription)]
        indexed = []  # (index sort key, table key): the index's order, ties broken by the table key
        for sub in subscriptions:
            item = to_item(sub)
            if item.get(GSI1PK, {}).get("S") == due_partition(shard):
                position = (item[GSI1SK]["S"], item[PK]["S"], item[SK]["S"])
                if position[0] <= bound and (after is None or position > after):
                    indexed.append((position, item, sub))
        indexed.sort(key=lambda found: found[0])
        page = indexed[:limit]
        more = len(indexed) > limit
        return Page([sub for _position, _item, sub in page], encode_due_cursor(page[-1][1]) if more else None)

    def all_events(self, tenant_id: str) -> list[AuditEvent]:
        return list(self._events.get(tenant_id, []))
