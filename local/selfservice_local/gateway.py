"""What API Gateway (HTTP API, payload format 2.0) and Lambda hand a function, and how the gateway
turns the function's answer into an HTTP response. Kept free of sockets so it is easy to test."""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

ACCOUNT_ID = "123456789012"
API_ID = "local"

# Bodies API Gateway passes as text; everything else arrives base64-encoded with isBase64Encoded.
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript",
               "application/x-www-form-urlencoded", "application/graphql")


@dataclass(frozen=True, slots=True)
class IncomingRequest:
    method: str
    raw_path: str
    raw_query: str
    headers: list[tuple[str, str]]  # as received, in order, names in any case
    body: bytes
    source_ip: str
    protocol: str = "HTTP/1.1"
    host: str = "127.0.0.1"


@dataclass(slots=True)
class GatewayResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @classmethod
    def json(cls, status: int, payload: Any, headers: Iterable[tuple[str, str]] = ()) -> GatewayResponse:
        body = json.dumps(payload, ensure_ascii=False).encode()
        return cls(status, [("content-type", "application/json"), *headers], body)


def is_text(content_type: str | None) -> bool:
    if not content_type:
        return True  # API Gateway treats a body without a type as text
    ctype = content_type.split(";")[0].strip().lower()
    return ctype.startswith(_TEXT_TYPES) or ctype.endswith(("+json", "+xml"))


def build_event(request: IncomingRequest, route_key: str, path_parameters: dict[str, str],
                authorizer: dict[str, Any] | None, now: float | None = None) -> dict[str, Any]:
    """An API Gateway HTTP API v2 event, as the Lambda integration would receive it."""
    stamp = now if now is not None else time.time()
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        lower = name.lower()
        if lower == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        headers[lower] = f"{headers[lower]},{value}" if lower in headers else value
    # Added by the gateway in front of every integration.
    headers.setdefault("x-forwarded-for", request.source_ip)
    headers.setdefault("x-forwarded-port", request.host.rpartition(":")[2] if ":" in request.host else "80")
    headers.setdefault("x-forwarded-proto", "http")
    headers.setdefault("x-amzn-trace-id", f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}")
    query: dict[str, str] = {}
    for key, value in parse_qsl(request.raw_query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value

    moment = datetime.fromtimestamp(stamp, UTC)
    context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": API_ID,
        "domainName": request.host,
        "domainPrefix": request.host.split(".")[0].split(":")[0],
        "http": {
            "method": request.method.upper(),
            "path": request.raw_path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": _request_id(),
        "routeKey": route_key,
        "stage": "$default",
        "time": moment.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(stamp * 1000),
    }
    if authorizer is not None:
        context["authorizer"] = authorizer
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
        "headers": headers,
        "requestContext": context,
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if request.body:
        text = is_text(headers.get("content-type"))
        if text:
            try:
                event["body"] = request.body.decode("utf-8")
            except UnicodeDecodeError:
                text = False
        if not text:
            event["body"] = base64.b64encode(request.body).decode()
            event["isBase64Encoded"] = True
    return event


def _request_id() -> str:
    # API Gateway's request ids look like "JKJaXmPLvHcESHA="; any unique string does.
    return base64.b64encode(secrets.token_bytes(10)).decode()


class LambdaContext:
    """The context object the Lambda runtime passes: identity of the function and its time budget."""

    def __init__(self, function_name: str, timeout_seconds: int, memory_mb: int, region: str) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{function_name}"
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{secrets.token_hex(16)}"
        self.identity = None
        self.client_context = None
        self.timeout_seconds = timeout_seconds
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def response_from_result(result: Any) -> GatewayResponse:
    """How the gateway reads a payload-2.0 function result: a dict with statusCode is a response; any
    other JSON value is a 200 with that value as the JSON body."""
    if not (isinstance(result, dict) and "statusCode" in result):
        if isinstance(result, str):
            return GatewayResponse(200, [("content-type", "application/json")], result.encode())
        return GatewayResponse.json(200, result)
    headers: list[tuple[str, str]] = []
    for name, value in (result.get("headers") or {}).items():
        headers.append((str(name), str(value)))
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((str(name), str(v)) for v in values)
    headers.extend(("set-cookie", str(c)) for c in result.get("cookies") or ())
    raw = result.get("body")
    body: bytes
    if raw is None:
        body = b""
    elif result.get("isBase64Encoded"):
        body = base64.b64decode(str(raw))
    else:
        body = (raw if isinstance(raw, str) else json.dumps(raw)).encode()
    if body and not any(n.lower() == "content-type" for n, _ in headers):
        headers.append(("content-type", "application/json"))
    return GatewayResponse(int(result["statusCode"]), headers, body)


UNAUTHORIZED = {"message": "Unauthorized"}
FORBIDDEN = {"message": "Forbidden"}
NOT_FOUND = {"message": "Not Found"}
INTERNAL_ERROR = {"message": "Internal Server Error"}
