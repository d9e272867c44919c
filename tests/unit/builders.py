"""Plain builders of domain objects and inputs, shared by the unit tests (fixtures live in conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from selfservice.domain.catalog import Plan, load_catalog
from selfservice.domain.model import (
    BillingInfo,
    Contact,
    PrepaidRenewal,
    Subscription,
    User,
)
from selfservice.domain.terms import utc
from selfservice.services.account import BillingInfoInput
from selfservice.services.provisioning import Provisioned

# What the `provision` and `set_subscription` fixtures return (see conftest.py).
Provision = Callable[..., Provisioned]
SetSubscription = Callable[..., Subscription]

# The moment every test starts at: inside the term 2026-03-01 .. 2026-04-01 (31 days).
NOW = utc(2026, 3, 10, 9, 0, 0)
TERM_START = utc(2026, 3, 1)
TERM_END = utc(2026, 4, 1)

SAO = "sao-subject-1"
TENANT_ID = "ten_acme"
ACCOUNT_MANAGER = Contact("account_manager", "Astrid Manager", "astrid@nordlys.example")
RESELLER = Contact("reseller", "Fjord Resellers AS", "sales@fjord.example")


def billing_input(country: str = "SE", vat_id: str | None = None, **overrides: Any) -> BillingInfoInput:
    fields: dict[str, Any] = {
        "company_name": "Acme AB", "email": "Billing@Acme.example ", "address_line1": "Storgatan 1",
        "address_line2": None, "postal_code": "111 22", "city": "Stockholm", "region": None,
        "country": country, "vat_id": vat_id, "po_reference": None,
    }
    fields.update(overrides)
    return BillingInfoInput(**fields)


def plan(plan_id: str) -> Plan:
    return load_catalog().plan(plan_id)


def make_user(email: str, *, removed_at: datetime | None = None, user_id: str | None = None) -> User:
    return User(TENANT_ID, user_id or f"usr_{email.split('@')[0]}", email,
                "removed" if removed_at else "active", NOW - timedelta(days=30), removed_at)


def make_users(active: int, removed_at: tuple[datetime, ...] = ()) -> tuple[User, ...]:
    """`active` active users, plus one removed user per moment in `removed_at`."""
    users = [make_user(f"u{i}@acme.example") for i in range(active)]
    users += [make_user(f"r{i}@acme.example", removed_at=at) for i, at in enumerate(removed_at)]
    return tuple(users)


def make_subscription(plan_id: str = "business-monthly-eur", seats: int = 10, *,
                      start: datetime = TERM_START, end: datetime = TERM_END,
                      channel: str = "direct", managed_by: Contact | None = None,
                      **changes: Any) -> Subscription:
    p = plan(plan_id)
    if managed_by is None and p.edition == "enterprise":
        managed_by = ACCOUNT_MANAGER
    if managed_by is None and channel == "reseller":
        managed_by = RESELLER
    sub = Subscription(
        TENANT_ID, "sub_1", p.id, p.edition, channel, p.currency, p.term, seats,  # type: ignore[arg-type]
        "active", start, start, end, start - timedelta(days=1), managed_by,
    )
    return replace(sub, **changes)


NEXT_TERM_END = utc(2026, 5, 1)


def prepaid(seats: int, start: datetime = TERM_END, end: datetime = NEXT_TERM_END) -> PrepaidRenewal:
    return PrepaidRenewal(seats, start, end, "inv_renewal")


def make_billing(country: str | None = "SE", vat_id: str | None = None) -> BillingInfo | None:
    if country is None:
        return None
    return BillingInfo(TENANT_ID, "Acme", "billing@acme.example", "Street 1", None, "12345", "City", None,
                       country, vat_id, None, NOW)
