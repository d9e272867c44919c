"""Every HttpApi route of template.yaml, a sample request for each, and a way to send any of them through
the real function handler in-process.

The tests that must cover every route (the authorization matrix, mass assignment, the body bound) are
generated from `api_routes()`: a route added to the template is covered by them at once, and fails them
until `SAMPLES` has a request for it. The samples are requests that the route accepts from its owner
(valid against the schema, naming real objects), so that a refusal of another identity is the refusal
of that identity, never of a malformed request."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from selfservice_local.gateway import IncomingRequest, build_event
from selfservice_local.template import Route, Template, load_template

from support.functions import HttpResult, call

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
# Routes whose answer is not tenant data: any authenticated caller may read them (no role needed).
NOT_TENANT_DATA = frozenset({"GET /openapi.json"})


@cache
def template() -> Template:
    return load_template(TEMPLATE)


def api_routes() -> tuple[Route, ...]:
    """The template's HttpApi routes, in template order."""
    return tuple(route for route in template().routes if route.path != "$default")


def flow(route: Route) -> str:
    """The function directory (functions/<flow>/) that serves `route`."""
    return template().functions[route.function].code_dir.name


def path_parameters(route: Route) -> list[str]:
    return re.findall(r"\{([A-Za-z0-9_]+)\}", route.path)


def takes_body(route: Route) -> bool:
    return route.method in ("POST", "PUT", "PATCH")


@dataclass(frozen=True)
class Ids:
    """Real objects of one tenant, by the path parameter that names them."""

    subscription_id: str
    user_id: str
    payment_method_id: str
    invoice_id: str
    card_token: str  # a token the sandbox's tokeniser made for the tenant (a credential for its card)

    def path_value(self, parameter: str) -> str:
        value = getattr(self, parameter, None)
        if not isinstance(value, str):
            raise LookupError(f"no sample object for the path parameter {{{parameter}}}: add it to support.routes.Ids")
        return value


@dataclass(frozen=True)
class Sample:
    query: dict[str, str] = field(default_factory=dict)
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


# One request per route that its owner may send (route key -> sample, from the owner's ids).
SAMPLES: dict[str, Callable[[Ids], Sample]] = {
    "GET /account": lambda ids: Sample(),
    "GET /billing-info": lambda ids: Sample(),
    "PUT /billing-info": lambda ids: Sample(body={
        "company_name": "Sample AB", "email": "billing@sample.example", "address_line1": "Storgatan 1",
        "postal_code": "111 22", "city": "Stockholm", "country": "SE"}),
    "GET /subscriptions": lambda ids: Sample(),
    "GET /subscriptions/{subscription_id}": lambda ids: Sample(),
    "GET /subscriptions/{subscription_id}/quote": lambda ids: Sample(query={"change": "increase", "seats": "30"}),
    "GET /openapi.json": lambda ids: Sample(),
    "POST /subscriptions/{subscription_id}/seats": lambda ids: Sample(
        body={"seats": 30, "payment_method_id": ids.payment_method_id, "expected_total": 1},
        headers={"Idempotency-Key": "sample-seats"}),
    "POST /subscriptions/{subscription_id}/seat-reduction": lambda ids: Sample(body={"seats": 9, "acknowledged": True}),
    "POST /subscriptions/{subscription_id}/seat-reduction/undo": lambda ids: Sample(body={"acknowledged": True}),
    "POST /subscriptions/{subscription_id}/renewal": lambda ids: Sample(
        body={"seats": 30, "payment_method_id": ids.payment_method_id, "expected_total": 1},
        headers={"Idempotency-Key": "sample-renewal"}),
    "GET /invoices": lambda ids: Sample(query={"limit": "10"}),
    "GET /invoices/{invoice_id}": lambda ids: Sample(),
    "POST /invoices/{invoice_id}/pay": lambda ids: Sample(
        body={"payment_method_id": ids.payment_method_id}, headers={"Idempotency-Key": "sample-pay"}),
    "POST /subscriptions/{subscription_id}/cancellation": lambda ids: Sample(
        body={"acknowledged": True, "reason": "sample"}),
    "POST /subscriptions/{subscription_id}/cancellation/undo": lambda ids: Sample(body={"acknowledged": True}),
    "POST /subscriptions/{subscription_id}/upgrade-request": lambda ids: Sample(body={"message": "sample"}),
    "GET /users": lambda ids: Sample(),
    "POST /users": lambda ids: Sample(body={"email": "sample.user@sample.example"}),
    "DELETE /users/{user_id}": lambda ids: Sample(),
    "GET /activity": lambda ids: Sample(query={"limit": "10"}),
    "GET /payment-methods": lambda ids: Sample(),
    "POST /payment-methods": lambda ids: Sample(body={"token": ids.card_token}),
    "DELETE /payment-methods/{payment_method_id}": lambda ids: Sample(),
    "POST /payment-methods/{payment_method_id}/default": lambda ids: Sample(),
    "POST /sandbox/card-tokens": lambda ids: Sample(body={
        "number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2030, "cvc": "123", "name": "Sample Holder"}),
    "GET /invoices/{invoice_id}/pdf": lambda ids: Sample(),
}


def sample(route: Route, ids: Ids) -> Sample:
    make = SAMPLES.get(route.route_key)
    if make is None:
        raise LookupError(f"{route.route_key} (template.yaml) has no sample request: add one to "
                          "tests/support/routes.py SAMPLES, so the authorization and input tests cover it")
    return make(ids)


def concrete_path(route: Route, ids: Ids) -> str:
    path = route.path
    for parameter in path_parameters(route):
        path = path.replace("{" + parameter + "}", ids.path_value(parameter))
    return path


def call_route(route: Route, ids: Ids, claims: Mapping[str, Any] | None, *, body: Any = None,
               raw_body: bytes | None = None, query: Mapping[str, str] | None = None,
               headers: Mapping[str, str] | None = None, content_type: str = "application/json") -> HttpResult:
    """Send `route` with `ids` in its path to its function, as API Gateway would after its JWT authorizer
    passed `claims` (None: no authorizer context at all). `body` is JSON-encoded; `raw_body` is sent as is
    (the gateway base64-encodes what is not UTF-8 text of a text type, as the local run does)."""
    path = concrete_path(route, ids)
    data = raw_body if raw_body is not None else (json.dumps(body).encode() if body is not None else b"")
    sent_headers = [("content-type", content_type)] if data else []
    sent_headers += list((headers or {}).items())
    request = IncomingRequest(method=route.method, raw_path=path, raw_query=urlencode(dict(query or {})),
                              headers=sent_headers, body=data, source_ip="203.0.113.24")
    params = {p: ids.path_value(p) for p in path_parameters(route)}
    authorizer = {"jwt": {"claims": dict(claims), "scopes": None}} if claims is not None else None
    return call(flow(route), build_event(request, route.route_key, params, authorizer))
