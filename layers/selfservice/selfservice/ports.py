"""The ports the services depend on. Adapters implement them; tests use the in-memory fakes in
selfservice.adapters.memory, which the contract tests hold to the same behaviour as DynamoDB."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from selfservice.domain.invoices import Invoice
from selfservice.domain.model import (
    AuditEvent,
    BillingInfo,
    PaymentMethod,
    Subscription,
    Tenant,
    TenantState,
    User,
)

# Every entity a change may write. Each carries `version`: the store accepts the write only if the
# stored item's version is `version - 1` (or, for version 1, if no item exists yet).
Entity = Tenant | BillingInfo | Subscription | User | PaymentMethod | Invoice

# The gapless invoice-number sequence (one for the seller, across tenants).
INVOICE_SEQUENCE = "invoice"


class Clock(Protocol):
    def now(self) -> datetime: ...


@dataclass(slots=True)
class Changeset:
    """One atomic change of a tenant's data: every write and every audit/outbox record commit together
    or not at all."""

    tenant_id: str
    writes: list[Entity] = field(default_factory=list)
    events: list[AuditEvent] = field(default_factory=list)
    # Sequence numbers taken by this change: (sequence name, number). The store accepts the change only
    # if the sequence's last number is still number - 1, so numbers are consumed in order, never twice
    # and never skipped, and only by a change that commits.
    numbers: list[tuple[str, int]] = field(default_factory=list)
    # Entities removed by this change, each conditioned on its stored version being `version`.
    deletes: list[Entity] = field(default_factory=list)

    def write(self, entity: Entity) -> Changeset:
        self.writes.append(entity)
        return self

    def record(self, event: AuditEvent) -> Changeset:
        self.events.append(event)
        return self

    def delete(self, entity: Entity) -> Changeset:
        self.deletes.append(entity)
        return self

    def take_number(self, sequence: str, number: int) -> Changeset:
        self.numbers.append((sequence, number))
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

    def get_invoice(self, tenant_id: str, invoice_id: str) -> Invoice | None:
        """One GetItem, keyed by the tenant: another tenant's invoice is simply not found."""
        ...

    def list_invoices(self, tenant_id: str, limit: int, cursor: str | None) -> Page[Invoice]:
        """Newest first (invoice ids sort by issue time); cursor as for activity."""
        ...

    def last_number(self, sequence: str) -> int:
        """The last number the sequence issued (0 before the first); a strongly consistent read."""
        ...


@dataclass(frozen=True, slots=True)
class CardDetails:
    """What the gateway tells about a token: never the number, never the CVC."""

    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    name: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class Charge:
    """The outcome of a charge, as the gateway stored it under the idempotency key."""

    id: str
    idempotency_key: str
    amount: int
    currency: str
    status: Literal["succeeded", "declined"]
    decline_code: str | None
    created_at: datetime


class PaymentGateway(Protocol):
    """The card processor. Declines come back as a Charge with status "declined"; a failure worth
    retrying raises GatewayUnavailable. The same idempotency key never charges twice: it returns the
    first outcome (and refuses a different amount or currency under the same key)."""

    def card_details(self, token: str) -> CardDetails:
        """Raises InvalidInput for a token the gateway does not know."""
        ...

    def charge(self, *, token: str, amount: int, currency: str, idempotency_key: str,
               description: str) -> Charge: ...

    def find_charge(self, idempotency_key: str) -> Charge | None: ...

    def refund(self, charge_id: str, *, idempotency_key: str) -> str:
        """Refunds a succeeded charge in full; returns the refund id."""
        ...


class CardTokeniser(Protocol):
    """The sandbox gateway's tokeniser: the only code that ever sees a card number."""

    def tokenise(self, *, number: str, exp_month: int, exp_year: int, cvc: str, name: str) -> CardDetails: ...
