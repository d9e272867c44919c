"""Use cases: one function per flow, with the ports injected through `Deps`. A change reads the
tenant's collection once, applies a pure domain rule, and commits one transaction that carries its
audit record."""

from __future__ import annotations

from dataclasses import dataclass

from selfservice.domain.catalog import Catalog
from selfservice.ports import CardTokeniser, Clock, PaymentGateway, Repository


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is acting, from the token's claims only: the tenant is never taken from a path or body."""

    tenant_id: str
    subject: str


@dataclass(frozen=True, slots=True)
class Deps:
    repo: Repository
    clock: Clock
    catalog: Catalog
    # Wired by the composition root for the functions that move money; None elsewhere.
    gateway: PaymentGateway | None = None
    tokeniser: CardTokeniser | None = None
