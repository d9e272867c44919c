"""The ports the services depend on. Adapters implement them; tests use the in-memory fakes in
selfservice.adapters.memory, which the contract tests hold to the same behaviour as DynamoDB."""

from __future__ import annotations

from collections.abc import Sequence
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

# The due-work index (the period-end applier's) is split into this many partitions, so that the
# applier's reads and the index writes of many subscriptions due at the same moment spread out instead
# of landing on one hot partition. Changing it needs a backfill of every live subscription's index key.
DUE_SHARDS = 16


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

    def due_subscriptions(self, shard: int, now: datetime, limit: int, cursor: str | None) -> Page[Subscription]:
        """Subscriptions of one due-work shard (0 .. DUE_SHARDS - 1) whose due time
        (`domain.period_end.due_at`) is at or before `now`, earliest first, at most `limit` per page;
        `next_cursor` continues the page (None: nothing follows). Never ended ones. One Query of the
        index, never a scan; the index is eventually consistent, so a caller decides on what it reads
        and commits with the version check."""
        ...


# A download link lives at most this long (SPEC 2.13: at most 5 minutes); stores cap what they are asked.
MAX_DOWNLOAD_LINK_SECONDS = 300
# A download's file name goes into a response header: letters, digits, dot, dash and underscore only.
SAFE_DOWNLOAD_FILENAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"


class DocumentStore(Protocol):
    """Private documents (invoice PDFs), each written once and never replaced, handed out through
    short-lived download links. Keys are the service's: `tenants/<tenant id>/...`."""

    def put_once(self, key: str, data: bytes, content_type: str) -> bool:
        """Store `data` under `key` (encrypted at rest) unless an object is already there: then keep it,
        untouched, and return False. True when this call wrote it."""
        ...

    def exists(self, key: str) -> bool: ...

    def presigned_download(self, key: str, filename: str, expires_in: int) -> str:
        """A URL that downloads the object as an attachment named `filename`, valid for `expires_in`
        seconds (at most MAX_DOWNLOAD_LINK_SECONDS)."""
        ...


class InvoiceRenderer(Protocol):
    """An issued invoice as PDF bytes (adapters/pdf_renderer.py); the same invoice gives the same bytes."""

    def __call__(self, invoice: Invoice) -> bytes: ...


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
    # The tenant the token was made for, where the gateway knows it (the sandbox's tokeniser records it):
    # a token is a bearer credential for the card, so no other tenant may save it.
    owner: str | None = None


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


class AttemptCounter(Protocol):
    """Counters of attempts per time window, for abuse limits (services/limits.py): one conditional
    write per attempt, kept in the tenant's own partition and forgotten some time after the window."""

    def count(self, tenant_id: str, name: str, window_start: datetime, window_end: datetime, limit: int) -> bool:
        """Count one attempt of `name` in the window starting at `window_start`, unless `limit` attempts
        are counted there already. True: counted; False: the window is full and nothing was counted."""
        ...


class CardTokeniser(Protocol):
    """The sandbox gateway's tokeniser: the only code that ever sees a card number."""

    def tokenise(self, *, number: str, exp_month: int, exp_year: int, cvc: str, name: str,
                 owner: str | None = None) -> CardDetails:
        """A token for the card; `owner` (the tenant asking) is kept with it and told by `card_details`."""
        ...


@dataclass(frozen=True, slots=True)
class BusEntry:
    """One event for the bus (a PutEvents entry without the bus, which the adapter owns). `event_id`
    is the audit record's id, the same as `detail.id`: failures are matched back to records by it."""

    event_id: str
    source: str
    detail_type: str
    detail: str  # JSON text, exactly as sent
    time: datetime

    @property
    def size(self) -> int:
        """EventBridge's own measure of an entry (its "PutEvents event entry size"): 14 bytes for the
        time, then the UTF-8 bytes of source, detail-type and detail (and resources: none here)."""
        return 14 + len(self.source.encode()) + len(self.detail_type.encode()) + len(self.detail.encode())


@dataclass(frozen=True, slots=True)
class FailedEntry:
    entry: BusEntry
    code: str  # EventBridge's ErrorCode, or the error of a call that failed as a whole
    message: str


class EventPublisher(Protocol):
    """The event bus. Takes at most 10 entries per call (PutEvents' limit); returns the entries that were
    not accepted, and never raises for a failure worth retrying: a call that fails as a whole returns
    every entry it was given."""

    def publish(self, entries: Sequence[BusEntry]) -> list[FailedEntry]: ...
