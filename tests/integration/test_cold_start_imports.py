"""What each function imports on its cold start (its module plus the clients its first invocation builds,
as `make bench` measures it, benchmarks/init_probe.py), in a fresh interpreter per function: heavy
libraries only where they are used. Structural checks only: no timing is asserted here (docs/benchmarks.md
has the numbers)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

from selfservice_local.template import Function, load_template

ROOT = Path(__file__).resolve().parents[2]
PROBE = ROOT / "benchmarks" / "init_probe.py"
# What the probe's functions read: names only, nothing is called.
ENVIRONMENT = {
    "TABLE_NAME": "t", "IDEMPOTENCY_TABLE_NAME": "i", "INVOICE_BUCKET": "b", "EVENT_BUS_NAME": "e",
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-north-1",
    "POWERTOOLS_SERVICE_NAME": "selfservice", "BENCH_PROBE_MODULES": "1",
}
PAYING = {"SeatsFunction", "RenewalFunction", "InvoicesFunction"}
NO_HTTP_EDGE = {"EventPublisherFunction", "PeriodEndFunction", "ProvisioningFunction"}


def _imports(function: Function) -> set[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "POWERTOOLS_"))}
    done = subprocess.run([sys.executable, str(PROBE), str(function.code_dir), function.handler],
                          env=env | ENVIRONMENT, cwd=function.code_dir, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(out for out in done.stdout.splitlines() if out.startswith("INIT "))
    return set(json.loads(line.removeprefix("INIT "))["module_names"])


@cache
def imported() -> dict[str, set[str]]:
    functions = list(load_template(ROOT / "template.yaml").functions.values())
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip((f.logical_id for f in functions), pool.map(_imports, functions), strict=True))


def _with(prefix: str) -> set[str]:
    return {name for name, modules in imported().items()
            if any(m == prefix or m.startswith(prefix + ".") for m in modules)}


def test_no_function_imports_the_xray_sdk_the_pdf_library_or_email_validator_on_its_cold_start() -> None:
    for library in ("aws_xray_sdk", "fpdf", "PIL", "fontTools", "email_validator"):
        assert _with(library) == set(), library


def test_only_the_paying_functions_build_the_idempotency_store() -> None:
    assert _with("aws_lambda_powertools.utilities.idempotency") == PAYING


def test_the_account_view_does_not_load_the_payment_engine_or_the_applier() -> None:
    account = imported()["AccountFunction"]
    assert "selfservice.services.payments" not in account
    assert "selfservice.services.period_end" not in account


def test_functions_without_routes_do_not_import_the_http_edge() -> None:
    edge = _with("aws_lambda_powertools.event_handler")
    assert edge.isdisjoint(NO_HTTP_EDGE), edge & NO_HTTP_EDGE
    assert _with("pydantic").isdisjoint({"EventPublisherFunction", "PeriodEndFunction"})
