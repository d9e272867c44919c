"""Typed domain errors. They carry a stable machine code and details, never an HTTP status:
the edge (selfservice.http.errors) maps each family to a status."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base class. `code` is the stable identifier clients switch on."""

    code = "domain_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    code = "not_found"


class InvalidInput(DomainError):
    """Input that passed the schema but is still wrong (bad VAT ID, unknown plan ...)."""

    code = "invalid_input"


class RuleViolation(DomainError):
    """A business rule or a state conflict refuses the change (HTTP 409)."""


class ConcurrentUpdate(RuleViolation):
    code = "concurrent_update"


class AcknowledgementRequired(RuleViolation):
    code = "acknowledgement_required"


class BelowActiveUsers(RuleViolation):
    code = "below_active_users"


class SeatLimitExceeded(RuleViolation):
    code = "seat_limit_exceeded"


class InvalidSeatCount(RuleViolation):
    code = "invalid_seat_count"


class NoFreeSeats(RuleViolation):
    code = "no_free_seats"


class SeatReductionPending(RuleViolation):
    code = "seat_reduction_pending"


class RenewalAlreadyPaid(RuleViolation):
    code = "renewal_already_paid"


class AlreadyRenewed(RuleViolation):
    code = "already_renewed"


class CancellationScheduled(RuleViolation):
    code = "cancellation_scheduled"


class NothingScheduled(RuleViolation):
    code = "nothing_scheduled"


class ChangeAlreadyEffective(RuleViolation):
    code = "change_already_effective"


class PeriodClosing(RuleViolation):
    code = "period_closing"


class SubscriptionNotActive(RuleViolation):
    code = "subscription_not_active"


class InvoiceOpen(RuleViolation):
    code = "invoice_open"


class ManagedByAccountManager(RuleViolation):
    code = "managed_by_account_manager"


class ManagedByReseller(RuleViolation):
    code = "managed_by_reseller"


class UserExists(RuleViolation):
    code = "user_exists"


class UserAlreadyRemoved(RuleViolation):
    code = "user_already_removed"


class NoActiveSubscription(RuleViolation):
    code = "no_active_subscription"


class TenantExists(RuleViolation):
    code = "tenant_exists"


class PaymentFailed(DomainError):
    """The card was declined: nothing was charged and nothing changed (HTTP 402)."""

    code = "card_declined"

    def __init__(self, message: str, *, code: str = "card_declined", **details: Any) -> None:
        super().__init__(message, **details)
        self.code = code


class GatewayUnavailable(DomainError):
    """The payment gateway failed in a way worth retrying with the same Idempotency-Key (HTTP 503)."""

    code = "gateway_unavailable"


class PaymentInProgress(RuleViolation):
    code = "payment_in_progress"


class PriceChanged(RuleViolation):
    code = "price_changed"


class DefaultPaymentMethod(RuleViolation):
    code = "default_payment_method"


class CardExpired(RuleViolation):
    code = "card_expired"


class NoPaymentMethod(RuleViolation):
    code = "no_payment_method"


class IdempotencyKeyReused(InvalidInput):
    code = "idempotency_key_reused"
