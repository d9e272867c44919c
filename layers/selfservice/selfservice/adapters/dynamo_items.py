"""Stored items: the explicit translation between domain objects and DynamoDB items in the low-level
attribute-value format ({"S": ...}, {"N": ...}). The table design is in docs/data-model.md.

Hand-written rather than boto3's TypeSerializer: importing it pulls in boto3 and turns numbers into
Decimal; here ints stay ints and the module costs nothing at cold start.

Keys (one item collection per tenant, PK = TENANT#<tenant id>):

| item | SK | entity |
| --- | --- | --- |
| tenant | A#TENANT | tenant |
| billing information | A#BILLING | billing_info |
| subscription | A#SUB#<id> | subscription (+ GSI1 due-work keys while not ended) |
| user (licence assignment) | A#USER#<id> | user |
| card (payment method) | A#CARD#<id> | payment_method |
| invoice | INVOICE#<id> | invoice |
| audit / outbox record | EVENT#<event id> | audit |

and, outside the tenants, one item per number sequence: PK = SEQ#<name>, SK = SEQ, `last` = the last
number issued.

Everything under `A#` is the account collection, read by one Query. Readers skip entities they do
not know, so adding an item type never breaks an older reader.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from selfservice.domain import period_end
from selfservice.domain.catalog import Seller
from selfservice.domain.errors import InvalidInput
from selfservice.domain.invoices import Buyer, Invoice, InvoicePayment
from selfservice.domain.model import (
    Acknowledgement,
    AuditEvent,
    BillingInfo,
    ChargeLine,
    Contact,
    PaymentMethod,
    PendingPayment,
    PrepaidRenewal,
    ScheduledCancellation,
    ScheduledReduction,
    Subscription,
    Tenant,
    User,
)
from selfservice.ports import DUE_SHARDS as _DUE_SHARDS

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef as AttributeValue

    from selfservice.ports import Entity

    Item = dict[str, AttributeValue]

PK = "PK"
SK = "SK"
GSI1 = "GSI1"
GSI1PK = "GSI1PK"
GSI1SK = "GSI1SK"

TENANT_PREFIX = "TENANT#"
ACCOUNT_PREFIX = "A#"  # the account collection: everything the account view and a change read
EVENT_PREFIX = "EVENT#"
TENANT_SK = "A#TENANT"
BILLING_SK = "A#BILLING"
SUBSCRIPTION_PREFIX = "A#SUB#"
USER_PREFIX = "A#USER#"
CARD_PREFIX = "A#CARD#"
INVOICE_PREFIX = "INVOICE#"
SEQUENCE_PREFIX = "SEQ#"
SEQUENCE_SK = "SEQ"
DUE_PREFIX = "DUE#"

# The due-work index is split over DUE_SHARDS partitions (ports.py: the Repository's `due_subscriptions`
# is asked shard by shard) so that the period-end applier's reads and the writes of busy subscriptions
# spread out instead of landing on one hot GSI partition. Changing it needs a backfill of GSI1PK on
# every live subscription.
DUE_SHARDS = _DUE_SHARDS

# DynamoDB's limit on the actions of one TransactWriteItems: a changeset's writes plus its events.
# The in-memory fake enforces it too.
MAX_TRANSACTION_ITEMS = 100

# A cursor longer than this cannot be one we issued (event ids are ~30 characters).
_MAX_CURSOR_LENGTH = 512


# --- keys -----------------------------------------------------------------------------------------

def tenant_pk(tenant_id: str) -> str:
    return f"{TENANT_PREFIX}{tenant_id}"


def entity_sk(entity: Entity) -> str:
    match entity:
        case Tenant():
            return TENANT_SK
        case BillingInfo():
            return BILLING_SK
        case Subscription():
            return f"{SUBSCRIPTION_PREFIX}{entity.id}"
        case User():
            return f"{USER_PREFIX}{entity.id}"
        case PaymentMethod():
            return f"{CARD_PREFIX}{entity.id}"
        case Invoice():
            return f"{INVOICE_PREFIX}{entity.id}"
    raise TypeError(f"not a stored entity: {type(entity).__name__}")


def entity_tenant_id(entity: Entity) -> str:
    return entity.id if isinstance(entity, Tenant) else entity.tenant_id


def invoice_sk(invoice_id: str) -> str:
    return f"{INVOICE_PREFIX}{invoice_id}"


def sequence_key(name: str) -> Item:
    return key(f"{SEQUENCE_PREFIX}{name}", SEQUENCE_SK)


def event_sk(event_id: str) -> str:
    return f"{EVENT_PREFIX}{event_id}"


def key(pk: str, sk: str) -> Item:
    return {PK: {"S": pk}, SK: {"S": sk}}


def due_shard(subscription_id: str) -> int:
    """Stable across processes and Python versions (unlike hash(), which is salted per process)."""
    return zlib.crc32(subscription_id.encode()) % DUE_SHARDS


def due_partition(shard: int) -> str:
    return f"{DUE_PREFIX}{shard}"


def due_at(sub: Subscription) -> datetime:
    """When the applier must next look at the subscription: the end of the term, a payment retry, or a
    payment under way to settle, whichever comes first (the rule is the domain's)."""
    return period_end.due_at(sub)


def due_sort_key_upper_bound(now: datetime) -> str:
    """For `GSI1SK <= :bound`: every subscription due at or before `now` (ids never contain `~`)."""
    return f"{format_time(now)}#~"


# --- the activity cursor ----------------------------------------------------------------------------
# Shared by the DynamoDB repository and the in-memory fake, so both issue and accept the same cursors:
# urlsafe base64 (unpadded) of the last returned key in compact form, bound to the tenant.

def encode_activity_cursor(tenant_id: str, last_event_id: str) -> str:
    raw = json.dumps({"t": tenant_id, "k": last_event_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_activity_cursor(cursor: str, tenant_id: str) -> str:
    """The event id to continue after. Another tenant's cursor is refused like garbage."""
    try:
        if len(cursor) > _MAX_CURSOR_LENGTH:
            raise ValueError
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, dict) or raw.get("t") != tenant_id:
            raise ValueError
        last = raw.get("k")
        if not isinstance(last, str) or not last:
            raise ValueError
        return last
    except (ValueError, binascii.Error):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise InvalidInput("The cursor is not valid.", field="cursor") from None


# --- the due-work cursor ----------------------------------------------------------------------------
# Only the applier sees it (never a client): the index's LastEvaluatedKey, as text.

_DUE_CURSOR_KEYS = (PK, SK, GSI1PK, GSI1SK)


def encode_due_cursor(last_key: Mapping[str, Any]) -> str:
    raw = json.dumps({name: last_key[name]["S"] for name in _DUE_CURSOR_KEYS}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_due_cursor(cursor: str, shard: int) -> Item:
    """The ExclusiveStartKey a cursor of `shard` stands for; ValueError for anything else."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error):
        raise ValueError("not a due-work cursor") from None
    if (not isinstance(raw, dict) or set(raw) != set(_DUE_CURSOR_KEYS)
            or not all(isinstance(v, str) for v in raw.values()) or raw[GSI1PK] != due_partition(shard)):
        raise ValueError("not a due-work cursor of this shard")
    return {name: {"S": raw[name]} for name in _DUE_CURSOR_KEYS}


def due_sort_key(sub: Subscription) -> str:
    return f"{format_time(due_at(sub))}#{sub.id}"


# --- scalar helpers ---------------------------------------------------------------------------------

def format_time(moment: datetime) -> str:
    """UTC, fixed width (always microseconds) so that string order is time order, e.g. in GSI1SK."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are not stored; use an aware UTC datetime")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _s(value: str) -> AttributeValue:
    return {"S": value}


def _n(value: int) -> AttributeValue:
    return {"N": str(value)}


def _t(moment: datetime) -> AttributeValue:
    return {"S": format_time(moment)}


def _opt_s(value: str | None) -> AttributeValue:
    return {"NULL": True} if value is None else {"S": value}


def _opt_t(moment: datetime | None) -> AttributeValue:
    return {"NULL": True} if moment is None else {"S": format_time(moment)}


def _get_s(item: Mapping[str, AttributeValue], name: str) -> str:
    return item[name]["S"]


def _get_n(item: Mapping[str, AttributeValue], name: str) -> int:
    return int(item[name]["N"])


def _get_t(item: Mapping[str, AttributeValue], name: str) -> datetime:
    return parse_time(item[name]["S"])


def _get_opt_s(item: Mapping[str, AttributeValue], name: str) -> str | None:
    value = item.get(name)
    return None if value is None or "NULL" in value else value["S"]


def _get_opt_t(item: Mapping[str, AttributeValue], name: str) -> datetime | None:
    text = _get_opt_s(item, name)
    return None if text is None else parse_time(text)


def _get_map(item: Mapping[str, AttributeValue], name: str) -> Mapping[str, AttributeValue] | None:
    value = item.get(name)
    return None if value is None or "NULL" in value else value["M"]


def _map(fields: Mapping[str, AttributeValue]) -> AttributeValue:
    return {"M": dict(fields)}


# --- free-form JSON-like values (audit before/after/data) -------------------------------------------

def to_attribute(value: Any) -> AttributeValue:
    """JSON-like Python value -> attribute value. Numbers keep their kind: ints are written without a
    decimal point, floats always with one (or an exponent), so reading them back restores the type.
    Anything else (datetimes, sets, objects) is refused: callers put ISO strings in audit payloads."""
    match value:
        case None:
            return {"NULL": True}
        case bool():
            return {"BOOL": value}
        case int():
            return {"N": str(value)}
        case float() if math.isfinite(value):
            return {"N": repr(value)}
        case str():
            return {"S": value}
        case Mapping():
            return {"M": {str(k): to_attribute(v) for k, v in value.items()}}
        case list() | tuple():
            return {"L": [to_attribute(v) for v in value]}
    raise TypeError(f"cannot store a {type(value).__name__} in an audit record")


def from_attribute(value: Mapping[str, Any]) -> Any:
    if "NULL" in value:
        return None
    if "BOOL" in value:
        return bool(value["BOOL"])
    if "S" in value:
        return value["S"]
    if "N" in value:
        text = str(value["N"])
        return float(text) if any(c in text for c in ".eE") else int(text)
    if "M" in value:
        return {k: from_attribute(v) for k, v in value["M"].items()}
    if "L" in value:
        return [from_attribute(v) for v in value["L"]]
    raise TypeError(f"unsupported attribute value: {sorted(value)}")


# --- nested dataclasses ---------------------------------------------------------------------------

def _contact(contact: Contact | None) -> AttributeValue:
    if contact is None:
        return {"NULL": True}
    return _map({"kind": _s(contact.kind), "name": _s(contact.name), "email": _s(contact.email)})


def _contact_from(fields: Mapping[str, AttributeValue] | None) -> Contact | None:
    if fields is None:
        return None
    return Contact(_get_s(fields, "kind"), _get_s(fields, "name"), _get_s(fields, "email"))  # type: ignore[arg-type]


def _acknowledgement(ack: Acknowledgement | None) -> AttributeValue:
    if ack is None:
        return {"NULL": True}
    return _map({
        "wording_version": _s(ack.wording_version),
        "accepted_by": _s(ack.accepted_by),
        "accepted_at": _t(ack.accepted_at),
    })


def _acknowledgement_from(fields: Mapping[str, AttributeValue] | None) -> Acknowledgement | None:
    if fields is None:
        return None
    return Acknowledgement(
        _get_s(fields, "wording_version"), _get_s(fields, "accepted_by"), _get_t(fields, "accepted_at")
    )


def _reduction(reduction: ScheduledReduction | None) -> AttributeValue:
    if reduction is None:
        return {"NULL": True}
    return _map({
        "seats": _n(reduction.seats),
        "effective_at": _t(reduction.effective_at),
        "requested_by": _s(reduction.requested_by),
        "requested_at": _t(reduction.requested_at),
        "acknowledgement": _acknowledgement(reduction.acknowledgement),
    })


def _reduction_from(fields: Mapping[str, AttributeValue] | None) -> ScheduledReduction | None:
    if fields is None:
        return None
    ack = _acknowledgement_from(_get_map(fields, "acknowledgement"))
    if ack is None:
        raise ValueError("a stored seat reduction has no acknowledgement")
    return ScheduledReduction(
        _get_n(fields, "seats"), _get_t(fields, "effective_at"), _get_s(fields, "requested_by"),
        _get_t(fields, "requested_at"), ack,
    )


def _cancellation(cancellation: ScheduledCancellation | None) -> AttributeValue:
    if cancellation is None:
        return {"NULL": True}
    return _map({
        "cancel_at": _t(cancellation.cancel_at),
        "requested_by": _s(cancellation.requested_by),
        "requested_at": _t(cancellation.requested_at),
        "reason": _opt_s(cancellation.reason),
        "acknowledgement": _acknowledgement(cancellation.acknowledgement),
    })


def _cancellation_from(fields: Mapping[str, AttributeValue] | None) -> ScheduledCancellation | None:
    if fields is None:
        return None
    ack = _acknowledgement_from(_get_map(fields, "acknowledgement"))
    if ack is None:
        raise ValueError("a stored cancellation has no acknowledgement")
    return ScheduledCancellation(
        _get_t(fields, "cancel_at"), _get_s(fields, "requested_by"), _get_t(fields, "requested_at"),
        _get_opt_s(fields, "reason"), ack,
    )


def _line(line: ChargeLine) -> AttributeValue:
    return _map({
        "description": _s(line.description),
        "quantity": _n(line.quantity),
        "unit_amount": _n(line.unit_amount),
        "amount": _n(line.amount),
        "period_start": _opt_t(line.period_start),
        "period_end": _opt_t(line.period_end),
    })


def _line_from(fields: Mapping[str, AttributeValue]) -> ChargeLine:
    return ChargeLine(
        _get_s(fields, "description"), _get_n(fields, "quantity"), _get_n(fields, "unit_amount"),
        _get_n(fields, "amount"), _get_opt_t(fields, "period_start"), _get_opt_t(fields, "period_end"),
    )


def _lines(lines: tuple[ChargeLine, ...]) -> AttributeValue:
    return {"L": [_line(line) for line in lines]}


def _lines_from(item: Mapping[str, AttributeValue], name: str) -> tuple[ChargeLine, ...]:
    value = item.get(name)
    if value is None or "NULL" in value:
        return ()
    return tuple(_line_from(entry["M"]) for entry in value["L"])


def _opt_n(value: int | None) -> AttributeValue:
    return {"NULL": True} if value is None else {"N": str(value)}


def _get_opt_n(item: Mapping[str, AttributeValue], name: str) -> int | None:
    value = item.get(name)
    return None if value is None or "NULL" in value else int(value["N"])


def _pending(pending: PendingPayment | None) -> AttributeValue:
    if pending is None:
        return {"NULL": True}
    return _map({
        "id": _s(pending.id),
        "kind": _s(pending.kind),
        "request_key": _s(pending.request_key),
        "payment_method_id": _s(pending.payment_method_id),
        "started_at": _t(pending.started_at),
        "currency": _s(pending.currency),
        "amount": _n(pending.amount),
        "seats": _n(pending.seats),
        "lines": _lines(pending.lines),
        "subtotal": _n(pending.subtotal),
        "tax_rate_bp": _n(pending.tax_rate_bp),
        "tax_amount": _n(pending.tax_amount),
        "tax_note": _opt_s(pending.tax_note),
        "period_start": _opt_t(pending.period_start),
        "period_end": _opt_t(pending.period_end),
        "anchor": _opt_t(pending.anchor),
        "renewal_seats": _opt_n(pending.renewal_seats),
        "invoice_id": _opt_s(pending.invoice_id),
    })


def _pending_from(fields: Mapping[str, AttributeValue] | None) -> PendingPayment | None:
    if fields is None:
        return None
    return PendingPayment(
        id=_get_s(fields, "id"),
        kind=_get_s(fields, "kind"),  # type: ignore[arg-type]
        request_key=_get_s(fields, "request_key"),
        payment_method_id=_get_s(fields, "payment_method_id"),
        started_at=_get_t(fields, "started_at"),
        currency=_get_s(fields, "currency"),
        amount=_get_n(fields, "amount"),
        seats=_get_n(fields, "seats"),
        lines=_lines_from(fields, "lines"),
        subtotal=_get_n(fields, "subtotal"),
        tax_rate_bp=_get_n(fields, "tax_rate_bp"),
        tax_amount=_get_n(fields, "tax_amount"),
        tax_note=_get_opt_s(fields, "tax_note"),
        period_start=_get_opt_t(fields, "period_start"),
        period_end=_get_opt_t(fields, "period_end"),
        anchor=_get_opt_t(fields, "anchor"),
        renewal_seats=_get_opt_n(fields, "renewal_seats"),
        invoice_id=_get_opt_s(fields, "invoice_id"),
    )


def _buyer(buyer: Buyer | None) -> AttributeValue:
    if buyer is None:
        return {"NULL": True}
    return _map({
        "company_name": _s(buyer.company_name), "email": _s(buyer.email),
        "address_line1": _s(buyer.address_line1), "address_line2": _opt_s(buyer.address_line2),
        "postal_code": _s(buyer.postal_code), "city": _s(buyer.city), "region": _opt_s(buyer.region),
        "country": _s(buyer.country), "vat_id": _opt_s(buyer.vat_id), "po_reference": _opt_s(buyer.po_reference),
    })


def _buyer_from(fields: Mapping[str, AttributeValue] | None) -> Buyer | None:
    if fields is None:
        return None
    return Buyer(
        _get_s(fields, "company_name"), _get_s(fields, "email"), _get_s(fields, "address_line1"),
        _get_opt_s(fields, "address_line2"), _get_s(fields, "postal_code"), _get_s(fields, "city"),
        _get_opt_s(fields, "region"), _get_s(fields, "country"), _get_opt_s(fields, "vat_id"),
        _get_opt_s(fields, "po_reference"),
    )


def _seller(seller: Seller) -> AttributeValue:
    return _map({
        "name": _s(seller.name), "address": {"L": [_s(line) for line in seller.address]},
        "vat_id": _s(seller.vat_id), "email": _s(seller.email),
    })


def _seller_from(fields: Mapping[str, AttributeValue]) -> Seller:
    return Seller(
        _get_s(fields, "name"), tuple(entry["S"] for entry in fields["address"]["L"]),
        _get_s(fields, "vat_id"), _get_s(fields, "email"),
    )


def _invoice_payment(payment: InvoicePayment | None) -> AttributeValue:
    if payment is None:
        return {"NULL": True}
    return _map({
        "brand": _s(payment.brand), "last4": _s(payment.last4), "charge_id": _s(payment.charge_id),
        "paid_at": _t(payment.paid_at),
    })


def _invoice_payment_from(fields: Mapping[str, AttributeValue] | None) -> InvoicePayment | None:
    if fields is None:
        return None
    return InvoicePayment(
        _get_s(fields, "brand"), _get_s(fields, "last4"), _get_s(fields, "charge_id"), _get_t(fields, "paid_at")
    )


def _renewal(renewal: PrepaidRenewal | None) -> AttributeValue:
    if renewal is None:
        return {"NULL": True}
    return _map({
        "seats": _n(renewal.seats),
        "period_start": _t(renewal.period_start),
        "period_end": _t(renewal.period_end),
        "invoice_id": _s(renewal.invoice_id),
    })


def _renewal_from(fields: Mapping[str, AttributeValue] | None) -> PrepaidRenewal | None:
    if fields is None:
        return None
    return PrepaidRenewal(
        _get_n(fields, "seats"), _get_t(fields, "period_start"), _get_t(fields, "period_end"),
        _get_s(fields, "invoice_id"),
    )


# --- entities -------------------------------------------------------------------------------------

def to_item(entity: Entity) -> Item:
    """The whole item for a Put: keys, `entity`, `version` and every field."""
    item: Item = key(tenant_pk(entity_tenant_id(entity)), entity_sk(entity))
    item["version"] = _n(entity.version)
    match entity:
        case Tenant():
            item |= {
                "entity": _s("tenant"),
                "tenant_id": _s(entity.id),
                "name": _s(entity.name),
                "sao_subject": _s(entity.sao_subject),
                "account_manager": _contact(entity.account_manager),
                "reseller": _contact(entity.reseller),
                "created_at": _t(entity.created_at),
                "default_payment_method_id": _opt_s(entity.default_payment_method_id),
            }
        case BillingInfo():
            item |= {
                "entity": _s("billing_info"),
                "tenant_id": _s(entity.tenant_id),
                "company_name": _s(entity.company_name),
                "email": _s(entity.email),
                "address_line1": _s(entity.address_line1),
                "address_line2": _opt_s(entity.address_line2),
                "postal_code": _s(entity.postal_code),
                "city": _s(entity.city),
                "region": _opt_s(entity.region),
                "country": _s(entity.country),
                "vat_id": _opt_s(entity.vat_id),
                "po_reference": _opt_s(entity.po_reference),
                "updated_at": _t(entity.updated_at),
            }
        case Subscription():
            item |= _subscription_fields(entity)
        case User():
            item |= {
                "entity": _s("user"),
                "tenant_id": _s(entity.tenant_id),
                "id": _s(entity.id),
                "email": _s(entity.email),
                "status": _s(entity.status),
                "assigned_at": _t(entity.assigned_at),
                "removed_at": _opt_t(entity.removed_at),
            }
        case PaymentMethod():
            item |= {
                "entity": _s("payment_method"),
                "tenant_id": _s(entity.tenant_id),
                "id": _s(entity.id),
                "token": _s(entity.token),
                "brand": _s(entity.brand),
                "last4": _s(entity.last4),
                "exp_month": _n(entity.exp_month),
                "exp_year": _n(entity.exp_year),
                "name": _s(entity.name),
                "fingerprint": _s(entity.fingerprint),
                "created_at": _t(entity.created_at),
            }
        case Invoice():
            item |= {
                "entity": _s("invoice"),
                "tenant_id": _s(entity.tenant_id),
                "id": _s(entity.id),
                "number": _s(entity.number),
                "subscription_id": _s(entity.subscription_id),
                "status": _s(entity.status),
                "issued_at": _t(entity.issued_at),
                "currency": _s(entity.currency),
                "lines": _lines(entity.lines),
                "subtotal": _n(entity.subtotal),
                "tax_rate_bp": _n(entity.tax_rate_bp),
                "tax_amount": _n(entity.tax_amount),
                "total": _n(entity.total),
                "tax_note": _opt_s(entity.tax_note),
                "period_start": _opt_t(entity.period_start),
                "period_end": _opt_t(entity.period_end),
                "buyer": _buyer(entity.buyer),
                "seller": _seller(entity.seller),
                "payment": _invoice_payment(entity.payment),
            }
    return item


def _subscription_fields(sub: Subscription) -> Item:
    fields: Item = {
        "entity": _s("subscription"),
        "tenant_id": _s(sub.tenant_id),
        "id": _s(sub.id),
        "plan_id": _s(sub.plan_id),
        "edition": _s(sub.edition),
        "channel": _s(sub.channel),
        "currency": _s(sub.currency),
        "term": _s(sub.term),
        "seats": _n(sub.seats),
        "status": _s(sub.status),
        "billing_anchor": _t(sub.billing_anchor),
        "current_period_start": _t(sub.current_period_start),
        "current_period_end": _t(sub.current_period_end),
        "created_at": _t(sub.created_at),
        "managed_by": _contact(sub.managed_by),
        "scheduled_reduction": _reduction(sub.scheduled_reduction),
        "cancellation": _cancellation(sub.cancellation),
        "renewal": _renewal(sub.renewal),
        "ended_at": _opt_t(sub.ended_at),
        "ended_reason": _opt_s(sub.ended_reason),
        "open_invoice_id": _opt_s(sub.open_invoice_id),
        "payment_attempts": _n(sub.payment_attempts),
        "next_retry_at": _opt_t(sub.next_retry_at),
        "pending_payment": _pending(sub.pending_payment),
    }
    if sub.status != "ended":
        # Sparse index: only subscriptions the applier may still have to act on are in GSI1.
        fields[GSI1PK] = _s(due_partition(due_shard(sub.id)))
        fields[GSI1SK] = _s(due_sort_key(sub))
    return fields


def from_item(item: Mapping[str, AttributeValue]) -> Entity | None:
    """The domain object an account-collection item holds; None for item types this code does not
    know (so that a newer writer's items never break an older reader)."""
    entity = item.get("entity", {}).get("S")
    version = _get_n(item, "version") if "version" in item else 1
    match entity:
        case "tenant":
            account_manager = _contact_from(_get_map(item, "account_manager"))
            if account_manager is None:
                raise ValueError("a stored tenant has no account manager")
            return Tenant(
                _get_s(item, "tenant_id"), _get_s(item, "name"), _get_s(item, "sao_subject"), account_manager,
                _contact_from(_get_map(item, "reseller")), _get_t(item, "created_at"), version,
                _get_opt_s(item, "default_payment_method_id"),
            )
        case "billing_info":
            return BillingInfo(
                _get_s(item, "tenant_id"), _get_s(item, "company_name"), _get_s(item, "email"),
                _get_s(item, "address_line1"), _get_opt_s(item, "address_line2"), _get_s(item, "postal_code"),
                _get_s(item, "city"), _get_opt_s(item, "region"), _get_s(item, "country"),
                _get_opt_s(item, "vat_id"), _get_opt_s(item, "po_reference"), _get_t(item, "updated_at"),
                version,
            )
        case "subscription":
            return Subscription(
                tenant_id=_get_s(item, "tenant_id"),
                id=_get_s(item, "id"),
                plan_id=_get_s(item, "plan_id"),
                edition=_get_s(item, "edition"),  # type: ignore[arg-type]
                channel=_get_s(item, "channel"),  # type: ignore[arg-type]
                currency=_get_s(item, "currency"),
                term=_get_s(item, "term"),  # type: ignore[arg-type]
                seats=_get_n(item, "seats"),
                status=_get_s(item, "status"),  # type: ignore[arg-type]
                billing_anchor=_get_t(item, "billing_anchor"),
                current_period_start=_get_t(item, "current_period_start"),
                current_period_end=_get_t(item, "current_period_end"),
                created_at=_get_t(item, "created_at"),
                managed_by=_contact_from(_get_map(item, "managed_by")),
                scheduled_reduction=_reduction_from(_get_map(item, "scheduled_reduction")),
                cancellation=_cancellation_from(_get_map(item, "cancellation")),
                renewal=_renewal_from(_get_map(item, "renewal")),
                ended_at=_get_opt_t(item, "ended_at"),
                ended_reason=_get_opt_s(item, "ended_reason"),
                open_invoice_id=_get_opt_s(item, "open_invoice_id"),
                payment_attempts=_get_n(item, "payment_attempts") if "payment_attempts" in item else 0,
                next_retry_at=_get_opt_t(item, "next_retry_at"),
                version=version,
                pending_payment=_pending_from(_get_map(item, "pending_payment")),
            )
        case "user":
            return User(
                _get_s(item, "tenant_id"), _get_s(item, "id"), _get_s(item, "email"),
                _get_s(item, "status"),  # type: ignore[arg-type]
                _get_t(item, "assigned_at"), _get_opt_t(item, "removed_at"), version,
            )
        case "payment_method":
            return PaymentMethod(
                _get_s(item, "tenant_id"), _get_s(item, "id"), _get_s(item, "token"), _get_s(item, "brand"),
                _get_s(item, "last4"), _get_n(item, "exp_month"), _get_n(item, "exp_year"), _get_s(item, "name"),
                _get_s(item, "fingerprint"), _get_t(item, "created_at"), version,
            )
        case "invoice":
            return Invoice(
                tenant_id=_get_s(item, "tenant_id"),
                id=_get_s(item, "id"),
                number=_get_s(item, "number"),
                subscription_id=_get_s(item, "subscription_id"),
                status=_get_s(item, "status"),  # type: ignore[arg-type]
                issued_at=_get_t(item, "issued_at"),
                currency=_get_s(item, "currency"),
                lines=_lines_from(item, "lines"),
                subtotal=_get_n(item, "subtotal"),
                tax_rate_bp=_get_n(item, "tax_rate_bp"),
                tax_amount=_get_n(item, "tax_amount"),
                total=_get_n(item, "total"),
                tax_note=_get_opt_s(item, "tax_note"),
                period_start=_get_opt_t(item, "period_start"),
                period_end=_get_opt_t(item, "period_end"),
                buyer=_buyer_from(_get_map(item, "buyer")),
                seller=_seller_from(item["seller"]["M"]),
                payment=_invoice_payment_from(_get_map(item, "payment")),
                version=version,
            )
    return None


# --- audit / outbox records -------------------------------------------------------------------------

def event_to_item(event: AuditEvent) -> Item:
    """The audit record is also the outbox: the stream publisher picks items with entity=audit."""
    item: Item = key(tenant_pk(event.tenant_id), event_sk(event.id))
    item |= {
        "entity": _s("audit"),
        "tenant_id": _s(event.tenant_id),
        "id": _s(event.id),
        "type": _s(event.type),
        "at": _t(event.at),
        "actor": _s(event.actor),
        "subject_id": _s(event.subject_id),
        "before": to_attribute(event.before),
        "after": to_attribute(event.after),
        "acknowledgement": _acknowledgement(event.acknowledgement),
        "data": to_attribute(event.data),
    }
    return item


def is_event_item(item: Mapping[str, AttributeValue]) -> bool:
    return item.get("entity", {}).get("S") == "audit"


def event_from_item(item: Mapping[str, AttributeValue]) -> AuditEvent:
    if not is_event_item(item):
        raise ValueError("not an audit record")
    before = from_attribute(item["before"]) if "before" in item else None
    after = from_attribute(item["after"]) if "after" in item else None
    data = from_attribute(item["data"]) if "data" in item else None
    data = data if isinstance(data, dict) else {}
    return AuditEvent(
        tenant_id=_get_s(item, "tenant_id"),
        id=_get_s(item, "id"),
        type=_get_s(item, "type"),
        at=_get_t(item, "at"),
        actor=_get_s(item, "actor"),
        subject_id=_get_s(item, "subject_id"),
        before=before,
        after=after,
        acknowledgement=_acknowledgement_from(_get_map(item, "acknowledgement")),
        data=data,
    )
