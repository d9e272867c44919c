"""Fixtures of the period-end applier's unit tests: the real services on the in-memory repository with
the sandbox gateway on its in-memory store (as in the payment engine's tests), a clock the tests move
from term end to term end, and helpers that run the applier and read what it left behind."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from selfservice.adapters.clock import ManualClock
from selfservice.adapters.sandbox_gateway import InMemorySandboxStore, SandboxGateway
from selfservice.domain.catalog import load_catalog
from selfservice.domain.invoices import Invoice
from selfservice.domain.model import AuditEvent, PaymentMethod, Subscription
from selfservice.ports import PaymentGateway
from selfservice.services import Caller, Deps
from selfservice.services import payment_methods as cards
from selfservice.services.period_end import PeriodEndSummary, run_period_end

from ..builders import TENANT_ID
from ..payments.conftest import VISA, CrashingRepository, WatchedGateway

AddCard = Callable[..., PaymentMethod]
Run = Callable[..., PeriodEndSummary]


@pytest.fixture
def repo() -> CrashingRepository:
    return CrashingRepository()


@pytest.fixture
def gateway(clock: ManualClock) -> WatchedGateway:
    return WatchedGateway(SandboxGateway(InMemorySandboxStore(), clock))


@pytest.fixture
def deps(repo: CrashingRepository, clock: ManualClock, gateway: WatchedGateway) -> Deps:
    watched: PaymentGateway = gateway
    return Deps(repo, clock, load_catalog(), gateway=watched, tokeniser=gateway.sandbox)


@pytest.fixture
def add_card(deps: Deps, caller: Caller, gateway: WatchedGateway) -> AddCard:
    """Save a card through the tokeniser and the payment-method service (the first becomes the default)."""

    def _add(number: str = VISA, *, exp_year: int = 2030, exp_month: int = 12, default: bool = False) -> PaymentMethod:
        details = gateway.sandbox.tokenise(number=number, exp_month=exp_month, exp_year=exp_year, cvc="123",
                                           name="Åsa Öberg")
        added = cards.add_payment_method(deps, caller, details.token)
        if default:
            cards.make_default_payment_method(deps, caller, added.view.card.id)
        return added.view.card

    return _add


@pytest.fixture
def run(deps: Deps, clock: ManualClock) -> Run:
    """run(at=None): the applier at `at` (the clock moves there first; it only moves forward)."""

    def _run(at: datetime | None = None, **options: object) -> PeriodEndSummary:
        if at is not None:
            assert at >= clock.now()
            clock.set(at)
        return run_period_end(deps, **options)  # type: ignore[arg-type]

    return _run


def sub_of(repo: CrashingRepository, tenant_id: str = TENANT_ID) -> Subscription:
    state = repo.load_tenant(tenant_id)
    assert state is not None
    return state.subscriptions[0]


def invoices_of(repo: CrashingRepository, tenant_id: str = TENANT_ID) -> list[Invoice]:
    """Oldest first."""
    return list(reversed(repo.list_invoices(tenant_id, 100, None).items))


def events_of(repo: CrashingRepository, tenant_id: str = TENANT_ID, *types: str) -> list[AuditEvent]:
    """The audit records in the order they were written, only `types` if given."""
    return [e for e in repo.all_events(tenant_id) if not types or e.type in types]


def types_since(repo: CrashingRepository, count: int, tenant_id: str = TENANT_ID) -> list[str]:
    return [e.type for e in repo.all_events(tenant_id)[count:]]
