"""The period-end applier against its floor: N due subscriptions worked through the PeriodEndFunction's
handler (the due-work index, then one step per subscription), against N bare TransactWriteItems of the
same shape (two conditional Puts of items of the same sizes) on the same moto server. Subscriptions per
second, AWS calls per subscription, and the ratio of the times.

The due subscriptions are the steps that need no charge (each is one transaction, the applier's common
case at a term's end): half are cancelled and end, half are resold and roll over. They are made by the
real services (provisioning, cancellation) on the in-memory fake at a past moment, and their items, as
the DynamoDB adapter would write them, are loaded with BatchWriteItem (seeding is not measured).

A second, smaller run renews subscriptions and charges their default card (the sandbox gateway on the
same table): no target, its calls per subscription are reported with why."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks import events
from benchmarks.awscalls import CallCounter
from benchmarks.flows import TEST_CARDS, Handlers, Tenant, add_card, aws_emulation

BATCH = 25  # BatchWriteItem's limit


@dataclass
class ApplierRun:
    scenario: str
    subscriptions: int
    seconds: float
    floor_seconds: float
    calls: CallCounter
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.subscriptions / self.seconds

    @property
    def floor_per_second(self) -> float:
        return self.subscriptions / self.floor_seconds

    @property
    def ratio(self) -> float:
        return self.seconds / self.floor_seconds

    @property
    def calls_per_subscription(self) -> float:
        return self.calls.total / self.subscriptions


@dataclass
class ApplierReport:
    runs: list[ApplierRun]
    missing: str | None = None  # why the applier could not be measured


def _seed(handlers: Handlers, count: int, now: datetime, *, charged: bool) -> list[dict[str, Any]]:
    """`count` tenants whose subscription is due at `now`, as DynamoDB items (written here). Returns
    a sample of the items written (for the floor's shapes)."""
    from selfservice.adapters.clock import ManualClock
    from selfservice.adapters.dynamo import DynamoRepository
    from selfservice.adapters.memory import InMemoryRepository
    from selfservice.backoffice import ProvisionTenantPayload, to_request
    from selfservice.domain.catalog import load_catalog
    from selfservice.services import Caller, Deps
    from selfservice.services.provisioning import provision_tenant
    from selfservice.services.subscriptions import schedule_cancellation

    written: dict[tuple[str, str], dict[str, Any]] = {}
    translate = DynamoRepository(handlers.settings["TABLE_NAME"], None)  # type: ignore[arg-type]

    class Capturing(InMemoryRepository):
        def commit(self, changeset: Any) -> None:
            super().commit(changeset)
            actions, _ = translate._transaction(changeset)
            for action in actions:
                item = action["Put"]["Item"]  # type: ignore[typeddict-item]
                written[(item["PK"]["S"], item["SK"]["S"])] = item

    seeded_at = now - timedelta(days=40)
    clock = ManualClock(seeded_at)
    deps = Deps(repo=Capturing(), clock=clock, catalog=load_catalog())
    base = events.load("provisioning")
    start = (seeded_at - timedelta(days=5)).replace(hour=0, minute=0, second=0, microsecond=0)
    tenants = []
    for n in range(count):
        resold = not charged and n % 2 == 1
        payload = base | {
            "tenant_name": f"Due {n}", "sao_subject": f"due-sao-{n}", "sao_email": f"sao{n}@due.example",
            "users": [], "seats": 5, "start": start.isoformat().replace("+00:00", "Z"),
            "channel": "reseller" if resold else "direct",
            "reseller": {"name": "Fjord Resellers AS", "email": "sales@fjord.example"} if resold else None,
        }
        created = provision_tenant(deps, to_request(ProvisionTenantPayload.model_validate(payload)))
        tenants.append(Tenant(created.tenant.id, created.subscription.id, created.tenant.sao_subject))
        if not charged and not resold:
            schedule_cancellation(deps, Caller(created.tenant.id, created.tenant.sao_subject),
                                  created.subscription.id, True, "benchmark")
    _batch_write(handlers, list(written.values()))
    if charged:  # a default card each, through the real tokeniser and POST /payment-methods
        for tenant in tenants:
            tenant.cards.append(add_card(handlers, tenant, TEST_CARDS[0]))
    return list(written.values())


def _batch_write(handlers: Handlers, items: list[dict[str, Any]]) -> None:
    import boto3

    client = boto3.session.Session().client("dynamodb")
    table = handlers.settings["TABLE_NAME"]
    for first in range(0, len(items), BATCH):
        pending: dict[str, Any] = {table: [{"PutRequest": {"Item": item}} for item in items[first:first + BATCH]]}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def _floor(handlers: Handlers, count: int, sample: list[dict[str, Any]], tag: str) -> float:
    """`count` bare TransactWriteItems, each two conditional Puts shaped like the applier's (a
    subscription item and an audit record, re-keyed under a floor partition). Seconds."""
    import boto3

    client = boto3.session.Session().client("dynamodb")
    table = handlers.settings["TABLE_NAME"]
    subscription = next(i for i in sample if i.get("entity", {}).get("S") == "subscription")
    if "GSI1SK" in subscription:  # indexed like the original, but never due (the applier must not see it)
        subscription = subscription | {"GSI1SK": {"S": "9999-12-31T00:00:00.000000Z#floor"}}
    audit = next(i for i in sample if i.get("entity", {}).get("S") == "audit")
    started = time.perf_counter()
    for n in range(count):
        pk = {"S": f"FLOOR#{tag}#{n}"}
        client.transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": subscription | {"PK": pk},
                     "ConditionExpression": "attribute_not_exists(PK)"}},
            {"Put": {"TableName": table, "Item": audit | {"PK": pk},
                     "ConditionExpression": "attribute_not_exists(PK)"}},
        ])
    return time.perf_counter() - started


def _apply(handlers: Handlers, now: datetime) -> tuple[float, dict[str, Any], CallCounter]:
    from selfservice import bootstrap
    from selfservice.adapters.clock import ManualClock

    bootstrap.override(clock=ManualClock(now))
    handlers.counter.reset()
    started = time.perf_counter()
    summary = handlers.invoke("PeriodEndFunction", events.load("period_end"))
    elapsed = time.perf_counter() - started
    calls = CallCounter(handlers.counter.idempotency_table)
    calls.calls = handlers.counter.calls.copy()
    bootstrap.reset()
    return elapsed, summary, calls


def _scenario(handlers: Handlers, name: str, count: int, *, charged: bool) -> ApplierRun:
    from selfservice import bootstrap

    now = datetime.now(UTC).replace(microsecond=0)
    sample = _seed(handlers, count, now, charged=charged)
    bootstrap.reset()
    handlers.counter.attach(bootstrap.aws_session().events)
    # Floor before and after the applier (half each), so that drift hits both alike.
    half = count // 2
    floor = _floor(handlers, half, sample, f"{name}:before")
    elapsed, summary, calls = _apply(handlers, now)
    floor += _floor(handlers, count - half, sample, f"{name}:after")
    done = sum(summary.get(key, 0) for key in ("ended", "rolled_over", "renewed"))
    if summary.get("processed") != count or done != count or summary.get("failed"):
        raise RuntimeError(f"the applier did not do what was due ({count}): {summary}")
    return ApplierRun(name, count, elapsed, floor, calls, summary)


def measure(handlers: Handlers, count: int, charged_count: int) -> ApplierReport:
    template = (handlers.functions.template.functions)
    if "PeriodEndFunction" not in template:
        return ApplierReport([], missing="not yet built (no PeriodEndFunction in template.yaml)")
    runs = [_scenario(handlers, "end or roll over (no charge)", count, charged=False)]
    if charged_count:
        runs.append(_scenario(handlers, "renew and charge the default card", charged_count, charged=True))
    return ApplierReport(runs)


def run(count: int, charged_count: int) -> ApplierReport:
    with aws_emulation() as settings:
        return measure(Handlers(settings), count, charged_count)


if __name__ == "__main__":
    size = int(os.environ.get("BENCH_APPLIER", "200"))
    report = run(size, max(1, size // 10))
    for r in report.runs:
        print(f"{r.scenario}: {r.subscriptions} in {r.seconds:.2f}s = {r.per_second:.0f}/s; floor "
              f"{r.floor_per_second:.0f}/s; {r.ratio:.2f}x; calls/sub {r.calls_per_subscription:.2f} "
              f"({r.calls.describe()}) {r.summary}")
