"""Mass assignment (OWASP API3): a client cannot set what the API computes or owns. Generated from the
schemas: every field of every response shape in the OpenAPI document (seats and active users, status,
amounts and totals, ids, tenant, default flag, invoice number ...), plus the stored item's own attributes
(tenant_id, version), is sent in the body of every route that takes one, next to a valid sample body.
Each is refused as an unknown field (422, naming it) before anything runs, and nothing changes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from selfservice.http.app import openapi_document
from selfservice_local.template import Route
from support.money import add_card
from support.routes import Ids, api_routes, call_route, sample

from .conftest import Tenant

# What the table stores beside the API's fields: never settable either.
STORED_ATTRIBUTES = {"tenant_id": "ten_someone_else", "version": 99, "entity": "invoice", "PK": "TENANT#x",
                     "SK": "A#SUB#x", "seats_in_use": 0, "amount": 1}


def document() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(openapi_document())
    return doc


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def request_fields(doc: dict[str, Any], route: Route) -> set[str] | None:
    """The fields the route's request body accepts; None if it takes no body."""
    if route.route_key == "GET /openapi.json":
        return None  # the document itself (include_in_schema=False)
    operation = doc["paths"].get(route.path, {}).get(route.method.lower())
    assert operation is not None, f"{route.route_key} is in template.yaml but not in the OpenAPI document"
    body = operation.get("requestBody")
    if body is None:
        return None
    schema = _resolve(doc, body["content"]["application/json"]["schema"])
    for choice in schema.get("anyOf", []):  # an optional body: {$ref} or null
        if "$ref" in choice:
            schema = _resolve(doc, choice)
    return set(schema.get("properties", {}))


def computed_fields(doc: dict[str, Any]) -> dict[str, Any]:
    """Every field of every response shape, with a value of its documented type."""
    values: dict[str, Any] = {}
    for name, schema in doc["components"]["schemas"].items():
        if not name.endswith("Out"):
            continue
        for field, spec in schema.get("properties", {}).items():
            kinds = {spec.get("type")} | {choice.get("type") for choice in spec.get("anyOf", [])}
            values.setdefault(field, 123456 if "integer" in kinds else True if "boolean" in kinds else
                              {} if "object" in kinds else [] if "array" in kinds else "injected")
    return values | STORED_ATTRIBUTES


BODY_ROUTES = [r for r in api_routes() if request_fields(document(), r) is not None]


@pytest.fixture
def owner(business: Tenant, request_as: Callable[..., Any]) -> Iterator[tuple[Tenant, Ids]]:
    card = add_card(request_as, business)
    user_id = next(iter(business.user_ids.values()))
    yield business, Ids(business.subscription_id, user_id, card, "inv_" + "0" * 26, "tok_" + "0" * 26)


def test_every_route_that_takes_a_body_is_covered() -> None:
    keys = {r.route_key for r in BODY_ROUTES}
    assert {"PUT /billing-info", "POST /subscriptions/{subscription_id}/renewal", "POST /users"} <= keys
    assert len(computed_fields(document())) > 50


@pytest.mark.parametrize("route", BODY_ROUTES, ids=[r.route_key for r in BODY_ROUTES])
def test_fields_the_api_computes_are_refused_in_every_body(owner: tuple[Tenant, Ids], route: Route,
                                                           request_as: Callable[..., Any],
                                                           figures: dict[str, Any]) -> None:
    tenant, ids = owner
    doc = document()
    accepted = request_fields(doc, route) or set()
    request = sample(route, ids)
    before = request_as(tenant, "account", "account-get").body

    refused = 0
    for field, value in computed_fields(doc).items():
        if field in accepted:
            continue  # the route's own input (e.g. seats of a renewal)
        result = call_route(route, ids, tenant.claims(), body={**(request.body or {}), field: value},
                            query=request.query, headers=request.headers)
        assert (result.status, result.error_code) == (422, "validation_error"), (field, result.body)
        assert {"field": field, "message": "is not a known field", "in": "body"} in \
            result.body["error"]["details"]["errors"], (field, result.body)
        refused += 1

    assert refused > 40
    assert request_as(tenant, "account", "account-get").body == before
    figures.setdefault("mass assignment: computed fields refused (route x field)", 0)
    figures["mass assignment: computed fields refused (route x field)"] += refused
