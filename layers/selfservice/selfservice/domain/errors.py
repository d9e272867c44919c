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
    """The payment gateway failed in a way worth retrying with the same Idempotency-Key (HTTP 503).

    `outcome_unknown` tells the payment engine what it may assume: False means the gateway answered
    that it did not charge (a processing error: nothing happened, a retry may succeed); True means no
    answer came back (a time-out), so the charge may or may not exist: look it up by its idempotency
    key (`PaymentGateway.find_charge`) or charge again with the same key, never with a new one."""

    code = "gateway_unavailable"

    def __init__(self, message: str, *, outcome_unknown: bool = False, **details: Any) -> None:
        super().__init__(message, **details)
        self.outcome_unknown = outcome_unknown


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


class TooManyPaymentMethods(RuleViolation):
    code = "too_many_payment_methods"


class IdempotencyKeyReused(InvalidInput):
    code = "idempotency_key_reused"


class IdempotencyKeyRequired(InvalidInput):
    """A request that charges money needs an Idempotency-Key header (1-100 visible characters)."""

    code = "idempotency_key_required"


class RequestInProgress(RuleViolation):
    """The first request with this Idempotency-Key is still running; retry with the same key later."""

    code = "request_in_progress"


class PaymentRefunded(RuleViolation):
    """The charge succeeded but the change it paid for could no longer be applied (the payment was
    abandoned, or the invoice closed, in the meantime): the charge was refunded in full."""

    code = "payment_refunded"


class RateLimited(DomainError):
    """Too many attempts of an action in its window (HTTP 429, with Retry-After): nothing was done.
    Details: `limit`, `window_seconds`, `retry_after` (when the window ends) and `retry_after_seconds`."""

    code = "rate_limited"
