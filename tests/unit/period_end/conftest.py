"""Fixtures of the period-end applier's unit tests: the real services on the in-memory repository with
the sandbox gateway on its in-memory store (as in the payment engine's tests), a clock the tests move
from term end to term end, and helpers that run the applier and read what it left behind."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from selfservice.adapters.clock import ManualClock
from selfservice.domain.invoices import Invoice
from selfservice.domain.model import AuditEvent
from selfservice.services import Deps
from selfservice.services.period_end import PeriodEndSummary, run_period_end

from ..builders import TENANT_ID
from ..payments import conftest as payments
from ..payments.conftest import CrashingRepository

# The payment engine's fixtures, shared: the crashing repository, the watched sandbox gateway, Deps on
# them, and add_card.
repo = payments.repo
gateway = payments.gateway
deps = payments.deps
add_card = payments.add_card
AddCard = payments.AddCard
sub_of = payments.stored_sub

Run = Callable[..., PeriodEndSummary]


@pytest.fixture
def run(deps: Deps, clock: ManualClock) -> Run:
    """run(at=None): the applier at `at` (the clock moves there first; it only moves forward)."""

    def _run(at: datetime | None = None, **options: object) -> PeriodEndSummary:
        if at is not None:
            assert at >= clock.now()
            clock.set(at)
        return run_period_end(deps, **options)  # type: ignore[arg-type]

    return _run


def invoices_of(repo: CrashingRepository, tenant_id: str = TENANT_ID) -> list[Invoice]:
    """Oldest first."""
    return list(reversed(repo.list_invoices(tenant_id, 100, None).items))


def events_of(repo: CrashingRepository, tenant_id: str = TENANT_ID, *types: str) -> list[AuditEvent]:
    """The audit records in the order they were written, only `types` if given."""
    return [e for e in repo.all_events(tenant_id) if not types or e.type in types]


def types_since(repo: CrashingRepository, count: int, tenant_id: str = TENANT_ID) -> list[str]:
    return [e.type for e in repo.all_events(tenant_id)[count:]]
