"""In-memory repository: the fake the unit tests run the real services against. The contract tests
(tests/integration/test_repository_contract.py) run the same assertions against it and DynamoDB."""

from __future__ import annotations

import base64
import json
import threading

from selfservice.domain.errors import ConcurrentUpdate, InvalidInput
from selfservice.domain.model import AuditEvent, BillingInfo, Subscription, Tenant, TenantState, User
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
    raise TypeError(f"not a stored entity: {type(entity).__name__}")


class InMemoryRepository:
    def __init__(self) -> None:
        self._items: dict[tuple[str, str], Entity] = {}
        self._events: dict[str, list[AuditEvent]] = {}
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
        )

    def commit(self, changeset: Changeset) -> None:
        with self._lock:
            keys = [entity_key(e) for e in changeset.writes]
            if len(set(keys)) != len(keys):
                raise ValueError("a changeset writes each item at most once")
            for entity, key in zip(changeset.writes, keys, strict=True):
                if entity_key(entity)[0] != changeset.tenant_id:
                    raise ValueError("a changeset stays inside one tenant")
                stored = self._items.get(key)
                expected = entity.version - 1
                if (stored is None and expected != 0) or (stored is not None and stored.version != expected):
                    raise ConcurrentUpdate(
                        "Someone else changed this at the same time; reload and try again.", item=key[1]
                    )
            for entity, key in zip(changeset.writes, keys, strict=True):
                self._items[key] = entity
            self._events.setdefault(changeset.tenant_id, []).extend(changeset.events)
            self.commits += 1

    def list_activity(self, tenant_id: str, limit: int, cursor: str | None) -> Page[AuditEvent]:
        with self._lock:
            events = sorted(self._events.get(tenant_id, []), key=lambda e: e.id, reverse=True)
        if cursor is not None:
            after = _decode_cursor(cursor, tenant_id)
            events = [e for e in events if e.id < after]
        page = events[:limit]
        more = len(events) > limit
        return Page(page, _encode_cursor(tenant_id, page[-1].id) if more and page else None)

    def all_events(self, tenant_id: str) -> list[AuditEvent]:
        return list(self._events.get(tenant_id, []))


def _encode_cursor(tenant_id: str, last_id: str) -> str:
    raw = json.dumps({"t": tenant_id, "k": last_id}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, tenant_id: str) -> str:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if raw["t"] != tenant_id:
            raise ValueError
        return str(raw["k"])
    except (ValueError, KeyError, TypeError):
        raise InvalidInput("The cursor is not valid.", field="cursor") from None
