"""Domain and service objects -> the JSON shapes of the API (SPEC 3, documented in `schemas.py`).

An explicit translation, field by field: renaming a domain attribute never silently changes the API.
Times are ISO-8601 in UTC with a Z; amounts are integers in minor units.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from selfservice.domain.model import Acknowledgement, AuditEvent, BillingInfo, Contact, Tenant, User
from selfservice.domain.quotes import Line, Quote
from selfservice.domain.terms import iso, parse_iso
from selfservice.domain.wording import ALL_WORDINGS, Wording
from selfservice.ports import Page
from selfservice.services.account import AccountView
from selfservice.services.common import SubscriptionView
from selfservice.services.subscriptions import UpgradeReceipt

JSON = dict[str, Any]

_WORDING_BY_VERSION = {wording.version: wording for wording in ALL_WORDINGS.values()}


def _time(moment: datetime | None) -> str | None:
    return iso(moment) if moment is not None else None


def json_value(value: Any) -> Any:
    """A plain JSON value from what audit payloads and error details may hold."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Mapping):
        return {str(key): json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(item) for item in value]
    if isinstance(value, set | frozenset):
        return sorted(json_value(item) for item in value)
    return str(value)


def contact(person: Contact) -> JSON:
    return {"name": person.name, "email": person.email}


def subscription(view: SubscriptionView) -> JSON:
    sub = view.subscription
    reduction = sub.scheduled_reduction
    renewal = sub.renewal
    return {
        "id": sub.id,
        "edition": sub.edition,
        "channel": sub.channel,
        "plan_id": sub.plan_id,
        "currency": sub.currency,
        "term": sub.term,
        "seats": sub.seats,
        "active_users": view.active_users,
        "status": sub.status,
        "current_period_start": iso(sub.current_period_start),
        "current_period_end": iso(sub.current_period_end),
        "scheduled_reduction": {
            "seats": reduction.seats,
            "effective_at": iso(reduction.effective_at),
            "requested_by": reduction.requested_by,
            "requested_at": iso(reduction.requested_at),
        } if reduction else None,
        "cancel_at": _time(sub.cancel_at),
        "cancellation_reason": sub.cancellation.reason if sub.cancellation else None,
        "renewal": {
            "seats": renewal.seats,
            "period_start": iso(renewal.period_start),
            "period_end": iso(renewal.period_end),
            "invoice_id": renewal.invoice_id,
        } if renewal else None,
        "managed_by": {
            "kind": sub.managed_by.kind, "name": sub.managed_by.name, "email": sub.managed_by.email,
        } if sub.managed_by else None,
        "self_service": sub.edition == "business" and sub.channel == "direct",
        "ended_at": _time(sub.ended_at),
    }


def subscription_list(views: list[SubscriptionView]) -> JSON:
    return {"items": [subscription(view) for view in views], "next_cursor": None}


def billing_info(info: BillingInfo | None) -> JSON | None:
    if info is None:
        return None
    return {
        "company_name": info.company_name,
        "email": info.email,
        "address_line1": info.address_line1,
        "address_line2": info.address_line2,
        "postal_code": info.postal_code,
        "city": info.city,
        "region": info.region,
        "country": info.country,
        "vat_id": info.vat_id,
        "po_reference": info.po_reference,
        "updated_at": iso(info.updated_at),
    }


def tenant(record: Tenant) -> JSON:
    return {
        "id": record.id,
        "name": record.name,
        "account_manager": contact(record.account_manager),
        "reseller": contact(record.reseller) if record.reseller else None,
    }


def account(view: AccountView) -> JSON:
    return {
        "tenant": tenant(view.tenant),
        "billing_info": billing_info(view.billing_info),
        "default_payment_method_id": view.default_payment_method_id,
        "subscriptions": [subscription(s) for s in view.subscriptions],
    }


def wording(text: Wording | None) -> JSON | None:
    return {"text": text.text, "version": text.version} if text else None


def _line(line: Line) -> JSON:
    return {
        "description": line.description,
        "quantity": line.quantity,
        "unit_amount": line.unit_amount,
        "amount": line.amount,
        "period_start": _time(line.period_start),
        "period_end": _time(line.period_end),
    }


def quote(q: Quote) -> JSON:
    return {
        "change": q.change,
        "seats": q.seats,
        "currency": q.currency,
        "monthly_amount": q.monthly_amount,
        "tiers": [
            {"first_seat": t.first_seat, "last_seat": t.last_seat, "seats": t.seats,
             "unit_amount": t.unit_amount, "amount": t.amount}
            for t in q.tiers
        ],
        "lines": [_line(line) for line in q.lines],
        "amount_due": q.amount_due,
        "tax_rate": q.tax.rate_percent,
        "tax_amount": q.tax_amount,
        "total": q.total,
        "reverse_charge": q.tax.reverse_charge,
        "tax_note": q.tax.note,
        "effective_at": iso(q.effective_at),
        "period_start": _time(q.period_start),
        "period_end": _time(q.period_end),
        "acknowledgement": wording(q.acknowledgement),
    }


def user(record: User) -> JSON:
    return {
        "id": record.id,
        "email": record.email,
        "status": record.status,
        "assigned_at": iso(record.assigned_at),
        "removed_at": _time(record.removed_at),
    }


def user_list(users: list[User]) -> JSON:
    return {"items": [user(u) for u in users], "next_cursor": None}


def acknowledgement(ack: Acknowledgement | None) -> JSON | None:
    if ack is None:
        return None
    shown = _WORDING_BY_VERSION.get(ack.wording_version)
    return {
        "version": ack.wording_version,
        "text": shown.text if shown else None,
        "accepted_by": ack.accepted_by,
        "accepted_at": iso(ack.accepted_at),
    }


def activity_item(event: AuditEvent) -> JSON:
    return {
        "id": event.id,
        "type": event.type,
        "at": iso(event.at),
        "actor": event.actor,
        "subject_id": event.subject_id,
        "before": json_value(event.before),
        "after": json_value(event.after),
        "acknowledgement": acknowledgement(event.acknowledgement),
        "data": json_value(event.data),
    }


def activity_page(page: Page[AuditEvent]) -> JSON:
    return {"items": [activity_item(e) for e in page.items], "next_cursor": page.next_cursor}


def upgrade_request(receipt: UpgradeReceipt) -> JSON:
    return {
        "id": receipt.id,
        "subscription_id": receipt.subscription_id,
        "status": "received",
        "message": receipt.message,
        "account_manager": contact(receipt.account_manager),
        "requested_at": iso(parse_iso(receipt.requested_at)),
    }


def error(code: str, message: str, details: Mapping[str, Any] | None = None) -> JSON:
    return {"error": {"code": code, "message": message, "details": json_value(dict(details or {}))}}
