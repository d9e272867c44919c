"""The local run, started once per test session exactly as a developer starts it (`python -m
selfservice_local`), on free ports of 127.0.0.1, and stopped with Ctrl-C (SIGINT) at the end."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60
STOP_TIMEOUT = 15


@dataclass
class LocalRunProcess:
    process: subprocess.Popen[bytes]
    base_url: str
    aws_endpoint_url: str
    state_dir: Path
    log: Path
    _tokens: dict[tuple[Any, ...], str] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.base_url + path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def token(self, tenant_id: str, *, sub: str | None = None, roles: list[str] | None = None,
              expires_in: int | None = None) -> str:
        body: dict[str, Any] = {"tenant_id": tenant_id}
        if sub is not None:
            body["sub"] = sub
        if roles is not None:
            body["roles"] = roles
        if expires_in is not None:
            body["expires_in"] = expires_in
        key = tuple(sorted((k, json.dumps(v)) for k, v in body.items()))
        if key not in self._tokens:
            reply = requests.post(self.url("/_local/tokens"), json=body, timeout=10)
            assert reply.status_code == 200, reply.text
            self._tokens[key] = reply.json()["token"]
        return self._tokens[key]

    def call(self, method: str, path: str, tenant_id: str | None = None, *, token: str | None = None,
             **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}))
        if token is None and tenant_id is not None:
            token = self.token(tenant_id)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return requests.request(method, self.url(path), headers=headers, timeout=30, **kwargs)


def start_local_run(state_dir: Path, *extra: str) -> tuple[subprocess.Popen[bytes], Path, Path]:
    ready = state_dir / "ready.json"
    log = state_dir / "run.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in ("PORT", "MOTO_PORT")}
    env["PYTHONUNBUFFERED"] = "1"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "selfservice_local", "--port", "0", "--moto-port", "0",
             "--state-dir", str(state_dir), "--ready-file", str(ready), *extra],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    return process, ready, log


def stop(process: subprocess.Popen[bytes]) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)  # what Ctrl-C sends
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            return -9
    return process.returncode


@pytest.fixture(scope="session")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRunProcess]:
    yield from launch(tmp_path_factory.mktemp("local-run"))


@pytest.fixture(scope="session")
def hardening_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRunProcess]:
    """A local run of its own for the tests that attack the API (the authorization matrix, the fuzzer):
    whatever they change, exhaust or rate-limit stays out of the journeys' run. No schedules: nothing
    but the requests of those tests changes its state."""
    yield from launch(tmp_path_factory.mktemp("hardening-run"), "--no-schedules")


def launch(state_dir: Path, *extra: str) -> Iterator[LocalRunProcess]:
    """Start `python -m selfservice_local` on free ports, yield it once ready, stop it with SIGINT; fail
    if it did not stop cleanly or printed a traceback (an unhandled error in a handler)."""
    process, ready, log = start_local_run(state_dir, *extra)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not ready.exists():
            if process.poll() is not None:
                pytest.fail(f"the local run exited with {process.returncode}:\n{log.read_text(errors='replace')}")
            if time.monotonic() > deadline:
                pytest.fail(f"the local run did not start in {START_TIMEOUT} s:\n{log.read_text(errors='replace')}")
            time.sleep(0.1)
        endpoints = json.loads(ready.read_text())
        run = LocalRunProcess(process, endpoints["base_url"], endpoints["aws_endpoint_url"], state_dir, log)
        assert requests.get(run.url("/_local/health"), timeout=10).json()["status"] == "ready"
        yield run
    finally:
        code = stop(process)
    output = log.read_text(errors="replace")
    assert code == 0, f"the local run did not stop cleanly on SIGINT (exit {code}):\n{output[-3000:]}"
    assert "Stopped." in output
    assert "Traceback" not in output, output


@pytest.fixture(scope="session")
def tenants(local_run: LocalRunProcess) -> dict[str, dict[str, Any]]:
    return seeded_tenants(local_run)


def seeded_tenants(run: LocalRunProcess) -> dict[str, dict[str, Any]]:
    """The seeded tenants by role in the journeys: business_monthly, business_annual, enterprise, reseller."""
    items = requests.get(run.url("/_local/tenants"), timeout=10).json()["items"]
    found: dict[str, dict[str, Any]] = {}
    for tenant in items:
        if tenant["edition"] == "enterprise":
            found["enterprise"] = tenant
        elif tenant["channel"] == "reseller":
            found["reseller"] = tenant
        elif "monthly" in tenant["plan_id"]:
            found.setdefault("business_monthly", tenant)
        else:
            found.setdefault("business_annual", tenant)
    assert set(found) == {"business_monthly", "business_annual", "enterprise", "reseller"}, items
    return found
