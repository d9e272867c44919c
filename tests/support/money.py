"""Helpers of the money tests through the real handlers: cards through the tokeniser and the
payment-method function, quotes, the paying routes with their Idempotency-Key, and what the sandbox
gateway and the invoice counter hold."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from selfservice import bootstrap
from selfservice.ports import INVOICE_SEQUENCE

from support.functions import HttpResult

Request = Callable[..., HttpResult]

VISA = "4242 4242 4242 4242"
DECLINED = "4000 0000 0000 0341"  # tokenises; every charge declined (card_declined)
NO_FUNDS = "4000 0000 0000 9995"  # tokenises; every charge declined (insufficient_funds)


def add_card(request_as: Request, tenant: Any, number: str = VISA, **changes: Any) -> str:
    """Tokenise `number` at the sandbox and save the card; returns its id (the first card is the default)."""
    body = {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "1234" if number.startswith("37") else "123",
            "name": "Maria Berg"} | changes
    token = request_as(tenant, "sandbox_tokens", "sandbox_tokens", body=body)
    assert token.status == 201, token.body
    added = request_as(tenant, "payment_methods", "payment_methods-add", body={"token": token.body["token"]})
    assert added.status in (200, 201), added.body
    card_id: str = added.body["id"]
    return card_id


def quote_total(request_as: Request, tenant: Any, change: str, seats: int) -> int:
    result = request_as(tenant, "account", "account-quote", path={"subscription_id": tenant.subscription_id},
                        query={"change": change, "seats": str(seats)})
    assert result.status == 200, result.body
    total: int = result.body["total"]
    return total


def renew(request_as: Request, tenant: Any, body: Any, key: str | None = "renewal-1", **options: Any) -> HttpResult:
    return _paying(request_as, tenant, "renewal", "renewal", body, key, **options)


def add_seats(request_as: Request, tenant: Any, body: Any, key: str | None = "seats-1", **options: Any) -> HttpResult:
    return _paying(request_as, tenant, "seats", "seats-increase", body, key, **options)


def pay_invoice(request_as: Request, tenant: Any, invoice_id: str, body: Any = None, key: str | None = "pay-1",
                **options: Any) -> HttpResult:
    headers = _key_header(key)
    return request_as(tenant, "invoices", "invoices-pay", path={"invoice_id": invoice_id},
                      body={} if body is None else body, headers=headers, **options)


def _paying(request_as: Request, tenant: Any, flow: str, event: str, body: Any, key: str | None,
            **options: Any) -> HttpResult:
    return request_as(tenant, flow, event, path={"subscription_id": tenant.subscription_id}, body=body,
                      headers=_key_header(key), **options)


def _key_header(key: str | None) -> dict[str, str]:
    # The events carry a key; None sends the request without one.
    return {"idempotency-key": key} if key is not None else {"idempotency-key": ""}


def subscription(request_as: Request, tenant: Any) -> dict[str, Any]:
    result = request_as(tenant, "account", "account-subscription", path={"subscription_id": tenant.subscription_id})
    assert result.status == 200, result.body
    body: dict[str, Any] = result.body
    return body


def invoices(request_as: Request, tenant: Any, **query: str) -> dict[str, Any]:
    result = request_as(tenant, "invoices", "invoices-list", query=query or None)
    assert result.status == 200, result.body
    body: dict[str, Any] = result.body
    return body


def last_invoice_number() -> int:
    return bootstrap.deps().repo.last_number(INVOICE_SEQUENCE)


def stored_charges() -> list[dict[str, Any]]:
    """Every charge the sandbox gateway holds (one per idempotency key), read from its table items."""
    from selfservice.adapters.sandbox_gateway import CHARGE_PK_PREFIX

    client = bootstrap.aws_session().client("dynamodb")
    table = bootstrap.settings().require_table()
    items: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(TableName=table):  # test-only: a scan is fine here
        items += [i for i in page["Items"] if i["PK"]["S"].startswith(CHARGE_PK_PREFIX)]
    return items


def succeeded_charges() -> list[dict[str, Any]]:
    return [c for c in stored_charges() if c["status"]["S"] == "succeeded"]
