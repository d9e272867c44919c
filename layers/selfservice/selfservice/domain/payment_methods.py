"""Rules of saved cards (SPEC 2.10): pure, the clock's `now` passed in.

- Expired cards cannot be added, nor made the default.
- The same card (the gateway's fingerprint) is saved once; adding it again returns the saved one.
- The first card becomes the default; the default cannot be removed (set another default first).
"""

from __future__ import annotations

from datetime import datetime

from selfservice.domain.cards import is_expired
from selfservice.domain.errors import CardExpired, DefaultPaymentMethod, TooManyPaymentMethods
from selfservice.domain.model import PaymentMethod, Tenant

# Cards live in the account collection, read by every flow's one Query: keep it small.
MAX_PAYMENT_METHODS = 20


def card_expired(card: PaymentMethod, now: datetime) -> bool:
    return is_expired(card.exp_month, card.exp_year, now)


def refuse_expired(exp_month: int, exp_year: int, now: datetime) -> None:
    if is_expired(exp_month, exp_year, now):
        raise CardExpired("The card has expired.", exp_month=exp_month, exp_year=exp_year)


def saved_copy(cards: tuple[PaymentMethod, ...], fingerprint: str) -> PaymentMethod | None:
    """The saved card with this fingerprint: the same card number, whatever its token or expiry."""
    return next((card for card in cards if card.fingerprint == fingerprint), None)


def refuse_more_than_allowed(cards: tuple[PaymentMethod, ...]) -> None:
    if len(cards) >= MAX_PAYMENT_METHODS:
        raise TooManyPaymentMethods(
            f"At most {MAX_PAYMENT_METHODS} cards can be saved; remove one first.", limit=MAX_PAYMENT_METHODS
        )


def needs_default(tenant: Tenant, cards: tuple[PaymentMethod, ...]) -> bool:
    """Whether a card added now becomes the default: when no saved card is the default."""
    default = tenant.default_payment_method_id
    return default is None or all(card.id != default for card in cards)


def refuse_removing_default(tenant: Tenant, card: PaymentMethod) -> None:
    if tenant.default_payment_method_id == card.id:
        raise DefaultPaymentMethod(
            "This card is the default payment method; set another default first.", payment_method_id=card.id
        )
