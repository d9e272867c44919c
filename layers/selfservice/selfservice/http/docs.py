"""OpenAPI response declarations shared by the routers: the success shape and the error shape."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from selfservice.http.schemas import ErrorOut

_ERROR_DESCRIPTIONS = {
    400: "Malformed JSON (malformed_json)",
    401: "No valid token (unauthorized)",
    402: "The card was declined (code: the decline reason, e.g. card_declined, insufficient_funds); nothing changed",
    403: "Not the service account owner (forbidden)",
    404: "No such object in the caller's tenant (not_found)",
    405: "Method not allowed on this path (method_not_allowed)",
    409: "A business rule or a concurrent change refuses it (code says which)",
    415: "The body is not application/json (unsupported_media_type)",
    422: "The request does not match the schema (validation_error) or is otherwise invalid",
    500: "Unexpected error (internal_error)",
    503: "The payment gateway failed (gateway_unavailable): retry with the same Idempotency-Key",
}


# The errors of a route that charges: 402 declined, 503 the gateway failed (retry with the same key),
# 409 business rules and payment_in_progress / request_in_progress, 422 also for the Idempotency-Key.
PAYMENT_ERRORS = (400, 401, 402, 403, 404, 409, 422, 503)


def responses(model: type[BaseModel] | None, *, status: int = 200, description: str = "Success",
              errors: tuple[int, ...] = (401, 403, 404, 422)) -> dict[int, Any]:
    """`responses=` for a route decorator: `model` on success and the error shape on each of `errors`
    (422 and 500 always: Powertools would otherwise document its own validation-error shape)."""
    declared: dict[int, Any] = {
        status: {"description": description, "content": {"application/json": {"model": model}}}
        if model is not None else {"description": description},
    }
    for code in sorted({*errors, 422, 500}):
        declared[code] = {
            "description": _ERROR_DESCRIPTIONS.get(code, "Error"),
            "content": {"application/json": {"model": ErrorOut}},
        }
    return declared
