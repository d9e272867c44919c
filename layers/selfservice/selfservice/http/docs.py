"""OpenAPI response declarations shared by the routers: the success shape and the error shape."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from selfservice.http.schemas import ErrorOut, GatewayErrorOut

_ERROR_DESCRIPTIONS = {
    400: "Malformed JSON (malformed_json)",
    401: "No valid token: API Gateway's JWT authorizer answers {message: Unauthorized} (unauthorized)",
    402: "The card was declined (code: the decline reason, e.g. card_declined, insufficient_funds); nothing changed",
    403: "Not the service account owner (forbidden)",
    404: "No such object in the caller's tenant (not_found)",
    405: "Method not allowed on this path (method_not_allowed)",
    409: "A business rule or a concurrent change refuses it (code says which)",
    413: "The request body is larger than 32 KiB (payload_too_large)",
    415: "The body is not application/json (unsupported_media_type)",
    422: "The request does not match the schema (validation_error) or is otherwise invalid",
    429: "Too many payment attempts for this subscription this hour (rate_limited): retry after Retry-After",
    500: "Unexpected error (internal_error)",
    503: "A service failed: DynamoDB busy or unreachable (service_unavailable) or the payment gateway "
         "(gateway_unavailable); nothing half-done: retry after Retry-After (with the same Idempotency-Key)",
}

# Statuses that API Gateway or Lambda may answer themselves, in their own shape: {message}.
_GATEWAY_STATUSES = frozenset({401, 413, 429, 500, 503})
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}}
# Every route: a body too large (checked before parsing), DynamoDB failing, and the unexpected.
_ALWAYS = (413, 422, 500, 503)


# The errors of a route that charges: 402 declined, 503 the gateway failed (retry with the same key),
# 409 business rules and payment_in_progress / request_in_progress, 422 also for the Idempotency-Key, 429
# the subscription's payment attempts for the hour used up.
PAYMENT_ERRORS = (400, 401, 402, 403, 404, 409, 422, 429, 503)


def responses(model: type[BaseModel] | None, *, status: int = 200, description: str = "Success",
              errors: tuple[int, ...] = (401, 403, 404, 422)) -> dict[int, Any]:
    """`responses=` for a route decorator: `model` on success and the error shape on each of `errors`
    (413, 422, 500 and 503 always: Powertools would otherwise document its own validation-error shape, and
    every route bounds its body and reads DynamoDB). Where API Gateway or Lambda may answer themselves,
    their shape ({message}) is documented beside ours."""
    declared: dict[int, Any] = {
        status: {"description": description, "content": {"application/json": {"model": model}}}
        if model is not None else {"description": description},
    }
    for code in sorted({*errors, *_ALWAYS}):
        shape: Any = ErrorOut | GatewayErrorOut if code in _GATEWAY_STATUSES else ErrorOut
        declared[code] = {
            "description": _ERROR_DESCRIPTIONS.get(code, "Error"),
            "content": {"application/json": {"model": shape}},
        }
        if code in (429, 503):
            declared[code]["headers"] = _RETRY_AFTER
    return declared
