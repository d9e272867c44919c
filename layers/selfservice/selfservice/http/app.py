"""The resolver factory every HTTP function uses, and the OpenAPI document of the whole API."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import ResponseBuilder, Router
from aws_lambda_powertools.event_handler.request import Request
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from selfservice.http import errors
from selfservice.http.auth import require_identity

API_TITLE = "Subscription self-service API"
API_VERSION = "1.0.0"
API_DESCRIPTION = (
    "The API behind the My Account portal. Every route needs a bearer token (JWT) whose claims name the "
    "tenant and carry the service_account_owner role. Errors: {error: {code, message, details}}."
)
SECURITY_SCHEME = "bearerAuth"
OPENAPI_PATH = "/openapi.json"


def serialize(body: Any) -> str:
    """Strict JSON: no NaN/Infinity, no silent str() of unknown objects (presenters produce plain JSON)."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class GuardedResolver(APIGatewayHttpResolver):
    """Powertools' HTTP API resolver, with the body checked before anything decodes it: Powertools runs
    its request validation (which parses the body) before every middleware, so the bound on the body's
    size (413) and the refusal of bytes that are not text (400) sit in front of `resolve` itself."""

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        refusal = errors.body_refusal(event)
        if refusal is None:
            return super().resolve(event, context)
        builder: ResponseBuilder[APIGatewayProxyEventV2] = ResponseBuilder(refusal, serializer=self._serializer)
        return builder.build(APIGatewayProxyEventV2(dict(event)))


def build_resolver(*routers: Router, serve_openapi: bool = False, sensitive: bool = False) -> APIGatewayHttpResolver:
    """An HTTP API (v2 payload) resolver serving `routers`, validating requests against their schemas,
    with the API's error mapping installed; with `serve_openapi`, also GET /openapi.json. Bodies above
    `errors.MAX_BODY_BYTES` are refused (413) before they are parsed.

    `sensitive`: the requests carry secrets (the tokeniser's card numbers), so Powertools' debug mode,
    which prints every whole event to stdout, stays off whatever POWERTOOLS_DEV says."""
    app = GuardedResolver(enable_validation=True, serializer=serialize, debug=False if sensitive else None)
    for router in routers:
        app.include_router(router)
    if serve_openapi:

        @app.get(OPENAPI_PATH, include_in_schema=False)
        def get_openapi_document(request: Request) -> Response[str]:
            # Behind the gateway's authorizer like every route; no tenant data, so no role is needed.
            require_identity(request.resolved_event.raw_event)
            return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=openapi_document())

    errors.register(app)
    return app


def all_routers() -> tuple[Router, ...]:
    from selfservice.http.routes import (
        account,
        activity,
        cancellation,
        invoice_pdf,
        invoices,
        payment_methods,
        renewal,
        sandbox,
        seats,
        upgrade,
        users,
    )

    return (account.router, seats.router, cancellation.router, upgrade.router, users.router, activity.router,
            invoice_pdf.router, payment_methods.router, sandbox.router, renewal.router, invoices.router)


@cache
def openapi_document() -> str:
    """The OpenAPI 3 document of every route of every function, as JSON. Built once per container."""
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    app = APIGatewayHttpResolver(enable_validation=True)
    for router in all_routers():
        # Including a router binds it to the resolver (its current_event delegates there): include a
        # copy, so the function that serves this document keeps its own router bound to itself.
        app.include_router(copy.copy(router))
    document = json.loads(app.get_openapi_json_schema(
        title=API_TITLE,
        version=API_VERSION,
        description=API_DESCRIPTION,
        security_schemes={SECURITY_SCHEME: HTTPBearer(bearerFormat="JWT")},
        security=[{SECURITY_SCHEME: []}],
    ))
    _drop_unused_schemas(document)
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def _drop_unused_schemas(document: dict[str, Any]) -> None:
    """Powertools adds its own validation-error schemas; every route here declares ErrorOut instead."""
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ResponseValidationError", "ValidationError"):  # users before used
        rest = {key: value for key, value in schemas.items() if key != name}
        text = json.dumps({"paths": document.get("paths"), "schemas": rest})
        if f'"#/components/schemas/{name}"' not in text:
            schemas.pop(name, None)
