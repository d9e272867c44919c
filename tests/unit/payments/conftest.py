"""Fixtures of the payment engine's unit tests: the real services on the in-memory repository, with the
sandbox gateway on its in-memory store (the adapter the functions use, so the fake cannot drift), a
gateway wrapper that lets a test act while a charge is under way, and a repository that can crash once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from selfservice.adapters.clock import ManualClock
from selfservice.adapters.memory import InMemoryRepository
from selfservice.adapters.sandbox_gateway import InMemorySandboxStore, SandboxGateway
from selfservice.domain.catalog import load_catalog
from selfservice.domain.invoices import Invoice
from selfservice.domain.model import PaymentMethod, Subscription
from selfservice.ports import INVOICE_SEQUENCE, Changeset, Charge, PaymentGateway
from selfservice.services import Caller, Deps, payments
from selfservice.services import payment_methods as cards

from ..builders import TENANT_ID

VISA = "4242 4242 4242 4242"
DECLINED = "4000 0000 0000 0341"  # every charge declined: card_declined
NO_FUNDS = "4000 0000 0000 9995"  # every charge declined: insufficient_funds
PROCESSING_ERROR = "4000 0000 0000 0119"  # every charge fails with a retryable processing error


class CrashingRepository(InMemoryRepository):
    """Fails the next `crashes` commits that take an invoice number (the completion of a payment), as a
    Lambda killed between the gateway's answer and the store's commit would."""

    def __init__(self) -> None:
        super().__init__()
        self.crashes = 0

    def commit(self, changeset: Changeset) -> None:
        if self.crashes and (changeset.numbers or any(isinstance(w, Invoice) for w in changeset.writes)):
            self.crashes -= 1
            raise RuntimeError("the function crashed before the commit")
        super().commit(changeset)


@dataclass
class WatchedGateway:
    """The sandbox gateway, with `during_charge` run inside the next charge (before the sandbox charges),
    as a concurrent request would run while this one waits for the card processor."""

    sandbox: SandboxGateway
    during_charge: list[Callable[[], object]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)

    def card_details(self, token: str) -> Any:
        return self.sandbox.card_details(token)

    def charge(self, *, token: str, amount: int, currency: str, idempotency_key: str, description: str) -> Charge:
        self.calls.append(f"charge {idempotency_key}")
        if self.during_charge:
            self.during_charge.pop(0)()
        return self.sandbox.charge(token=token, amount=amount, currency=currency, idempotency_key=idempotency_key,
                                   description=description)

    def find_charge(self, idempotency_key: str) -> Charge | None:
        self.calls.append(f"find {idempotency_key}")
        return self.sandbox.find_charge(idempotency_key)

    def refund(self, charge_id: str, *, idempotency_key: str) -> str:
        self.calls.append(f"refund {charge_id}")
        return self.sandbox.refund(charge_id, idempotency_key=idempotency_key)

    def tokenise(self, **details: Any) -> Any:
        return self.sandbox.tokenise(**details)

    @property
    def charged(self) -> list[Charge]:
        """Charges the card processor actually made (a replay under the same key is not one)."""
        return self.sandbox.charged


@pytest.fixture
def repo() -> CrashingRepository:
    return CrashingRepository()


@pytest.fixture
def gateway(clock: ManualClock) -> WatchedGateway:
    return WatchedGateway(SandboxGateway(InMemorySandboxStore(), clock))


@pytest.fixture
def deps(repo: InMemoryRepository, clock: ManualClock, gateway: WatchedGateway) -> Deps:
    watched: PaymentGateway = gateway
    return Deps(repo, clock, load_catalog(), gateway=watched, tokeniser=gateway.sandbox)


AddCard = Callable[..., PaymentMethod]


@pytest.fixture
def add_card(deps: Deps, caller: Caller, gateway: WatchedGateway) -> AddCard:
    """Save a card through the tokeniser and the payment-method service (the first becomes the default)."""

    def _add(number: str = VISA, *, exp_year: int = 2030, exp_month: int = 12, caller_: Caller | None = None,
             default: bool = False) -> PaymentMethod:
        who = caller_ or caller
        cvc = "1234" if number.startswith("37") else "123"  # American Express has four digits
        details = gateway.sandbox.tokenise(number=number, exp_month=exp_month, exp_year=exp_year, cvc=cvc,
                                           name="Åsa Öberg")
        added = cards.add_payment_method(deps, who, details.token)
        if default:
            cards.make_default_payment_method(deps, who, added.view.card.id)
        return added.view.card

    return _add


def stored_sub(repo: InMemoryRepository, tenant_id: str = TENANT_ID) -> Subscription:
    state = repo.load_tenant(tenant_id)
    assert state is not None
    return state.subscriptions[0]


def last_number(repo: InMemoryRepository) -> int:
    return repo.last_number(INVOICE_SEQUENCE)


def request(key: str = "key-1", seats: int | None = 12, expected_total: int | None = None,
            payment_method_id: str | None = None) -> payments.PaymentRequest:
    return payments.PaymentRequest(key, payment_method_id, seats, expected_total)
