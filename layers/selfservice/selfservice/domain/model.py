"""Domain objects. Frozen dataclasses: a change produces a new object with `version` + 1, and the store
accepts it only if the stored version is still the one it was derived from (optimistic locking)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

Edition = Literal["business", "enterprise"]
Channel = Literal["direct", "reseller"]
SubscriptionStatus = Literal["active", "past_due", "ended"]
UserStatus = Literal["active", "removed"]
ContactKind = Literal["account_manager", "reseller"]


@dataclass(frozen=True, slots=True)
class Contact:
    kind: ContactKind
    name: str
    email: str


@dataclass(frozen=True, slots=True)
class Tenant:
    id: str
    name: str
    sao_subject: str
    account_manager: Contact
    reseller: Contact | None
    created_at: datetime
    version: int = 1
    default_payment_method_id: str | None = None


@dataclass(frozen=True, slots=True)
class BillingInfo:
    tenant_id: str
    company_name: str
    email: str
    address_line1: str
    address_line2: str | None
    postal_code: str
    city: str
    region: str | None
    country: str
    vat_id: str | None
    po_reference: str | None
    updated_at: datetime
    version: int = 1


@dataclass(frozen=True, slots=True)
class User:
    tenant_id: str
    id: str
    email: str
    status: UserStatus
    assigned_at: datetime
    removed_at: datetime | None = None
    version: int = 1


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """What the SAO agreed to: the wording's version, who ticked "I understand", and when."""

    wording_version: str
    accepted_by: str
    accepted_at: datetime


@dataclass(frozen=True, slots=True)
class ScheduledReduction:
    seats: int
    effective_at: datetime
    requested_by: str
    requested_at: datetime
    acknowledgement: Acknowledgement


@dataclass(frozen=True, slots=True)
class ScheduledCancellation:
    cancel_at: datetime
    requested_by: str
    requested_at: datetime
    reason: str | None
    acknowledgement: Acknowledgement


@dataclass(frozen=True, slots=True)
class PrepaidRenewal:
    """The next term, already paid for."""

    seats: int
    period_start: datetime
    period_end: datetime
    invoice_id: str


@dataclass(frozen=True, slots=True)
class PaymentMethod:
    """A saved card: the gateway's token and what may be shown. Never the number, never the CVC."""

    tenant_id: str
    id: str
    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    name: str
    fingerprint: str
    created_at: datetime
    version: int = 1


@dataclass(frozen=True, slots=True)
class ChargeLine:
    description: str
    quantity: int
    unit_amount: int
    amount: int
    period_start: datetime | None = None
    period_end: datetime | None = None


@dataclass(frozen=True, slots=True)
class PendingPayment:
    """A payment under way, recorded on the subscription BEFORE the gateway is asked to charge.

    It is the lock that makes a second payment for the same subscription wait (409), the resume point
    for the client's retry with the same Idempotency-Key after a crash or a gateway time-out, and what
    the period-end applier reconciles: it looks the charge up at the gateway by `id` (the gateway's
    idempotency key) and completes or abandons exactly this change. It holds everything needed to issue
    the invoice the charge pays for, so completion never re-prices anything."""

    id: str
    kind: Literal["renewal", "increase", "invoice"]
    request_key: str
    payment_method_id: str
    started_at: datetime
    currency: str
    amount: int
    seats: int
    lines: tuple[ChargeLine, ...] = ()
    subtotal: int = 0
    tax_rate_bp: int = 0
    tax_amount: int = 0
    tax_note: str | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None
    anchor: datetime | None = None
    renewal_seats: int | None = None
    invoice_id: str | None = None


@dataclass(frozen=True, slots=True)
class Subscription:
    tenant_id: str
    id: str
    plan_id: str
    edition: Edition
    channel: Channel
    currency: str
    term: Literal["monthly", "annual"]
    seats: int
    status: SubscriptionStatus
    billing_anchor: datetime
    current_period_start: datetime
    current_period_end: datetime
    created_at: datetime
    managed_by: Contact | None = None
    scheduled_reduction: ScheduledReduction | None = None
    cancellation: ScheduledCancellation | None = None
    renewal: PrepaidRenewal | None = None
    ended_at: datetime | None = None
    ended_reason: str | None = None
    open_invoice_id: str | None = None
    payment_attempts: int = 0
    next_retry_at: datetime | None = None
    version: int = 1
    pending_payment: PendingPayment | None = None

    @property
    def cancel_at(self) -> datetime | None:
        return self.cancellation.cancel_at if self.cancellation else None

    @property
    def last_paid_period_end(self) -> datetime:
        return self.renewal.period_end if self.renewal else self.current_period_end

    def bump(self, **changes: Any) -> Subscription:
        return replace(self, version=self.version + 1, **changes)


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One entry of the activity history, written in the same transaction as the change it describes.
    It is also the outbox record that the stream publisher forwards to EventBridge."""

    tenant_id: str
    id: str
    type: str
    at: datetime
    actor: str
    subject_id: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    acknowledgement: Acknowledgement | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TenantState:
    """Everything the account view and a change need, read in one Query of the tenant's collection."""

    tenant: Tenant
    billing_info: BillingInfo | None
    subscriptions: tuple[Subscription, ...]
    users: tuple[User, ...]
    payment_methods: tuple[PaymentMethod, ...] = ()

    def payment_method(self, payment_method_id: str) -> PaymentMethod | None:
        return next((p for p in self.payment_methods if p.id == payment_method_id), None)

    def subscription(self, subscription_id: str) -> Subscription | None:
        return next((s for s in self.subscriptions if s.id == subscription_id), None)

    def user(self, user_id: str) -> User | None:
        return next((u for u in self.users if u.id == user_id), None)

    def licensed_subscription(self) -> Subscription | None:
        """The subscription whose seats the tenant's users occupy: the one that has not ended."""
        live = [s for s in self.subscriptions if s.status != "ended"]
        return max(live, key=lambda s: s.created_at) if live else None
