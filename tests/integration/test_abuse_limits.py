"""Abuse limits (OWASP API4, API6), through the real handlers on moto:

- request bodies are bounded: above `MAX_BODY_BYTES` every route answers 413 `payload_too_large` before
  the body is decoded or parsed; bytes that are not text are 400, never a 500;
- charging is limited per subscription: at most 10 renewals, seat increases and invoice payments an hour
  (a DynamoDB counter item per subscription and hour, one conditional UpdateItem); the 11th is 429
  `rate_limited` with Retry-After, and nothing is priced or charged. A replay of an Idempotency-Key
  does not count;
- every list is paginated with `limit` 1-100 (generated from the OpenAPI document)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from selfservice import bootstrap
from selfservice.adapters.attempt_counters import counter_sk
from selfservice.adapters.clock import ManualClock
from selfservice.http.app import openapi_document
from selfservice.http.errors import MAX_BODY_BYTES
from selfservice.services.limits import CHARGE_ATTEMPTS_PER_HOUR, hour_window
from selfservice_local.template import Route
from support.events import load_event
from support.functions import LambdaContext, load_function
from support.money import (
    DECLINED,
    NO_FUNDS,
    Request,
    add_card,
    add_seats,
    invoices,
    pay_invoice,
    quote_total,
    renew,
    stored_charges,
    succeeded_charges,
)
from support.routes import Ids, api_routes, call_route, takes_body

from .conftest import NOW, Tenant

ROUTES = api_routes()
FAKE_IDS = Ids("sub_" + "0" * 26, "usr_" + "0" * 26, "pm_" + "0" * 26, "inv_" + "0" * 26, "tok_" + "0" * 26)


def ids_of(tenant: Tenant) -> Ids:
    return Ids(tenant.subscription_id, next(iter(tenant.user_ids.values())), "pm_" + "0" * 26, "inv_" + "0" * 26,
               "tok_" + "0" * 26)


# --- bodies ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("route", ROUTES, ids=[r.route_key for r in ROUTES])
def test_a_body_above_the_bound_is_413_on_every_route(business: Tenant, route: Route) -> None:
    too_large = json.dumps({"message": "a" * MAX_BODY_BYTES}).encode()

    result = call_route(route, ids_of(business), business.claims(), raw_body=too_large)

    assert (result.status, result.error_code) == (413, "payload_too_large"), result.body
    assert result.body["error"]["details"] == {"max_bytes": MAX_BODY_BYTES}


BODY_ROUTES = [r for r in ROUTES if takes_body(r)]


@pytest.mark.parametrize("route", BODY_ROUTES, ids=[r.route_key for r in BODY_ROUTES])
def test_a_body_of_bytes_that_are_not_text_is_400(business: Tenant, route: Route) -> None:
    # Not UTF-8 under a binary type: the gateway hands it over base64-encoded.
    result = call_route(route, ids_of(business), business.claims(), raw_body=b"\xde\xad\xbe\xef{}",
                        content_type="application/octet-stream")

    assert (result.status, result.error_code) == (400, "malformed_json"), result.body


def test_the_longest_valid_body_fits_even_fully_escaped(business: Tenant, request_as: Request) -> None:
    message = "\U0001f600" * 2000  # the longest upgrade message; \ud83d\ude00 is 12 bytes per character
    body = json.dumps({"message": message})  # ensure_ascii: every character escaped
    assert len(body) > 24_000

    result = request_as(business, "upgrade", "upgrade", path={"subscription_id": business.subscription_id},
                        body=body)

    assert result.status == 201, result.body


def test_a_body_just_within_the_bound_is_parsed(business: Tenant, request_as: Request) -> None:
    body = json.dumps({"message": "a" * (MAX_BODY_BYTES - 20)})
    assert len(body.encode()) <= MAX_BODY_BYTES

    result = request_as(business, "upgrade", "upgrade", path={"subscription_id": business.subscription_id},
                        body=body)

    assert (result.status, result.error_code) == (422, "validation_error")  # too long a message, not too large


# --- charging attempts ----------------------------------------------------------------------------------

def wrong_total(request_as: Request, tenant: Tenant, key: str) -> Any:
    return add_seats(request_as, tenant, {"seats": 12, "expected_total": 1}, key=key)


def test_the_eleventh_charging_attempt_in_an_hour_is_429(business: Tenant, request_as: Request,
                                                          api: ManualClock) -> None:
    card = add_card(request_as, business)
    api.advance(10 * 60)  # 12:10: the window ends at 13:00
    first_body = {"seats": 11, "expected_total": quote_total(request_as, business, "increase", 11)}
    first = add_seats(request_as, business, first_body, key="first")
    assert first.status == 201
    for n in range(CHARGE_ATTEMPTS_PER_HOUR - 1):
        refused = wrong_total(request_as, business, key=f"wrong-{n}")
        assert (refused.status, refused.error_code) == (409, "price_changed")

    replay = add_seats(request_as, business, first_body, key="first")
    over = wrong_total(request_as, business, key="eleventh")
    renewal = renew(request_as, business, {"seats": 11, "expected_total": 1, "payment_method_id": card},
                    key="renewal")
    payment = pay_invoice(request_as, business, first.body["invoice"]["id"], key="pay")

    assert (replay.status, replay.headers.get("Idempotency-Replayed")) == (201, "true")  # a replay is free
    for result in (over, renewal, payment):
        assert (result.status, result.error_code) == (429, "rate_limited"), result.body
        assert result.headers["Retry-After"] == "3000"
        assert result.body["error"]["details"] == {
            "subscription_id": business.subscription_id, "limit": CHARGE_ATTEMPTS_PER_HOUR, "window_seconds": 3600,
            "retry_after": "2026-03-10T13:00:00Z", "retry_after_seconds": 3000}
    assert len(succeeded_charges()) == 1
    assert len(invoices(request_as, business)["items"]) == 1

    api.advance(50 * 60)  # 13:00: a new window
    assert wrong_total(request_as, business, key="next-hour").error_code == "price_changed"


def test_the_counter_is_one_item_in_the_tenants_partition_that_expires(business: Tenant, request_as: Request,
                                                                       api: ManualClock) -> None:
    for n in range(3):
        wrong_total(request_as, business, key=f"attempt-{n}")

    start, end = hour_window(api.now())
    client = bootstrap.aws_session().client("dynamodb")
    item = client.get_item(TableName=bootstrap.settings().require_table(), Key={
        "PK": {"S": f"TENANT#{business.tenant_id}"},
        "SK": {"S": counter_sk(f"charge#{business.subscription_id}", start)}})["Item"]
    assert item["count"] == {"N": "3"}
    assert item["entity"] == {"S": "attempt_counter"}
    assert int(item["expires_at"]["N"]) == int(end.timestamp()) + 86400  # the table's TTL attribute


def test_refused_requests_and_other_subscriptions_do_not_count(business: Tenant, provision: Any,
                                                               request_as: Request) -> None:
    for n in range(2 * CHARGE_ATTEMPTS_PER_HOUR):
        no_key = add_seats(request_as, business, {"seats": 12, "expected_total": 1}, key=None)
        assert no_key.error_code == "idempotency_key_required"
        member = add_seats(request_as, business, {"seats": 12, "expected_total": 1}, key=f"member-{n}",
                           claims={"roles": "[member]"})
        assert member.status == 403
    other = provision()
    for n in range(CHARGE_ATTEMPTS_PER_HOUR):
        assert wrong_total(request_as, other, key=f"other-{n}").error_code == "price_changed"

    assert wrong_total(request_as, business, key="mine").error_code == "price_changed"
    assert wrong_total(request_as, other, key="other-over").error_code == "rate_limited"


# --- page sizes -----------------------------------------------------------------------------------------

def list_operations() -> list[tuple[str, str]]:
    """(path, operation id) of every GET whose answer is a list: {items, next_cursor}."""
    doc = json.loads(openapi_document())
    found = []
    for path, operations in doc["paths"].items():
        get = operations.get("get")
        if get is None:
            continue
        ref = get["responses"]["200"]["content"]["application/json"]["schema"].get("$ref", "")
        schema = doc["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {})
        if {"items", "next_cursor"} <= set(schema.get("properties", {})):
            limit = next((p for p in get.get("parameters", []) if p["name"] == "limit"), None)
            assert limit is not None, f"GET {path} returns a list without a limit"
            assert (limit["schema"].get("minimum"), limit["schema"].get("maximum")) == (1, 100), path
            found.append((path, get["operationId"]))
    return found


LISTS = list_operations()


def test_every_list_is_bounded() -> None:
    assert {path for path, _ in LISTS} == {"/subscriptions", "/invoices", "/users", "/activity", "/payment-methods"}


@pytest.mark.parametrize("path", [p for p, _ in LISTS])
@pytest.mark.parametrize(("limit", "status"), [("0", 422), ("101", 422), ("1e3", 422), ("1", 200), ("100", 200)])
def test_page_sizes_are_bounded(business: Tenant, path: str, limit: str, status: int) -> None:
    route = next(r for r in ROUTES if r.method == "GET" and r.path == path)

    result = call_route(route, ids_of(business), business.claims(), query={"limit": limit})

    assert result.status == status, result.body
    if status == 422:
        assert result.body["error"]["details"]["errors"][0]["field"] == "limit"


def test_users_come_in_pages_with_a_cursor_bound_to_the_tenant(business: Tenant, provision: Any) -> None:
    route = next(r for r in ROUTES if r.route_key == "GET /users")
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = call_route(route, ids_of(business), business.claims(),
                          query={"limit": "3"} | ({"cursor": cursor} if cursor else {})).body
        assert len(page["items"]) <= 3
        seen += [user["email"] for user in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    whole = call_route(route, ids_of(business), business.claims()).body
    assert seen == [user["email"] for user in whole["items"]] and len(seen) == 4
    assert whole["next_cursor"] is None

    other = provision()
    stolen = call_route(route, ids_of(other), other.claims(), query={"limit": "3"} | {
        "cursor": call_route(route, ids_of(business), business.claims(), query={"limit": "1"}).body["next_cursor"]})
    assert (stolen.status, stolen.error_code) == (422, "invalid_input")


def test_switching_default_cards_on_a_past_due_subscription_is_limited_too(business: Tenant, request_as: Request,
                                                                           api: ManualClock) -> None:
    """Making a card the default retries a past_due subscription's open invoice at once: a charge the SAO
    sets off, so it counts. Over the limit the default still changes, the retry is not attempted."""
    cards = [add_card(request_as, business, DECLINED), add_card(request_as, business, NO_FUNDS)]
    api.set(NOW.replace(day=31, hour=0, minute=3))  # the term ended; the applier's charge is declined
    load_function("period_end").lambda_handler(load_event("period_end"), LambdaContext())
    assert request_as(business, "account", "account-subscription",
                      path={"subscription_id": business.subscription_id}).body["status"] == "past_due"

    outcomes = []
    for n in range(CHARGE_ATTEMPTS_PER_HOUR + 2):
        made = request_as(business, "payment_methods", "payment_methods-default",
                          path={"payment_method_id": cards[(n + 1) % 2]})
        assert made.status == 200 and made.body["is_default"] is True, made.body
        outcomes.append(made.body["retry"]["status"])
    charges = len(stored_charges())

    assert outcomes == ["failed"] * CHARGE_ATTEMPTS_PER_HOUR + ["not_attempted"] * 2
    assert charges == 1 + CHARGE_ATTEMPTS_PER_HOUR  # the applier's, then one per counted retry
