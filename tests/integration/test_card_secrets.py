"""Card numbers and CVCs appear in no store and no log line (SPEC 2.11).

A whole card journey runs through the real handlers on moto with every logger at DEBUG (botocore logs
each DynamoDB request body at that level, Powertools logs each route's parsed arguments) and Powertools'
dev mode on (its resolvers print whole events unless built `sensitive`). Then every captured log record,
everything written to stdout and stderr, and every item of the table are searched for the numbers (with
and without spaces) and the CVCs."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
from selfservice import bootstrap
from support.functions import HttpResult

from .conftest import Tenant

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# (number as typed, CVC). Numbers are the sandbox's test cards. The CVCs start with 0, so that no
# number in a log line (a content length, a CRC, a count) can be one by chance.
VISA = ("4242 4242 4242 4242", "042")
AMEX = ("3782 822463 10005", "0427")
REFUSED = ("4000 0000 0000 0002", "071")
NOT_LUHN = ("4242 4242 4242 4241", "093")
SCHEMA_INVALID = ("4242 4242 4242 4242", "04271")  # a CVC too long for the schema

Request = Callable[..., HttpResult]


@pytest.fixture
def everything_logged(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    monkeypatch.setenv("POWERTOOLS_DEV", "true")
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "DEBUG")
    caplog.set_level(logging.DEBUG)  # the root logger: botocore, Powertools' internals, ours
    yield


def _tokenise(request_as: Request, tenant: Tenant, card: tuple[str, str]) -> HttpResult:
    number, cvc = card
    return request_as(tenant, "sandbox_tokens", "sandbox_tokens",
                      body={"number": number, "exp_month": 11, "exp_year": 2031, "cvc": cvc, "name": "Maria Berg"})


def _journey(request_as: Request, tenant: Tenant) -> None:
    ids = []
    for card in (VISA, AMEX):
        tokenised = _tokenise(request_as, tenant, card)
        assert tokenised.status == 201, tokenised.body
        added = request_as(tenant, "payment_methods", "payment_methods-add", body={"token": tokenised.body["token"]})
        assert added.status == 201, added.body
        ids.append(added.body["id"])
    listed = request_as(tenant, "payment_methods", "payment_methods-list")
    assert len(listed.body["items"]) == 2
    made = request_as(tenant, "payment_methods", "payment_methods-default", path={"payment_method_id": ids[1]})
    assert made.status == 200, made.body
    removed = request_as(tenant, "payment_methods", "payment_methods-remove", path={"payment_method_id": ids[0]})
    assert removed.status == 200, removed.body
    assert _tokenise(request_as, tenant, REFUSED).status == 402
    assert _tokenise(request_as, tenant, NOT_LUHN).status == 422
    assert _tokenise(request_as, tenant, SCHEMA_INVALID).status == 422
    assert request_as(tenant, "account", "account-get").status == 200


def _forbidden_texts() -> list[str]:
    texts = []
    for number, _cvc in (VISA, AMEX, REFUSED, NOT_LUHN):
        digits = number.replace(" ", "")
        texts += [number, digits]  # as typed, and as digits
    return texts


# The field's name as a key (JSON, an escaped JSON body, a dict or a repr): `"cvc": `, `cvc=` ...
# ("cvc" inside a random id is not it).
_CVC_FIELD = re.compile(r"""(?<![a-z0-9])cvc\\?["']?\s*[:=]""", re.IGNORECASE)


def _cvc_leaks(text: str) -> list[str]:
    """A CVC as a value of its own: quoted, or after `=` or `:`. (The same digits inside an id, a hash
    or a timestamp's fraction are not the CVC; a leaked body or repr always quotes it.)"""
    found = []
    for _number, cvc in (VISA, AMEX, REFUSED, NOT_LUHN, SCHEMA_INVALID):
        if re.search(rf"""['"]{cvc}['"]|[=:]\s?{cvc}(?!\d)""", text):
            found.append(cvc)
    return found


def _table_strings(client: DynamoDBClient, table: str) -> list[str]:
    strings: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                strings.append(str(key))
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)
        else:
            strings.append(str(value))

    pages = client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
    for page in pages:
        walk(page["Items"])
    return strings


@pytest.mark.usefixtures("everything_logged")
@pytest.mark.filterwarnings("ignore:POWERTOOLS_DEV environment variable is enabled")
def test_no_card_number_or_cvc_in_any_log_or_item(business: Tenant, request_as: Request,
                                                   caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str],
                                                   aws: dict[str, str], dynamodb_client: DynamoDBClient) -> None:
    _journey(request_as, business)

    out, err = capfd.readouterr()
    records = "\n".join(f"{r.name} {r.levelname} {r.getMessage()} {r.args!r} {r.__dict__!r}" for r in caplog.records)
    logs = "\n".join((caplog.text, records, out, err))
    assert any("dynamodb" in r.name or "botocore" in r.name for r in caplog.records), "DEBUG capture is not working"
    assert "TransactWriteItems" in logs or "transact_write_items" in logs.lower()
    for text in _forbidden_texts():
        assert text not in logs, f"{text!r} was logged"
    assert _cvc_leaks(logs) == []
    assert not _CVC_FIELD.search(logs)  # no body, repr or event that names the field was logged

    stored = _table_strings(dynamodb_client, aws["Table"])
    assert any(s.startswith("SANDBOX#TOKEN#") for s in stored)
    joined = "\n".join(stored)
    for text in _forbidden_texts():
        assert text not in joined, f"{text!r} was stored"
    for _number, cvc in (VISA, AMEX, REFUSED, NOT_LUHN, SCHEMA_INVALID):
        assert cvc not in stored, f"the CVC {cvc!r} was stored"
    assert not _CVC_FIELD.search(joined)


def test_the_gateway_in_the_functions_is_the_persistent_sandbox(business: Tenant) -> None:
    from selfservice.adapters.sandbox_gateway import DynamoSandboxStore, SandboxGateway

    gateway = bootstrap.deps().gateway
    assert isinstance(gateway, SandboxGateway)
    assert isinstance(gateway._store, DynamoSandboxStore)
