"""The ports the services depend on. Adapters implement them; tests use the in-memory fakes in
selfservice.adapters.memory, which the contract tests hold to the same behaviour as DynamoDB."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from selfservice.domain.model import AuditEvent, BillingInfo, Subscription, Tenant, TenantState, User

# Every entity a change may write. Each carries `version`: the store accepts the write only if the
# stored item's version is `version - 1` (or, for version 1, if no item exists yet).
Entity = Tenant | BillingInfo | Subscription | User


class Clock(Protocol):
    def now(self) -> datetime: ...


@dataclass(slots=True)
class Changeset:
    """One atomic change of a tenant's data: every write and every audit/outbox record commit together
    or not at all."""

    tenant_id: str
    writes: list[Entity] = field(default_factory=list)
    events: list[AuditEvent] = field(default_factory=list)

    def write(self, entity: Entity) -> Changeset:
        self.writes.append(entity)
        return self

    def record(self, event: AuditEvent) -> Changeset:
        self.events.append(event)
        return self


@dataclass(frozen=True, slots=True)
class Page[T]:
    items: list[T]
    next_cursor: str | None


class Repository(Protocol):
    def load_tenant(self, tenant_id: str) -> TenantState | None:
        """The tenant's whole account collection (tenant, billing info, subscriptions, users): one Query."""
        ...

    def commit(self, changeset: Changeset) -> None:
        """One conditional transaction. Raises ConcurrentUpdate if any write's version check fails."""
        ...

    def list_activity(self, tenant_id: str, limit: int, cursor: str | None) -> Page[AuditEvent]:
        """Audit records, newest first. Raises InvalidInput for a cursor that is not this tenant's."""
        ...
