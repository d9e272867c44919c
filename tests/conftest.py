"""Fixtures shared by every tier: an emulated AWS account (moto) holding the resources of template.yaml."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import settings
from moto import mock_aws
from selfservice_local.atomic_dynamodb import isolated_dynamodb
from selfservice_local.resources import create_resources_from_template, environment_for, shared_session
from support.aws import REGION, use_fake_aws

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"

# Hypothesis: `make soak` sets HYPOTHESIS_PROFILE=soak, many more examples wherever a test does not set its own.
settings.register_profile("soak", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """moto's in-process AWS with the template's tables, bucket and bus; the settings (TABLE_NAME ...)
    point at them. Yields logical id -> physical name."""
    use_fake_aws(monkeypatch)
    with mock_aws():
        resources = create_resources_from_template(TEMPLATE, region=REGION)
        for name, value in environment_for(resources).items():
            monkeypatch.setenv(name, value)
        yield resources


@pytest.fixture
def dynamodb_client(aws: dict[str, str]) -> DynamoDBClient:
    return shared_session().client("dynamodb", region_name=REGION)


# --- figures: what the hardening tests exercised (routes x identities, fuzzed requests, faults injected) ---

_FIGURES: dict[str, Any] = {}


@pytest.fixture(scope="session")
def figures() -> dict[str, Any]:
    """Named counts the tests record (a number, or a set whose size is the count); printed at the end of
    the run, so that a `make test` log states how much was tried."""
    return _FIGURES


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _FIGURES:
        return
    terminalreporter.section("what the hardening tests exercised")
    for name, value in sorted(_FIGURES.items()):
        count = len(value) if isinstance(value, set | frozenset | list | dict) else value
        terminalreporter.write_line(f"{name}: {count}")


@pytest.fixture
def atomic_moto_transactions() -> Iterator[None]:
    """DynamoDB runs each conditional write and each transaction atomically, and a read never sees a
    transaction half done; moto's in-process backend takes no lock, so two threads could both pass one
    condition. Give moto the service's isolation (the local run's, `selfservice_local.atomic_dynamodb`),
    so that a race tests the code, not the emulator."""
    with isolated_dynamodb():
        yield
