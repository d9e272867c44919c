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


class _Seeder:
    """The real services on the in-memory fake (one per tenant: the fake reads by sorting all it holds),
    every write kept as the DynamoDB adapter would write it."""

    def __init__(self, table: str, at: datetime) -> None:
        from selfservice.adapters.clock import ManualClock
        from selfservice.adapters.dynamo import DynamoRepository
        from selfservice.adapters.memory import InMemoryRepository
        from selfservice.domain.catalog import load_catalog
        from selfservice.services import Deps

        translate = DynamoRepository(table, None)  # type: ignore[arg-type]  # only its item translation
        self.written: dict[tuple[str, str], dict[str, Any]] = {}
        self.transactions: list[list[dict[str, Any]]] = []
        seeder = self

        class Capturing(InMemoryRepository):
            def commit(self, changeset: Any) -> None:
                super().commit(changeset)
                actions, _ = translate._transaction(changeset)
                items = [action["Put"]["Item"] for action in actions]  # type: ignore[typeddict-item]
                seeder.transactions.append(items)
                for item in items:
                    seeder.written[(item["PK"]["S"], item["SK"]["S"])] = item

        self.clock = ManualClock(at)
        catalog = load_catalog()
        self.new_deps = lambda: Deps(repo=Capturing(), clock=self.clock, catalog=catalog)
        self.deps_of: dict[str, Any] = {}

    def tenant(self, n: int, *, resold: bool, cancelled: bool, start: datetime) -> Tenant:
        from selfservice.backoffice import ProvisionTenantPayload, to_request
        from selfservice.services import Caller
        from selfservice.services.provisioning import provision_tenant
        from selfservice.services.subscriptions import schedule_cancellation

        payload = events.load("provisioning") | {
            "tenant_name": f"Due {n}", "sao_subject": f"due-sao-{n}", "sao_email": f"sao{n}@due.example",
            "users": [], "seats": 5, "start": start.isoformat().replace("+00:00", "Z"),
            "channel": "reseller" if resold else "direct",
            "reseller": {"name": "Fjord Resellers AS", "email": "sales@fjord.example"} if resold else None,
        }
        deps = self.new_deps()
        created = provision_tenant(deps, to_request(ProvisionTenantPayload.model_validate(payload)))
        self.deps_of[created.tenant.id] = deps
        if cancelled:
            schedule_cancellation(deps, Caller(created.tenant.id, created.tenant.sao_subject),
                                  created.subscription.id, True, "benchmark")
        return Tenant(created.tenant.id, created.subscription.id, created.tenant.sao_subject)


def _due_start(now: datetime) -> tuple[datetime, datetime]:
    """When the seeded tenants are provisioned, and when their subscriptions started: the term that
    was current then has ended by `now`."""
    seeded_at = now - timedelta(days=40)
    return seeded_at, (seeded_at - timedelta(days=5)).replace(hour=0, minute=0, second=0, microsecond=0)


def _seed(handlers: Handlers, count: int, now: datetime, *, charged: bool) -> None:
    """`count` tenants whose subscription is due at `now`, written to the table: half cancelled (they
    end), half resold (they roll over); or, `charged`, direct ones with a default card (they renew)."""
    seeded_at, start = _due_start(now)
    seeder = _Seeder(handlers.settings["TABLE_NAME"], seeded_at)
    tenants = [seeder.tenant(n, resold=not charged and n % 2 == 1, cancelled=not charged and n % 2 == 0, start=start)
               for n in range(count)]
    _batch_write(handlers, list(seeder.written.values()))
    if charged:  # a default card each, through the real tokeniser and POST /payment-methods
        for tenant in tenants:
            tenant.cards.append(add_card(handlers, tenant, TEST_CARDS[0]))


def step_shapes(table: str, now: datetime) -> list[list[dict[str, Any]]]:
    """The exact transactions the applier writes for one ending and one rolling-over subscription (the
    applier's own code on the in-memory fake): what the floor writes, re-keyed."""
    from selfservice.services.period_end import apply_due_step

    seeded_at, start = _due_start(now)
    seeder = _Seeder(table, seeded_at)
    due = [seeder.tenant(-1, resold=False, cancelled=True, start=start),
           seeder.tenant(-2, resold=True, cancelled=False, start=start)]
    seeder.clock.set(now)
    shapes = []
    for tenant in due:
        deps = seeder.deps_of[tenant.tenant_id]
        state = deps.repo.load_tenant(tenant.tenant_id)
        assert state is not None
        before = len(seeder.transactions)
        outcome = apply_due_step(deps, state.subscriptions[0])
        if outcome not in (["ended"], ["rolled_over"]) or len(seeder.transactions) != before + 1:
            raise RuntimeError(f"unexpected step {outcome}")
        shapes.append(seeder.transactions[-1])
    return shapes


def _batch_write(handlers: Handlers, items: list[dict[str, Any]]) -> None:
    import boto3

    client = boto3.session.Session().client("dynamodb")
    table = handlers.settings["TABLE_NAME"]
    for first in range(0, len(items), BATCH):
        pending: dict[str, Any] = {table: [{"PutRequest": {"Item": item}} for item in items[first:first + BATCH]]}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def _floor(handlers: Handlers, count: int, shapes: list[list[dict[str, Any]]], tag: str) -> float:
    """`count` bare TransactWriteItems of the applier's own shapes (`step_shapes`, taken in turn), each
    Put conditioned on attribute_not_exists, re-keyed under a floor partition. Seconds."""
    import boto3

    client = boto3.session.Session().client("dynamodb")
    table = handlers.settings["TABLE_NAME"]
    prepared = []
    for shape in shapes:
        items = []
        for item in shape:
            if "GSI1SK" in item:  # indexed like the original, but never due (the applier must not see it)
                item = item | {"GSI1SK": {"S": "9999-12-31T00:00:00.000000Z#floor"}}
            items.append(item)
        prepared.append(items)
    started = time.perf_counter()
    for n in range(count):
        pk = {"S": f"FLOOR#{tag}#{n}"}
        client.transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": item | {"PK": pk}, "ConditionExpression": "attribute_not_exists(PK)"}}
            for item in prepared[n % len(prepared)]
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
    _seed(handlers, count, now, charged=charged)
    shapes = step_shapes(handlers.settings["TABLE_NAME"], now)
    bootstrap.reset()
    handlers.counter.attach(bootstrap.aws_session().events)
    # Floor before and after the applier (half each), so that drift hits both alike.
    half = count // 2
    floor = _floor(handlers, half, shapes, f"{name}:before")
    elapsed, summary, calls = _apply(handlers, now)
    floor += _floor(handlers, count - half, shapes, f"{name}:after")
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
