"""How many subscriptions one run of the period-end applier handles on the local emulation: a moto server
on 127.0.0.1 (what `make run` uses, every request over HTTP) with the template's table, N subscriptions
due at once, one run through the real handler, timed; extrapolated to the 15-minute Lambda budget
(docs/period-end.md, "Capacity").

A measurement, not a check: it runs only when asked,

    PERIOD_END_MEASURE=500 .venv/bin/pytest tests/integration/test_period_end_throughput.py -s -p no:randomly
"""

from __future__ import annotations

import os
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from selfservice import bootstrap
from selfservice.adapters.clock import ManualClock
from selfservice.domain.model import Contact
from selfservice.services import Caller
from selfservice.services import payment_methods as cards
from selfservice.services.account import BillingInfoInput
from selfservice.services.provisioning import ProvisionRequest, provision_tenant
from selfservice_local.resources import create_resources_from_template, environment_for
from support.events import load_event
from support.functions import LambdaContext, load_function

COUNT = int(os.environ.get("PERIOD_END_MEASURE", "0") or 0)
pytestmark = pytest.mark.skipif(COUNT <= 0, reason="a measurement: set PERIOD_END_MEASURE=<subscriptions>")

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
START = datetime(2026, 3, 1, tzinfo=UTC)
BUDGET_SECONDS = 900 - 60  # the Lambda's Timeout, less the margin the handler keeps


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ManualClock]:
    """A moto server with the template's resources. Unless PERIOD_END_MEASURE_AS_IS is set, moto's
    transaction backup is skipped: before every action of a TransactWriteItems it deep-copies the whole
    table (items and stream records), so its cost grows with everything ever written and swamps what is
    measured (nothing here fails a transaction, so nothing needs rolling back)."""
    import copy

    import moto.dynamodb.models as moto_dynamodb
    from moto.dynamodb.models.table import Table
    from moto.server import ThreadedMotoServer

    class NoTableBackup:
        def deepcopy(self, value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

        def __getattr__(self, name: str) -> Any:
            return getattr(copy, name)

    if not os.environ.get("PERIOD_END_MEASURE_AS_IS"):
        monkeypatch.setattr(moto_dynamodb, "copy", NoTableBackup())

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    # moto's backends are the process's: start from an empty account, not the previous case's table
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=30).close()
    for name, value in {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-north-1",
                        "AWS_REGION": "eu-north-1", "POWERTOOLS_LOG_LEVEL": "WARNING"}.items():
        monkeypatch.setenv(name, value)
    for name, value in environment_for(create_resources_from_template(TEMPLATE, endpoint_url=endpoint)).items():
        monkeypatch.setenv(name, value)
    clock = ManualClock(START + timedelta(days=3))
    bootstrap.reset()
    bootstrap.override(clock=clock)
    try:
        yield clock
    finally:
        bootstrap.reset()
        server.stop()


def _populate(count: int, plan_id: str, with_card: bool) -> None:
    deps = bootstrap.deps()
    manager = Contact("account_manager", "Astrid Lindqvist", "astrid@nordlys.example")
    billing = BillingInfoInput("Acme AB", "billing@acme.example", "Storgatan 1", None, "111 22", "Stockholm", None,
                               "SE", None, None)
    for n in range(count):
        made = provision_tenant(deps, ProvisionRequest(
            tenant_name=f"Tenant {n}", sao_subject=f"sao-{n}", sao_email=f"sao{n}@acme.example",
            account_manager=manager, reseller=None, billing_info=billing, user_emails=("a@acme.example",),
            plan_id=plan_id, channel="direct", seats=12, start=START))
        if with_card:
            assert deps.tokeniser is not None
            token = deps.tokeniser.tokenise(number="4242424242424242", exp_month=12, exp_year=2030, cvc="123",
                                            name="A").token
            cards.add_payment_method(deps, Caller(made.tenant.id, f"sao-{n}"), token)


def _timed_run(clock: ManualClock, at: datetime) -> tuple[dict[str, Any], float]:
    clock.set(at)
    began = time.perf_counter()
    result: dict[str, Any] = load_function("period_end").lambda_handler(
        load_event("period_end"), LambdaContext(function_name="period-end-function"))
    return result, time.perf_counter() - began


@pytest.mark.parametrize(("kind", "plan_id", "with_card", "counter"), [
    pytest.param("automatic renewal, paid", "business-monthly-eur", True, "renewed", id="renewals"),
    pytest.param("roll over (Enterprise)", "enterprise-annual-eur", False, "rolled_over", id="roll-overs"),
])
def test_subscriptions_per_run_on_the_local_emulation(moto_server: ManualClock, kind: str, plan_id: str,
                                                      with_card: bool, counter: str) -> None:
    _populate(COUNT, plan_id, with_card)
    term_end = datetime(2026, 4, 1, tzinfo=UTC) if "monthly" in plan_id else datetime(2027, 3, 1, tzinfo=UTC)
    idle, idle_seconds = _timed_run(moto_server, START + timedelta(days=4))
    assert idle["processed"] == 0
    result, seconds = _timed_run(moto_server, term_end + timedelta(minutes=3))
    assert result[counter] == COUNT and result["failed"] == 0, result
    per_second = COUNT / seconds
    print(f"\n{kind}: {COUNT} in {seconds:.1f} s = {seconds / COUNT * 1000:.1f} ms each, {per_second:.0f}/s; "
          f"an idle run (16 index Queries) {idle_seconds * 1000:.0f} ms; "
          f"a 15-minute run ({BUDGET_SECONDS} s of work): ~{int(per_second * BUDGET_SECONDS):,}")
