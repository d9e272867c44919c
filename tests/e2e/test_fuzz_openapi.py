"""Schema-driven fuzzing: schemathesis generates requests for every operation of /openapi.json, valid
ones (positive) and invalid ones (negative: wrong types, missing and extra fields, bad headers, no token),
and sends them over HTTP to a local run of its own (the gateway's JWT check included), authenticated as
the SAO of a seeded tenant. Half of the requests name that tenant's real objects instead of random ids,
and the charging routes get a fresh Idempotency-Key, so the fuzzer reaches the business rules, not only
the 404s. Every answer must be

- never a 5xx (schemathesis' `not_a_server_error`),
- what the document says for its status (`response_schema_conformance`),
- for every 4xx: the API's error shape {"error": {"code", "message", "details"}} (the gateway's own 401,
  {"message": "Unauthorized"}, would be the one exception; the fuzzer keeps the token, so none comes).

Deterministic (Hypothesis derandomised, no example database). Examples per operation and mode:
FUZZ_EXAMPLES (default 15 in `make test`, so about 30 per operation; `make soak` runs far more). The run it attacks is
`hardening_run`: the fuzzer may use up the tenant's payment attempts, cancel, add and remove users without
touching the journeys' run; at the end that run must stop cleanly with no traceback in its log."""

from __future__ import annotations

import itertools
import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from selfservice.http.app import openapi_document

from .conftest import LocalRunProcess

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
# The token is the fuzzed SAO's (the authorization matrix tries the others): schemathesis sends no made-up
# Authorization header of its own, so its examples reach the handlers instead of the gateway's 401.
SCHEMA = schemathesis.openapi.from_dict(
    json.loads(openapi_document()),
    config=schemathesis.Config.from_dict({"generation": {"with-security-parameters": False}}),
)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
GATEWAY_401 = {"message": "Unauthorized"}


@dataclass
class Target:
    run: LocalRunProcess
    headers: dict[str, str]
    real_ids: dict[str, str]  # path parameter -> an object of the fuzzed tenant
    keys: Iterator[int] = field(default_factory=itertools.count)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)


@pytest.fixture(scope="module")
def target(hardening_run: LocalRunProcess) -> Target:
    run = hardening_run
    tenant = next(t for t in requests.get(run.url("/_local/tenants"), timeout=10).json()["items"]
                  if t["plan_id"].startswith("business-annual") and t["channel"] == "direct")
    token = run.token(tenant["id"])
    sub_id = tenant["subscription_ids"][0]
    seats = run.call("GET", f"/subscriptions/{sub_id}", token=token).json()["seats"]
    total = run.call("GET", f"/subscriptions/{sub_id}/quote", token=token,
                     params={"change": "increase", "seats": seats + 1}).json()["total"]
    added = run.call("POST", f"/subscriptions/{sub_id}/seats", token=token, headers={"Idempotency-Key": "fuzz-setup"},
                     json={"seats": seats + 1, "expected_total": total})
    assert added.status_code == 201, added.text
    user = next(u for u in run.call("GET", "/users", token=token).json()["items"] if u["email"] != tenant["sao_email"])
    return Target(run, {"Authorization": f"Bearer {token}"}, {
        "subscription_id": sub_id, "user_id": user["id"], "payment_method_id": tenant["default_card"]["id"],
        "invoice_id": added.json()["invoice"]["id"]})


def error_shape_problem(response: requests.Response) -> str | None:
    if response.status_code < 400:
        return None
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code} without a JSON body: {response.text[:200]!r}"
    if response.status_code == 401 and body == GATEWAY_401:
        return None  # API Gateway's authorizer, before any function: its shape is not ours to choose
    error = body.get("error") if isinstance(body, dict) else None
    if not (isinstance(body, dict) and set(body) == {"error"} and isinstance(error, dict)
            and set(error) == {"code", "message", "details"} and isinstance(error["code"], str)
            and isinstance(error["message"], str) and isinstance(error["details"], dict)):
        return f"{response.status_code} not in the error shape: {response.text[:300]}"
    return None


def fuzz(target: Target, operation: Any, mode: GenerationMode) -> list[str]:
    failures: list[str] = []
    parameters = {p.name for p in operation.iter_parameters()}

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode), real=st.booleans())
    def send(case: Any, real: bool) -> None:
        headers = dict(target.headers)
        if real:
            for name in list(case.path_parameters or {}):
                if name in target.real_ids:
                    case.path_parameters[name] = target.real_ids[name]
            if "Idempotency-Key" in parameters:
                headers["Idempotency-Key"] = f"fuzz-{next(target.keys)}"
        response = case.call(base_url=target.run.base_url, headers=headers, timeout=30)
        target.statuses[(operation.label, response.status_code)] += 1
        problems = [error_shape_problem(response)]
        try:
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
        except (AssertionError, BaseExceptionGroup) as failed:
            problems.append(str(failed)[:1500])
        for problem in filter(None, problems):
            failures.append(f"{mode.value} {operation.label}: {problem}\n  {case.as_curl_command(headers)}")

    try:
        send()
    except Unsatisfiable:
        assert mode is GenerationMode.NEGATIVE, operation.label  # nothing to make invalid (no input at all)
    return failures


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_every_operation_survives_the_fuzzer(target: Target, operation: Any, figures: dict[str, Any]) -> None:
    before = sum(target.statuses.values())
    failures = fuzz(target, operation, GenerationMode.POSITIVE) + fuzz(target, operation, GenerationMode.NEGATIVE)
    sent = sum(target.statuses.values()) - before
    figures["fuzzed requests (schemathesis, over HTTP)"] = figures.get("fuzzed requests (schemathesis, over HTTP)",
                                                                       0) + sent
    figures.setdefault("fuzzed operations", set()).add(operation.label)
    by_status = Counter[int]()
    for (_label, status), count in target.statuses.items():
        by_status[status] += count
    figures["fuzzed responses by status"] = ", ".join(f"{status}: {n}" for status, n in sorted(by_status.items()))

    takes_input = bool(list(operation.iter_parameters())) or bool(operation.body)
    assert sent >= (EXAMPLES if takes_input else 1), f"only {sent} requests for {operation.label}"
    assert not failures, f"{len(failures)} failing requests:\n" + "\n".join(failures[:10])


def test_the_fuzzer_covers_every_operation_of_the_document(target: Target, figures: dict[str, Any]) -> None:
    documented = {f"{method.upper()} {path}" for path, ops in json.loads(openapi_document())["paths"].items()
                  for method in ops}
    assert figures.get("fuzzed operations") == documented


def test_a_body_above_the_bound_is_413_through_the_gateway(target: Target) -> None:
    """The local gateway forwards the body as API Gateway does (up to its 10 MB); the function refuses it."""
    response = target.run.call("PUT", "/billing-info", headers={**target.headers, "Content-Type": "application/json"},
                               data=json.dumps({"company_name": "x" * 40_000}))

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
