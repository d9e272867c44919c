"""The HTTP side of the local run: a stdlib threading HTTP server on 127.0.0.1 that plays API Gateway
(route from the template, JWT check, v2 event, response mapping) and serves the local-only routes
under /_local."""

from __future__ import annotations

import json
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import urlsplit

from selfservice_local.auth import Forbidden, Unauthorized, gateway_claims, gateway_scopes
from selfservice_local.gateway import (
    FORBIDDEN,
    INTERNAL_ERROR,
    NOT_FOUND,
    UNAUTHORIZED,
    GatewayResponse,
    IncomingRequest,
    build_event,
    response_from_result,
)

if TYPE_CHECKING:
    from selfservice_local.run import LocalRun

LOCAL_PREFIX = "/_local"
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit


class LocalError(Exception):
    """A refusal of a local-only route, in the API's error shape."""

    def __init__(self, status: int, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def response(self) -> GatewayResponse:
        return GatewayResponse.json(self.status, {"error": {"code": self.code, "message": self.message,
                                                            "details": self.details}})


@dataclass(slots=True)
class Outcome:
    response: GatewayResponse
    target: str = ""  # the function or local route that answered, for the log line
    note: str = ""  # why: the gateway's reason for a refusal, or the API error code


class RequestLog:
    """One line per request: time, method, path, status, milliseconds, who answered."""

    def __init__(self, out: TextIO, colour: bool) -> None:
        self.out = out
        self.colour = colour

    def line(self, method: str, path: str, status: int, ms: float, target: str, note: str) -> None:
        shown = f"{status}"
        if self.colour:
            code = "32" if status < 300 else "36" if status < 400 else "33" if status < 500 else "31"
            shown = f"\033[{code}m{status}\033[0m"
        extra = f"  -> {target}" if target else ""
        if note:
            extra += f"  ({note})"
        stamp = datetime.now().strftime("%H:%M:%S")
        self.out.write(f"{stamp}  {shown} {ms:>7.1f} ms  {method:<6} {path}{extra}\n")
        self.out.flush()


def error_code(response: GatewayResponse) -> str:
    """The API error's code, to show why a request was refused without opening the body."""
    if response.status < 400 or not response.body.startswith(b"{"):
        return ""
    try:
        error = json.loads(response.body).get("error")
    except (ValueError, AttributeError):
        return ""
    return str(error.get("code", "")) if isinstance(error, dict) else ""


class LocalHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], run: LocalRun, log: RequestLog) -> None:
        super().__init__(address, LocalRequestHandler)
        self.run = run
        self.log = log

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that closes its connection before or while sending a request (a browser drops the
        spare connections it opened ahead, a curl is interrupted) is not an error of the run: the
        standard server would print a traceback for it. Anything else is still printed."""
        if isinstance(sys.exc_info()[1], ConnectionResetError | BrokenPipeError | ConnectionAbortedError):
            return
        super().handle_error(request, client_address)


class LocalRequestHandler(BaseHTTPRequestHandler):
    server: LocalHTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "selfservice-local"

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_OPTIONS(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # RequestLog writes the one line per request

    def _read_body(self) -> bytes:
        too_large = LocalError(413, "payload_too_large", "The request body is larger than 10 MB.")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            received = 0
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                received += size
                if received > MAX_BODY_BYTES:
                    self.close_connection = True
                    raise too_large
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            raise LocalError(400, "bad_request", "Content-Length is not a number.") from None
        if length > MAX_BODY_BYTES:
            self.close_connection = True  # the unread body would be taken for the next request
            raise too_large
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self) -> None:
        started = time.perf_counter()
        split = urlsplit(self.path)
        path = split.path or "/"
        try:
            body = self._read_body()
            request = IncomingRequest(
                method=self.command, raw_path=path, raw_query=split.query, headers=list(self.headers.items()),
                body=body, source_ip=self.client_address[0], protocol=self.request_version,
                host=self.headers.get("Host", f"{self.server.run.host}:{self.server.run.port}"),
            )
            if path == LOCAL_PREFIX or path.startswith(LOCAL_PREFIX + "/"):
                outcome = self.server.run.local_routes.handle(request)
            elif (self.server.run.routes.match(request.method, path) is None
                  and (page := self.server.run.portal.response(request)) is not None):
                outcome = Outcome(page, "portal")  # the portal's static files, no auth (docs/portal.md)
            else:
                outcome = dispatch(self.server.run, request)
        except LocalError as refusal:
            outcome = Outcome(refusal.response(), "local", refusal.code)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            outcome = Outcome(GatewayResponse.json(500, INTERNAL_ERROR), note="local run error")
        self._send(outcome.response)
        elapsed = (time.perf_counter() - started) * 1000
        self.server.log.line(self.command, self.path, outcome.response.status, elapsed, outcome.target, outcome.note)

    def _send(self, response: GatewayResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD" and response.body:
            self.wfile.write(response.body)


def dispatch(run: LocalRun, request: IncomingRequest) -> Outcome:
    """What API Gateway does with a request: pick the route, run the authorizer, invoke the function
    with a v2 event, and turn its result into the response."""
    match = run.routes.match(request.method, request.raw_path)
    if match is None:
        return Outcome(GatewayResponse.json(404, NOT_FOUND), note="no route")
    route = match.route
    authorizer: dict[str, Any] | None = None
    if route.authorizer is not None:
        header_name = route.authorizer.identity_source.removeprefix("$request.header.").lower()
        value = next((v for n, v in request.headers if n.lower() == header_name), None)
        try:
            claims = run.authority.verify(value, route.scopes)
        except Unauthorized as refusal:
            challenge = f'Bearer error="invalid_token" error_description="{refusal.reason}"'
            return Outcome(GatewayResponse.json(401, UNAUTHORIZED, [("www-authenticate", challenge)]),
                           note=refusal.reason)
        except Forbidden as refusal:
            return Outcome(GatewayResponse.json(403, FORBIDDEN), note=str(refusal))
        authorizer = {"jwt": {"claims": gateway_claims(claims), "scopes": gateway_scopes(claims)}}
    event = build_event(request, route.route_key, match.path_parameters, authorizer)
    request_id = event["requestContext"]["requestId"]
    try:
        invocation = run.functions.invoke(route.function, event)
        response = response_from_result(invocation.result)
    except Exception:
        # Lambda reports an unhandled error; API Gateway turns it into a bare 500.
        traceback.print_exc(file=sys.stderr)
        return Outcome(GatewayResponse.json(500, INTERNAL_ERROR, [("apigw-requestid", request_id)]),
                       route.function, "the function raised; traceback above")
    response.headers.append(("apigw-requestid", request_id))
    note = error_code(response)
    if invocation.timed_out:
        timeout = run.template.functions[route.function].timeout_seconds
        note = f"{note}; " if note else ""
        note += f"ran {invocation.elapsed_ms / 1000:.1f} s, over its Timeout of {timeout} s: Lambda would have stopped it"
    return Outcome(response, route.function, note)


LocalHandler = Callable[[IncomingRequest], GatewayResponse]


def read_json_object(request: IncomingRequest, allowed: set[str]) -> dict[str, Any]:
    if not request.body.strip():
        return {}
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise LocalError(400, "malformed_json", "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise LocalError(422, "validation_error", "The request body must be a JSON object.")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise LocalError(422, "validation_error", f"Unknown field(s): {', '.join(unknown)}.",
                         unknown=unknown, allowed=sorted(allowed))
    return data
