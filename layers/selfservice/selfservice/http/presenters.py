"""Domain and service objects -> the JSON shapes of the API (SPEC 3, documented in `schemas.py`).

An explicit translation, field by field: renaming a domain attribute never silently changes the API.
Times are ISO-8601 in UTC with a Z; amounts are integers in minor units.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from selfservice.domain.invoices import Invoice
from selfservice.domain.model import Acknowledgement, AuditEvent, BillingInfo, Contact, Tenant, User
from selfservice.domain.quotes import Line, Quote
from selfservice.domain.tax import REVERSE_CHARGE_NOTE, rate_percent
from selfservice.domain.terms import iso, parse_iso
from selfservice.domain.wording import ALL_WORDINGS, Wording
from selfservice.ports import CardDetails, Page

if TYPE_CHECKING:
    # Annotations only: every function imports the presenters, and each imports just its own services
    # (the payment engine and the applier's module are not every function's cold start).
    from selfservice.services.account import AccountView
    from selfservice.services.common import SubscriptionView
    from selfservice.services.invoice_documents import DocumentLink
    from selfservice.services.payment_methods import PaymentMethodView
    from selfservice.services.payments import PaymentOutcome
    from selfservice.services.period_end import InvoiceRetry
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
        "ended_reason": sub.ended_reason,
        "open_invoice_id": sub.open_invoice_id if sub.status == "past_due" else None,
        "next_retry_at": _time(sub.next_retry_at),
    }


def subscription_list(views: list[SubscriptionView], next_cursor: str | None = None) -> JSON:
    return {"items": [subscription(view) for view in views], "next_cursor": next_cursor}


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
        "default_payment_method": payment_method(view.default_payment_method) if view.default_payment_method else None,
        "subscriptions": [subscription(s) for s in view.subscriptions],
    }


def payment_method(view: PaymentMethodView) -> JSON:
    card = view.card
    return {
        "id": card.id,
        "brand": card.brand,
        "last4": card.last4,
        "exp_month": card.exp_month,
        "exp_year": card.exp_year,
        "name": card.name,
        "is_default": view.is_default,
        "expired": view.expired,
        "created_at": iso(card.created_at),
    } | ({"retry": invoice_retry(view.retry)} if view.retry is not None else {})


def invoice_retry(retry: InvoiceRetry) -> JSON:
    """What making a card the default did to a past_due subscription's open invoice."""
    return {"status": retry.status, "invoice_id": retry.invoice_id, "subscription_id": retry.subscription_id,
            "subscription_status": retry.subscription_status, "decline_code": retry.decline_code}


def payment_method_list(views: list[PaymentMethodView], next_cursor: str | None = None) -> JSON:
    return {"items": [payment_method(view) for view in views], "next_cursor": next_cursor}


def card_token(details: CardDetails) -> JSON:
    """What the tokeniser answers: the token and what may be shown, never the number or the CVC."""
    return {
        "token": details.token,
        "brand": details.brand,
        "last4": details.last4,
        "exp_month": details.exp_month,
        "exp_year": details.exp_year,
        "name": details.name,
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


def user_list(users: list[User], next_cursor: str | None = None) -> JSON:
    return {"items": [user(u) for u in users], "next_cursor": next_cursor}


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


def document_link(link: DocumentLink) -> JSON:
    return {"url": link.url, "expires_at": iso(link.expires_at)}


def invoice(record: Invoice) -> JSON:
    """SPEC 3's invoice, with the buyer as it was at issue and the seller."""
    buyer = record.buyer
    return {
        "id": record.id,
        "number": record.number,
        "status": record.status,
        "issued_at": iso(record.issued_at),
        "subscription_id": record.subscription_id,
        "currency": record.currency,
        "lines": [_line(line) for line in record.lines],
        "subtotal": record.subtotal,
        "tax_rate": rate_percent(record.tax_rate_bp),
        "tax_amount": record.tax_amount,
        "total": record.total,
        "reverse_charge": record.tax_note == REVERSE_CHARGE_NOTE,
        "tax_note": record.tax_note,
        "period_start": _time(record.period_start),
        "period_end": _time(record.period_end),
        "payment": {
            "brand": record.payment.brand, "last4": record.payment.last4, "paid_at": iso(record.payment.paid_at),
        } if record.payment else None,
        "buyer": {
            "company_name": buyer.company_name, "email": buyer.email, "address_line1": buyer.address_line1,
            "address_line2": buyer.address_line2, "postal_code": buyer.postal_code, "city": buyer.city,
            "region": buyer.region, "country": buyer.country, "vat_id": buyer.vat_id,
            "po_reference": buyer.po_reference,
        } if buyer else None,
        "seller": {
            "name": record.seller.name, "address": list(record.seller.address), "vat_id": record.seller.vat_id,
            "email": record.seller.email,
        },
    }


def invoice_page(page: Page[Invoice]) -> JSON:
    return {"items": [invoice(i) for i in page.items], "next_cursor": page.next_cursor}


def payment_outcome(outcome: PaymentOutcome) -> JSON:
    return {
        "subscription": subscription(outcome.subscription),
        "invoice": invoice(outcome.invoice) if outcome.invoice else None,
    }


def error(code: str, message: str, details: Mapping[str, Any] | None = None) -> JSON:
    return {"error": {"code": code, "message": message, "details": json_value(dict(details or {}))}}
