"""Who is calling: the `Caller` from the JWT claims that API Gateway's authorizer has already verified.

The tenant comes only from the token, never from a path or a body. Roles come from a claim too, in
whatever form the gateway passes it: a real list, a JSON array string, API Gateway's "[a b]" rendering
of an array claim, or "a b" / "a,b". Only the service account owner may use the API.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Depends
from aws_lambda_powertools.event_handler.request import Request

from selfservice import bootstrap
from selfservice.services import Caller

SAO_ROLE = "service_account_owner"

# Longer claims than these are not ids we issue; refusing them keeps them out of keys and logs.
MAX_TENANT_ID_LENGTH = 128
MAX_SUBJECT_LENGTH = 256
MAX_ROLES_LENGTH = 4096

_ROLE_SEPARATORS = re.compile(r"[\s,]+")


class Unauthorized(Exception):
    """No usable identity in the request (the gateway normally refuses these before the function)."""

    code = "unauthorized"

    def __init__(self, message: str = "A valid bearer token is required.") -> None:
        super().__init__(message)
        self.message = message


class Forbidden(Exception):
    """A valid identity without the right to use the API."""

    code = "forbidden"

    def __init__(self, message: str = "Only the service account owner may manage the subscription.") -> None:
        super().__init__(message)
        self.message = message


def parse_roles(value: object) -> frozenset[str]:
    """Every form a roles claim arrives in, as a set of role names. Unknown shapes give no roles."""
    if value is None:
        return frozenset()
    if isinstance(value, list | tuple | set | frozenset):
        return frozenset(str(item).strip() for item in value if isinstance(item, str) and item.strip())
    if not isinstance(value, str) or len(value) > MAX_ROLES_LENGTH:
        return frozenset()
    text = value.strip()
    if text.startswith("["):
        try:
            decoded = json.loads(text)
        except ValueError:
            decoded = None
        if isinstance(decoded, list):
            return parse_roles(decoded)
        # API Gateway renders an array claim as "[a b]" (no quotes, space separated).
        text = text[1:-1] if text.endswith("]") else text[1:]
    tokens = (token.strip("\"'") for token in _ROLE_SEPARATORS.split(text))
    return frozenset(token for token in tokens if token)


def jwt_claims(event: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """`requestContext.authorizer.jwt.claims` of an HTTP API (v2) event, or None."""
    node: Any = event
    for key in ("requestContext", "authorizer", "jwt", "claims"):
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node if isinstance(node, Mapping) else None


def _claim_text(claims: Mapping[str, Any], name: str, max_length: int) -> str | None:
    value = claims.get(name)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value if 0 < len(value) <= max_length else None


def caller_from_claims(claims: Mapping[str, Any] | None, *, tenant_claim: str, roles_claim: str) -> Caller:
    """The acting SAO. Raises Unauthorized without a subject or tenant, Forbidden without the SAO role."""
    if claims is None:
        raise Unauthorized()
    subject = _claim_text(claims, "sub", MAX_SUBJECT_LENGTH)
    tenant_id = _claim_text(claims, tenant_claim, MAX_TENANT_ID_LENGTH)
    if subject is None or tenant_id is None:
        raise Unauthorized("The token does not name a user and a tenant.")
    if SAO_ROLE not in parse_roles(claims.get(roles_claim)):
        raise Forbidden()
    return Caller(tenant_id=tenant_id, subject=subject)


def caller_from_event(event: Mapping[str, Any]) -> Caller:
    settings = bootstrap.settings()
    return caller_from_claims(
        jwt_claims(event), tenant_claim=settings.tenant_claim, roles_claim=settings.roles_claim
    )


def require_identity(event: Mapping[str, Any]) -> None:
    """Any authenticated user (no role needed): for what is not tenant data, such as /openapi.json."""
    claims = jwt_claims(event)
    if claims is None or _claim_text(claims, "sub", MAX_SUBJECT_LENGTH) is None:
        raise Unauthorized()


def current_caller(request: Request) -> Caller:
    """Dependency for route handlers: reads the event of the resolver that runs the route."""
    return caller_from_event(request.resolved_event.raw_event)


# A route parameter `caller: CurrentCaller` receives the acting SAO; it is not part of the OpenAPI inputs.
CurrentCaller = Annotated[Caller, Depends(current_caller)]
