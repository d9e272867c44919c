"""The one mapping from errors to HTTP responses. Every error body has the same shape:

    {"error": {"code": "...", "message": "...", "details": {...}}}

Domain errors carry their code and details; this module adds only the status, by family:
NotFound 404, InvalidInput 422, RuleViolation (all of them, incl. ConcurrentUpdate) 409, PaymentFailed
402, GatewayUnavailable 503 and RateLimited 429 (both with Retry-After). Request validation becomes 422
with a readable message per field (never the input itself), a body that is not JSON or not a JSON
object 400, a body above MAX_BODY_BYTES 413 (checked before it is parsed, see http/app.py), an unknown
route 404 (405 when the path exists with another method). An AWS service failing (DynamoDB throttling
after botocore's own retries, a time-out, any error answer of AWS) is 503 `service_unavailable` with
Retry-After; anything else unexpected 500 with a generic message. The details go to the log only, never
a stack trace to the client.
"""

from __future__ import annotations

import base64
import binascii
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
    ResponseValidationError,
)

from selfservice.domain.errors import (
    DomainError,
    GatewayUnavailable,
    InvalidInput,
    NotFound,
    PaymentFailed,
    RateLimited,
    RuleViolation,
)
from selfservice.http import presenters
from selfservice.http.auth import Forbidden, Unauthorized, caller_from_event

logger = Logger()

# Family -> status; the first match in this order wins (more specific families first).
STATUS_BY_FAMILY: tuple[tuple[type[DomainError], int], ...] = (
    (PaymentFailed, 402),
    (GatewayUnavailable, 503),
    (RateLimited, 429),
    (NotFound, 404),
    (InvalidInput, 422),
    (RuleViolation, 409),
)
UNKNOWN_DOMAIN_ERROR_STATUS = 422

MAX_REPORTED_ERRORS = 20
MAX_PATH_SEGMENT = 64

# Request bodies above this are refused (413) before they are decoded or parsed. API Gateway's own
# limit (10 MB) is far too generous for these bodies: the longest valid one, an upgrade request's
# 2,000-character message, stays below it even with every character \u-escaped in surrogate pairs.
MAX_BODY_BYTES = 32 * 1024

# What a client is told to wait before retrying a 503: DynamoDB throttling and gateway hiccups are
# short-lived, and botocore has already retried (with back-off) before the function gives up.
SERVICE_RETRY_AFTER_SECONDS = 2

_NOT_AN_OBJECT = frozenset({"model_attributes_type", "model_type", "dict_type"})
_SAFE_REASON = re.compile(r"^[\w .,;:'()@-]{1,200}$")


def error_response(status: int, code: str, message: str, details: Mapping[str, Any] | None = None,
                   headers: Mapping[str, str] | None = None) -> Response[Any]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=presenters.error(code, message, details),
        headers=dict(headers) if headers else None,
    )


def status_of(error: DomainError) -> int:
    for family, status in STATUS_BY_FAMILY:
        if isinstance(error, family):
            return status
    return UNKNOWN_DOMAIN_ERROR_STATUS


def domain_error_response(error: DomainError) -> Response[Any]:
    status = status_of(error)
    headers: dict[str, str] | None = None
    if status == 429:
        headers = {"Retry-After": str(error.details.get("retry_after_seconds") or SERVICE_RETRY_AFTER_SECONDS)}
    elif status == 503:
        headers = {"Retry-After": str(SERVICE_RETRY_AFTER_SECONDS)}
    return error_response(status, error.code, error.message, error.details, headers=headers)


def service_unavailable_response() -> Response[Any]:
    return error_response(503, "service_unavailable",
                          "A service we depend on is busy or unavailable; nothing was changed by this error. "
                          "Please retry shortly (with the same Idempotency-Key, if the request has one).",
                          {"retry_after_seconds": SERVICE_RETRY_AFTER_SECONDS},
                          headers={"Retry-After": str(SERVICE_RETRY_AFTER_SECONDS)})


def is_aws_failure(error: BaseException) -> bool:
    """Whether `error`, or an error it was raised from (Powertools' idempotency store wraps the one of
    its table), is botocore's: an AWS service answered with an error (throttling after botocore's own
    retries, an internal error ...) or could not be reached in time. botocore is looked up, not
    imported: a function that never loaded it cannot have failed in it."""
    exceptions = sys.modules.get("botocore.exceptions")
    if exceptions is None:
        return False
    kinds = (exceptions.ClientError, exceptions.BotoCoreError)
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, kinds):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def body_refusal(event: Mapping[str, Any]) -> Response[Any] | None:
    """The answer to a request body that must not be parsed at all: larger than MAX_BODY_BYTES (413), or
    bytes that are not text (400). None for a body the resolver may go on with. Reads the raw event:
    the size is known before anything is decoded."""
    body = event.get("body")
    if not isinstance(body, str) or not body:
        return None
    encoded = bool(event.get("isBase64Encoded"))
    # A base64 text of n characters holds at most 3n/4 bytes; plain text is measured as UTF-8.
    size = len(body) * 3 // 4 if encoded else len(body.encode("utf-8", "surrogatepass"))
    if size > MAX_BODY_BYTES:
        return error_response(413, "payload_too_large",
                              f"The request body is larger than {MAX_BODY_BYTES} bytes.",
                              {"max_bytes": MAX_BODY_BYTES})
    if encoded:
        try:
            base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return error_response(400, "malformed_json", "The request body is not valid JSON (UTF-8 text).")
    return None


# --------------------------------------------------------------------------------------------------
# Validation errors: Powertools/pydantic give `loc` and `type` (+ `ctx`); clients get a field path and
# a sentence. The input is never echoed: it may be large, or personal.


def _bound(value: Any) -> Any:
    return value if isinstance(value, int | float) else str(value)[:100]


def validation_message(error: Mapping[str, Any]) -> str:
    kind = str(error.get("type", ""))
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    simple = {
        "missing": "is required",
        "extra_forbidden": "is not a known field",
        "int_type": "must be an integer",
        "int_parsing": "must be an integer",
        "int_from_float": "must be a whole number",
        "bool_type": "must be true or false (a JSON boolean)",
        "bool_parsing": "must be true or false",
        "string_type": "must be a string",
        "list_type": "must be a list",
        "model_attributes_type": "must be a JSON object",
        "model_type": "must be a JSON object",
        "dict_type": "must be a JSON object",
        "datetime_type": "must be an ISO-8601 date and time",
        "datetime_parsing": "must be an ISO-8601 date and time",
        "datetime_from_date_parsing": "must be an ISO-8601 date and time",
        "timezone_aware": "must carry a UTC offset (e.g. Z)",
        "url_parsing": "must be a URL",
    }
    if kind in simple:
        return simple[kind]
    if kind == "string_too_short":
        minimum = ctx.get("min_length", 1)
        return "must not be empty" if minimum == 1 else f"must be at least {_bound(minimum)} characters"
    if kind == "string_too_long":
        return f"must be at most {_bound(ctx.get('max_length'))} characters"
    if kind == "string_pattern_mismatch":
        return f"must match the pattern {_bound(ctx.get('pattern'))}"
    if kind == "greater_than_equal":
        return f"must be at least {_bound(ctx.get('ge'))}"
    if kind == "greater_than":
        return f"must be greater than {_bound(ctx.get('gt'))}"
    if kind == "less_than_equal":
        return f"must be at most {_bound(ctx.get('le'))}"
    if kind == "less_than":
        return f"must be less than {_bound(ctx.get('lt'))}"
    if kind == "too_long":
        return f"must have at most {_bound(ctx.get('max_length'))} items"
    if kind == "too_short":
        return f"must have at least {_bound(ctx.get('min_length'))} items"
    if kind in ("literal_error", "enum"):
        return f"must be one of {_bound(ctx.get('expected'))}"
    if kind == "value_error":
        reason = str(ctx.get("reason", ""))
        if "email" in str(error.get("msg", "")).lower():
            return "is not a valid e-mail address" + (f": {reason}" if _SAFE_REASON.match(reason) else "")
        return "is not valid"
    return "is not valid"


def _field_path(loc: Sequence[Any]) -> str:
    path = ""
    for segment in loc:
        if isinstance(segment, int):
            path += f"[{segment}]"
        else:
            text = str(segment)[:MAX_PATH_SEGMENT]
            path += f".{text}" if path else text
    return path


def describe_validation_errors(errors: Iterable[Mapping[str, Any]], *,
                               locations: frozenset[str] = frozenset()) -> list[dict[str, str]]:
    """One `{field, message}` (plus `in` for the request part: body, query, path, header) per error.
    `locations` are the loc prefixes that name the request part rather than a field."""
    described: list[dict[str, str]] = []
    for error in errors:
        loc = list(error.get("loc") or ())
        where = loc.pop(0) if loc and loc[0] in locations else None
        entry = {"field": _field_path(loc) or (where or "value"), "message": validation_message(error)}
        if where is not None:
            entry["in"] = str(where)
        if entry not in described:
            described.append(entry)
        if len(described) >= MAX_REPORTED_ERRORS:
            break
    return described


def summary(described: Sequence[Mapping[str, str]], *, what: str = "request") -> str:
    if not described:
        return f"The {what} is not valid."
    first = described[0]
    more = len(described) - 1
    tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"The {what} is not valid: {first['field']} {first['message']}{tail}."


_REQUEST_PARTS = frozenset({"body", "query", "path", "header", "cookie"})


def request_validation_response(error: RequestValidationError) -> Response[Any]:
    errors = [e for e in error.errors() if isinstance(e, Mapping)]
    if any(e.get("type") == "json_invalid" for e in errors):
        return error_response(400, "malformed_json", "The request body is not valid JSON.")
    if any(tuple(e.get("loc") or ()) == ("body",) and e.get("type") in _NOT_AN_OBJECT for e in errors):
        return error_response(400, "malformed_json", "The request body must be a JSON object.")
    if any((e.get("loc") or ("",))[0] == "path" for e in errors):
        # A malformed id cannot name anything: the same answer as an id that does not exist.
        return error_response(404, "not_found", "No such resource.")
    described = describe_validation_errors(errors, locations=_REQUEST_PARTS)
    return error_response(422, "validation_error", summary(described), {"errors": described})


# --------------------------------------------------------------------------------------------------


def _allowed_methods(app: APIGatewayHttpResolver, path: str) -> list[str]:
    """The methods other routes of this resolver serve on `path` (Powertools reports them as 404)."""
    try:
        routes = [*app._static_routes, *app._dynamic_routes]
    except AttributeError:  # a future Powertools without these lists: plain 404 then
        return []
    return sorted({route.method for route in routes if route.rule.match(path)})


def register(app: APIGatewayHttpResolver) -> None:
    """Install the handlers on `app`. Lookups walk the exception's MRO, so the most specific wins."""

    def handles(*kinds: type[Exception]) -> Callable[[Callable[..., Response[Any]]], Callable[..., Response[Any]]]:
        return app.exception_handler(list(kinds))  # type: ignore[no-any-return]

    @handles(DomainError)
    def _domain(error: DomainError) -> Response[Any]:
        return domain_error_response(error)

    @handles(Unauthorized)
    def _unauthorized(error: Unauthorized) -> Response[Any]:
        return error_response(401, error.code, error.message)

    @handles(Forbidden)
    def _forbidden(error: Forbidden) -> Response[Any]:
        return error_response(403, error.code, error.message)

    def denial() -> Response[Any] | None:
        # Who may call comes before what they sent (Powertools validates before the route asks for the
        # caller): a member without the SAO role learns nothing about the shape of a request.
        try:
            caller_from_event(app.current_event.raw_event)
        except Unauthorized as denied:
            return _unauthorized(denied)
        except Forbidden as denied:
            return _forbidden(denied)
        return None

    @handles(RequestValidationError)
    def _invalid_request(error: RequestValidationError) -> Response[Any]:
        denied = denial()
        return denied if denied is not None else request_validation_response(error)

    @handles(RequestUnsupportedContentType)
    def _unsupported(_error: RequestUnsupportedContentType) -> Response[Any]:
        denied = denial()
        if denied is not None:
            return denied
        return error_response(415, "unsupported_media_type", "Send the request body as application/json.")

    @handles(NotFoundError)
    def _no_route(_error: NotFoundError) -> Response[Any]:
        path = str(app.context.get("_path") or app.current_event.path)
        allowed = _allowed_methods(app, path)
        if allowed:
            return error_response(405, "method_not_allowed", "The method is not allowed on this path.",
                                  {"allowed": allowed}, headers={"Allow": ", ".join(allowed)})
        return error_response(404, "not_found", "No such route.")

    @handles(ServiceError)
    def _service(error: ServiceError) -> Response[Any]:
        status = error.status_code
        try:
            code = HTTPStatus(status).phrase.lower().replace(" ", "_")
        except ValueError:
            code = "error"
        if status >= 500:
            logger.error("service error", exc_info=error)
            return error_response(500, "internal_error", "Something went wrong on our side; please try again.")
        return error_response(status, code, str(error.msg)[:500])

    @handles(ResponseValidationError, Exception)
    def _unexpected(error: Exception) -> Response[Any]:
        if is_aws_failure(error):
            logger.warning("an AWS service failed", exc_info=error, extra={"error_type": type(error).__name__})
            return service_unavailable_response()
        logger.error("unhandled error", exc_info=error, extra={"error_type": type(error).__name__})
        return error_response(500, "internal_error", "Something went wrong on our side; please try again.")
