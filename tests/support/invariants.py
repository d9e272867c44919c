"""Invariants of the stored state, checked from the table's items alone (read with a boto3 DynamoDB client,
so the same checker works in-process under moto's `mock_aws` and against a moto server endpoint).

`check_invariants(client, table_name, tenant_id, now)` returns human-readable violations, empty when all
hold. It knows nothing of who made the state (a state machine, concurrent clients, the local run): only
the rules of SPEC 2 and docs/period-end.md, stated for what is stored:

- the licence floor (SPEC 2.1): the seats of the licensed subscription, of its prepaid next term and of
  its scheduled reduction are never below the active users (assigned and not removed, plus those removed
  less than 120 seconds ago);
- invoice numbers are gapless (SPEC 2.13): every number from 1 to the sequence's `last` is used by exactly
  one invoice of the whole table (the seller numbers across tenants), none above it;
- money (docs/architecture.md): every paid invoice with a payment names exactly one successful, unrefunded
  sandbox charge of its amount and currency, and every successful, unrefunded charge is the payment of
  exactly one paid invoice; a paid invoice without a payment is a free one (total 0);
- nothing scheduled survives its date: given `applier_ran_at` (the clock time of a period-end run that
  worked off everything due then), no subscription is left with a term end, a scheduled reduction, a
  cancellation or a payment retry at or before that time;
- status and term dates agree (domain/period_end.py, domain/payments.py, domain/subscriptions.py): see
  `_subscription_violations`.

The reads: the invoice sequence first, then one consistent Scan of the table. Call it when no request is
in flight (between steps, or after concurrent clients have finished): a payment under way is a charge
without its invoice for a moment, by design. Reading the sequence before the scan keeps the number check
sound even while invoices are being issued (an invoice numbered at or below the `last` read exists before
the scan starts, and invoices are never deleted); numbers above it are newer and ignored.
"""

from __future__ import annotations

import calendar
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from selfservice.adapters.dynamo_items import from_item
from selfservice.domain.invoices import Invoice
from selfservice.domain.model import PaymentMethod, Subscription, Tenant, User

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# SPEC 2.1: a removed user's licence counts for two more minutes.
SETTLING = timedelta(seconds=120)
# docs/period-end.md: retries 1, 3 and 5 days after the unpaid term started (the old one ended).
RETRY_DELAYS = (timedelta(days=1), timedelta(days=3), timedelta(days=5))
# A payment under way is due for the applier this long after it started (docs/data-model.md, GSI1).
SETTLE_AFTER = timedelta(minutes=2)
MONTHS = {"monthly": 1, "annual": 12}

INVOICE_SEQUENCE_KEY = {"PK": {"S": "SEQ#invoice"}, "SK": {"S": "SEQ"}}
TENANT_PREFIX = "TENANT#"
CHARGE_PREFIX = "SANDBOX#CHARGE#"
TOKEN_PREFIX = "SANDBOX#TOKEN#"
NUMBER_PREFIX = "INV-"

Item = Mapping[str, Any]


@dataclass(frozen=True)
class StoredCharge:
    id: str
    idempotency_key: str
    amount: int
    currency: str
    status: str
    refunded: bool
    owner: str | None  # the tenant the charged card's token was made for


@dataclass
class TenantItems:
    tenant: Tenant | None = None
    subscriptions: list[Subscription] = field(default_factory=list)
    users: list[User] = field(default_factory=list)
    cards: list[PaymentMethod] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)
    raw_subscriptions: dict[str, Item] = field(default_factory=dict)  # id -> item (the GSI1 keys)


@dataclass
class Snapshot:
    """What the table holds: the invoice sequence (read first), then every item of one Scan."""

    last_invoice_number: int
    tenants: dict[str, TenantItems]
    charges: list[StoredCharge]
    unreadable: list[str]  # items the domain translation refused

    @property
    def invoices(self) -> list[Invoice]:
        return [invoice for items in self.tenants.values() for invoice in items.invoices]

    def succeeded_charges(self, tenant_id: str | None = None) -> list[StoredCharge]:
        """Successful charges (refunded ones included), of one tenant's cards or of all."""
        return [c for c in self.charges
                if c.status == "succeeded" and (tenant_id is None or c.owner == tenant_id)]


# --- reading ----------------------------------------------------------------------------------------

def read_snapshot(client: DynamoDBClient, table_name: str) -> Snapshot:
    """The invoice sequence (first: see the module docstring), then one consistent Scan of the items the
    checks read, translated with the layer's own item translation (adapters/dynamo_items.py)."""
    found = client.get_item(TableName=table_name, Key=INVOICE_SEQUENCE_KEY, ConsistentRead=True).get("Item")
    last = int(found["last"]["N"]) if found else 0
    items: list[Item] = []
    # Everything but what no check reads (the audit trail, most of the table; billing information; the
    # sandbox's charge-id pointers and refunds; the abuse-limit counters): an emulator's cost is in the items
    # it returns.
    for page in client.get_paginator("scan").paginate(
            TableName=table_name, ConsistentRead=True, FilterExpression="NOT (#entity IN (:a, :b, :c, :d, :e))",
            ExpressionAttributeNames={"#entity": "entity"},
            ExpressionAttributeValues={":a": {"S": "audit"}, ":b": {"S": "billing_info"},
                                       ":c": {"S": "sandbox_charge_id"}, ":d": {"S": "sandbox_refund"},
                                       ":e": {"S": "attempt_counter"}}):
        items += page["Items"]

    owners: dict[str, str | None] = {}
    raw_charges: list[Item] = []
    tenants: dict[str, TenantItems] = {}
    unreadable: list[str] = []
    for item in items:
        pk = item["PK"]["S"]
        if pk.startswith(TOKEN_PREFIX):
            owners[item["token"]["S"]] = item.get("owner", {}).get("S")
        elif pk.startswith(CHARGE_PREFIX):
            raw_charges.append(item)
        elif pk.startswith(TENANT_PREFIX) and item.get("entity", {}).get("S") in (
                "tenant", "subscription", "user", "payment_method", "invoice"):
            tenant_id = pk.removeprefix(TENANT_PREFIX)
            bucket = tenants.setdefault(tenant_id, TenantItems())
            try:
                entity = from_item(item)
            except (KeyError, ValueError, TypeError) as error:
                unreadable.append(f"{pk} {item['SK']['S']}: {type(error).__name__}: {error}")
                continue
            match entity:
                case Tenant():
                    bucket.tenant = entity
                case Subscription():
                    bucket.subscriptions.append(entity)
                    bucket.raw_subscriptions[entity.id] = item
                case User():
                    bucket.users.append(entity)
                case PaymentMethod():
                    bucket.cards.append(entity)
                case Invoice():
                    bucket.invoices.append(entity)
    charges = [
        StoredCharge(
            id=c["id"]["S"], idempotency_key=c["idempotency_key"]["S"], amount=int(c["amount"]["N"]),
            currency=c["currency"]["S"], status=c["status"]["S"], refunded="S" in c.get("refund_id", {}),
            owner=owners.get(c["token"]["S"]),
        )
        for c in raw_charges
    ]
    return Snapshot(last, tenants, charges, unreadable)


# --- the checks -------------------------------------------------------------------------------------

def check_invariants(client: DynamoDBClient, table_name: str, tenant_id: str, now: datetime, *,
                     applier_ran_at: datetime | None = None, allow_pending_payments: bool = False) -> list[str]:
    """Every violation of the invariants (module docstring) for `tenant_id`, plus the table-wide ones
    (invoice numbers, charges <-> paid invoices). `applier_ran_at`: the clock time of the last period-end
    run that worked off everything due (None: no such run yet, nothing is asserted about due work).
    `allow_pending_payments`: a payment may be under way (concurrent clients); by default a payment left
    pending is a violation, since every request and every run finishes or releases its own."""
    return check_snapshot(read_snapshot(client, table_name), tenant_id, now, applier_ran_at=applier_ran_at,
                          allow_pending_payments=allow_pending_payments)


def check_all_tenants(client: DynamoDBClient, table_name: str, now: datetime, *,
                      applier_ran_at: datetime | None = None, allow_pending_payments: bool = False) -> list[str]:
    """`check_invariants` for every tenant in the table (the table-wide checks once)."""
    snapshot = read_snapshot(client, table_name)
    violations = table_violations(snapshot, allow_pending_payments=allow_pending_payments)
    for tenant_id in sorted(snapshot.tenants):
        violations += tenant_violations(snapshot, tenant_id, now, applier_ran_at=applier_ran_at,
                                        allow_pending_payments=allow_pending_payments)
    return violations


def check_snapshot(snapshot: Snapshot, tenant_id: str, now: datetime, *, applier_ran_at: datetime | None = None,
                   allow_pending_payments: bool = False) -> list[str]:
    return table_violations(snapshot, allow_pending_payments=allow_pending_payments) + tenant_violations(
        snapshot, tenant_id, now, applier_ran_at=applier_ran_at, allow_pending_payments=allow_pending_payments)


def table_violations(snapshot: Snapshot, *, allow_pending_payments: bool = False) -> list[str]:
    """Invoice numbers gapless and unique across the table; every successful charge paid exactly one invoice
    and every paid invoice by exactly one successful charge."""
    violations = [f"unreadable item {what}" for what in snapshot.unreadable]
    invoices = snapshot.invoices

    numbers: Counter[int] = Counter()
    for invoice in invoices:
        number = _number(invoice.number)
        if number is None:
            violations.append(f"invoice {invoice.id} has a malformed number {invoice.number!r}")
        elif number <= snapshot.last_invoice_number:
            numbers[number] += 1
    for number, count in sorted(numbers.items()):
        if count > 1:
            holders = sorted(i.id for i in invoices if _number(i.number) == number)
            violations.append(f"invoice number {number} is used {count} times: {holders}")
    missing = [n for n in range(1, snapshot.last_invoice_number + 1) if n not in numbers]
    if missing:
        violations.append(f"invoice numbers missing (a gap) below the sequence's last "
                          f"{snapshot.last_invoice_number}: {_ranges(missing)}")
    if numbers and snapshot.last_invoice_number == 0:
        violations.append("invoices exist but the invoice sequence was never taken")

    charges_by_id: dict[str, list[StoredCharge]] = {}
    for charge in snapshot.charges:
        charges_by_id.setdefault(charge.id, []).append(charge)
    paid_by_charge: dict[str, list[Invoice]] = {}
    for invoice in invoices:
        payment = invoice.payment
        if invoice.status != "paid":
            if payment is not None:
                violations.append(f"invoice {invoice.number} is {invoice.status} but names a payment "
                                  f"(charge {payment.charge_id})")
            continue
        if payment is None:
            if invoice.total != 0:
                violations.append(f"invoice {invoice.number} is paid ({invoice.total} {invoice.currency}) "
                                  "without a payment")
            continue
        paid_by_charge.setdefault(payment.charge_id, []).append(invoice)
        found = charges_by_id.get(payment.charge_id, [])
        good = [c for c in found if c.status == "succeeded"]
        if len(good) != 1:
            violations.append(f"paid invoice {invoice.number} names charge {payment.charge_id}, which the gateway "
                              f"holds {len(good)} successful time(s) ({[c.status for c in found]})")
            continue
        charge = good[0]
        if charge.refunded:
            violations.append(f"paid invoice {invoice.number} names charge {charge.id}, which was refunded")
        if (charge.amount, charge.currency) != (invoice.total, invoice.currency):
            violations.append(f"paid invoice {invoice.number} ({invoice.total} {invoice.currency}) names charge "
                              f"{charge.id} of {charge.amount} {charge.currency}")
    for charge_id, paid in paid_by_charge.items():
        if len(paid) > 1:
            violations.append(f"charge {charge_id} pays {len(paid)} invoices: {sorted(i.number for i in paid)}")

    pending_keys = {s.pending_payment.id for t in snapshot.tenants.values() for s in t.subscriptions
                    if s.pending_payment is not None}
    for charge in snapshot.charges:
        if charge.status != "succeeded" or charge.refunded or charge.id in paid_by_charge:
            continue
        if allow_pending_payments and charge.idempotency_key in pending_keys:
            continue  # charged, its completion under way
        violations.append(f"successful charge {charge.id} ({charge.amount} {charge.currency}, key "
                          f"{charge.idempotency_key}) pays no invoice")
    return violations


def tenant_violations(snapshot: Snapshot, tenant_id: str, now: datetime, *, applier_ran_at: datetime | None = None,
                      allow_pending_payments: bool = False) -> list[str]:
    items = snapshot.tenants.get(tenant_id)
    if items is None or items.tenant is None:
        return [f"tenant {tenant_id} is not in the table"]
    violations: list[str] = []
    invoices = {invoice.id: invoice for invoice in items.invoices}

    # Cards: the first card becomes the default, and the default cannot be removed.
    cards = {card.id for card in items.cards}
    default = items.tenant.default_payment_method_id
    if default is not None and default not in cards:
        violations.append(f"the default card {default} is not a saved card")
    if cards and default is None:
        violations.append(f"{len(cards)} card(s) saved but none is the default")

    # The licence floor, for the subscription whose seats the users occupy.
    licensed = _licensed(items.subscriptions)
    if licensed is not None:
        active = active_users(items.users, now)
        if licensed.seats < active:
            violations.append(f"subscription {licensed.id} ({licensed.status}) has {licensed.seats} seats but "
                              f"{active} active users")
        if licensed.renewal is not None and licensed.renewal.seats < active:
            violations.append(f"subscription {licensed.id}: the prepaid next term has {licensed.renewal.seats} "
                              f"seats but {active} users are active")
        if licensed.scheduled_reduction is not None and licensed.scheduled_reduction.seats < active:
            violations.append(f"subscription {licensed.id}: the scheduled reduction to "
                              f"{licensed.scheduled_reduction.seats} seats is below the {active} active users")

    for sub in items.subscriptions:
        violations += [f"subscription {sub.id} ({sub.status}): {problem}" for problem in _subscription_violations(
            sub, items.raw_subscriptions[sub.id], invoices, now, applier_ran_at, allow_pending_payments)]

    for invoice in items.invoices:
        violations += [f"invoice {invoice.number}: {problem}" for problem in _invoice_violations(invoice, items)]
    return violations


def active_users(users: Iterable[User], now: datetime) -> int:
    """SPEC 2.1: assigned users not removed, plus those removed less than 120 seconds ago."""
    return sum(1 for u in users
               if u.status == "active" or (u.removed_at is not None and now < u.removed_at + SETTLING))


def _licensed(subscriptions: list[Subscription]) -> Subscription | None:
    """The subscription the users' licences belong to: the newest one that has not ended, else the newest."""
    live = [s for s in subscriptions if s.status != "ended"]
    pool = live or subscriptions
    return max(pool, key=lambda s: s.created_at) if pool else None


def _subscription_violations(sub: Subscription, item: Item, invoices: dict[str, Invoice], now: datetime,
                             applier_ran_at: datetime | None, allow_pending: bool) -> list[str]:
    """Status and dates, as the rules make them:

    - every term starts before it ends and is one term long, on the billing anchor's day (SPEC 2.3);
    - ended: `ended_at` set and not in the future, a known reason, nothing open, pending, prepaid, scheduled
      or retried, out of the due-work index; cancelled: it ended exactly when the cancelled (last paid)
      term did; payment_failed: not before the last retry (5 days into the unpaid term), and that term's
      invoice is uncollectible;
    - not ended: no `ended_at`, in the due-work index under its due time;
    - past_due: its term has started, its open invoice is that term's and open, at least one attempt
      failed, the next retry is 1, 3 or 5 days into the term; nothing prepaid, scheduled or cancelled;
    - active: no retries, and nothing open except the invoice its own automatic charge is paying;
    - a prepaid next term (active only) starts when the current one ends, is one term long and is paid;
    - a scheduled reduction (active only) goes below the current seats and takes effect at the term's end;
    - a cancellation (not ended) takes effect at the end of the last paid term (active only);
    - with `applier_ran_at`: nothing due at or before that run is left (no term end, reduction,
      cancellation or retry), unless a payment is under way."""
    out: list[str] = []
    start, end = sub.current_period_start, sub.current_period_end
    if sub.status not in ("active", "past_due", "ended"):
        out.append(f"unknown status {sub.status!r}")
    if not start < end:
        out.append(f"term starts {_iso(start)}, not before its end {_iso(end)}")
    elif sub.term in MONTHS and end != one_term_after(sub.billing_anchor, start, sub.term):
        out.append(f"term {_iso(start)} - {_iso(end)} is not one {sub.term} term on the anchor "
                   f"{_iso(sub.billing_anchor)} (expected the end {_iso(one_term_after(sub.billing_anchor, start, sub.term))})")
    if not sub.seats >= 1:
        out.append(f"{sub.seats} seats")
    pending = sub.pending_payment
    if pending is not None and not allow_pending:
        out.append(f"a {pending.kind} payment ({pending.id}, started {_iso(pending.started_at)}) is left pending")
    in_index = "GSI1PK" in item and "NULL" not in item["GSI1PK"]

    if sub.status == "ended":
        if sub.ended_at is None:
            out.append("ended without ended_at")
        elif sub.ended_at > now:
            out.append(f"ended at {_iso(sub.ended_at)}, after now {_iso(now)}")
        for name in ("open_invoice_id", "pending_payment", "next_retry_at", "renewal", "scheduled_reduction"):
            if getattr(sub, name) is not None:
                out.append(f"ended but still has {name}")
        if in_index:
            out.append("ended but still in the due-work index")
        if sub.ended_reason == "cancelled":
            if sub.cancellation is None:
                out.append("ended as cancelled without a cancellation")
            elif not (sub.cancellation.cancel_at == sub.ended_at == end):
                out.append(f"cancelled: cancel_at {_iso(sub.cancellation.cancel_at)}, ended_at "
                           f"{_iso(sub.ended_at) if sub.ended_at else None} and the term's end {_iso(end)} differ")
        elif sub.ended_reason == "payment_failed":
            if sub.ended_at is not None and sub.ended_at < start + RETRY_DELAYS[-1]:
                out.append(f"ended for non-payment at {_iso(sub.ended_at)}, before the last retry "
                           f"{_iso(start + RETRY_DELAYS[-1])}")
            if not any(i.subscription_id == sub.id and i.period_start == start and i.status == "uncollectible"
                       for i in invoices.values()):
                out.append(f"ended for non-payment but no invoice of the term starting {_iso(start)} is uncollectible")
        else:
            out.append(f"ended for an unknown reason {sub.ended_reason!r}")
        return out

    if sub.ended_at is not None or sub.ended_reason is not None:
        out.append(f"not ended but ended_at {sub.ended_at} / ended_reason {sub.ended_reason!r} set")
    expected_key = f"{_stored_time(due_at(sub))}#{sub.id}"
    if not in_index:
        out.append("not ended but missing from the due-work index")
    elif item.get("GSI1SK", {}).get("S") != expected_key:
        out.append(f"due-work index key {item.get('GSI1SK', {}).get('S')!r}, expected {expected_key!r}")

    if sub.status == "past_due":
        if start > now:
            out.append(f"past_due for a term that starts in the future ({_iso(start)})")
        invoice = invoices.get(sub.open_invoice_id) if sub.open_invoice_id else None
        if invoice is None:
            out.append(f"past_due without its open invoice ({sub.open_invoice_id})")
        elif invoice.status != "open" or invoice.subscription_id != sub.id or invoice.period_start != start:
            out.append(f"its open invoice {invoice.number} is {invoice.status}, of subscription "
                       f"{invoice.subscription_id}, for the term starting {invoice.period_start}")
        if sub.payment_attempts < 1:
            out.append("past_due without a failed attempt")
        if sub.next_retry_at is None or sub.next_retry_at - start not in RETRY_DELAYS:
            out.append(f"next retry {sub.next_retry_at} is not 1, 3 or 5 days into the term starting {_iso(start)}")
        for name in ("renewal", "scheduled_reduction", "cancellation"):
            if getattr(sub, name) is not None:
                out.append(f"past_due but has {name}")
    elif sub.status == "active":
        if sub.next_retry_at is not None or sub.payment_attempts != 0:
            out.append(f"active with next_retry_at {sub.next_retry_at} and {sub.payment_attempts} attempts")
        if sub.open_invoice_id is not None and (pending is None or pending.invoice_id != sub.open_invoice_id):
            out.append(f"active with the open invoice {sub.open_invoice_id} and no payment of it under way")

    if sub.renewal is not None:
        renewal = sub.renewal
        if sub.status != "active":
            out.append("a prepaid next term on a subscription that is not active")
        if renewal.period_start != end:
            out.append(f"the prepaid term starts {_iso(renewal.period_start)}, not when the current one ends ({_iso(end)})")
        elif sub.term in MONTHS and renewal.period_end != one_term_after(sub.billing_anchor, end, sub.term):
            out.append(f"the prepaid term {_iso(renewal.period_start)} - {_iso(renewal.period_end)} is not one term")
        paid = invoices.get(renewal.invoice_id)
        if paid is None or paid.status != "paid":
            out.append(f"the prepaid term's invoice {renewal.invoice_id} is {paid.status if paid else 'missing'}")
    if sub.scheduled_reduction is not None:
        reduction = sub.scheduled_reduction
        if sub.status != "active":
            out.append("a scheduled reduction on a subscription that is not active")
        if not 1 <= reduction.seats < sub.seats:
            out.append(f"a reduction to {reduction.seats} seats scheduled with {sub.seats} seats")
        if reduction.effective_at != end:
            out.append(f"the reduction takes effect {_iso(reduction.effective_at)}, not at the term's end {_iso(end)}")
    if sub.cancellation is not None:
        if sub.status != "active":
            out.append("a cancellation scheduled on a subscription that is not active")
        if sub.cancellation.cancel_at != sub.last_paid_period_end:
            out.append(f"cancelled for {_iso(sub.cancellation.cancel_at)}, not the end of the last paid term "
                       f"{_iso(sub.last_paid_period_end)}")

    if applier_ran_at is not None and pending is None:
        if end <= applier_ran_at and sub.status == "active":
            out.append(f"its term ended {_iso(end)} but it is still active in it after the applier ran at "
                       f"{_iso(applier_ran_at)}")
        if sub.scheduled_reduction is not None and sub.scheduled_reduction.effective_at <= applier_ran_at:
            out.append(f"the reduction to {sub.scheduled_reduction.seats} seats due {_iso(sub.scheduled_reduction.effective_at)} "
                       f"survived the applier's run at {_iso(applier_ran_at)}")
        if sub.cancellation is not None and sub.cancellation.cancel_at <= applier_ran_at:
            out.append(f"the cancellation due {_iso(sub.cancellation.cancel_at)} survived the applier's run at "
                       f"{_iso(applier_ran_at)}")
        if sub.status == "past_due" and sub.next_retry_at is not None and sub.next_retry_at <= applier_ran_at:
            out.append(f"the payment retry due {_iso(sub.next_retry_at)} was not made by the applier's run at "
                       f"{_iso(applier_ran_at)}")
    return out


def _invoice_violations(invoice: Invoice, items: TenantItems) -> list[str]:
    out: list[str] = []
    if invoice.status not in ("open", "paid", "uncollectible"):
        out.append(f"unknown status {invoice.status!r}")
    subtotal = sum(line.amount for line in invoice.lines)
    if subtotal != invoice.subtotal or invoice.subtotal + invoice.tax_amount != invoice.total:
        out.append(f"lines {subtotal}, subtotal {invoice.subtotal} + tax {invoice.tax_amount} != total {invoice.total}")
    if invoice.status == "open":
        holders = [s.id for s in items.subscriptions if s.open_invoice_id == invoice.id]
        if len(holders) != 1:
            out.append(f"open, and the open invoice of {len(holders)} subscriptions {holders}")
    return out


# --- helpers ----------------------------------------------------------------------------------------

def one_term_after(anchor: datetime, start: datetime, term: str) -> datetime:
    """The end of the term starting at `start`: months added on the anchor's day, clamped to the month's
    length (SPEC 2.3), the anchor's time of day kept."""
    index = anchor.year * 12 + (anchor.month - 1) + (start.year - anchor.year) * 12 + (start.month - anchor.month) \
        + MONTHS[term]
    year, month0 = divmod(index, 12)
    day = min(anchor.day, calendar.monthrange(year, month0 + 1)[1])
    return anchor.replace(year=year, month=month0 + 1, day=day)


def due_at(sub: Subscription) -> datetime:
    """When the applier must next look at `sub` (docs/data-model.md, GSI1)."""
    if sub.pending_payment is not None:
        return sub.pending_payment.started_at + SETTLE_AFTER
    if sub.status == "past_due" and sub.next_retry_at is not None:
        return sub.next_retry_at
    return sub.current_period_end


def _stored_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _number(text: str) -> int | None:
    digits = text.removeprefix(NUMBER_PREFIX)
    return int(digits) if text.startswith(NUMBER_PREFIX) and digits.isdigit() else None


def _ranges(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:20])
    return shown + (f" ... ({len(numbers)} in all)" if len(numbers) > 20 else "")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
