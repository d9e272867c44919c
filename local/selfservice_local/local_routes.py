"""The local-only routes (SPEC 5), under /_local and without authentication: they exist only in the
local run, never in the template."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from selfservice_local.auth import DEFAULT_TOKEN_LIFETIME, MAX_TOKEN_LIFETIME
from selfservice_local.clock import ClockError
from selfservice_local.gateway import GatewayResponse, IncomingRequest
from selfservice_local.server import LOCAL_PREFIX, LocalError, Outcome, read_json_object

if TYPE_CHECKING:
    from selfservice_local.run import LocalRun

SAO_ROLE = "service_account_owner"
MIN_EXPIRES_IN = -86400  # a negative lifetime gives an already expired token, to try the 401
DEFAULT_EVENTS = 50
MAX_EVENTS = 1000

ROUTE_HELP = [
    ("GET", "/_local/health", "ready, with the endpoints of this run"),
    ("GET", "/_local/tenants", "the seeded demo tenants: ids, names, editions, SAO subjects, subscriptions"),
    ("POST", "/_local/tokens", '{"tenant_id", "sub"?, "roles"?, "expires_in"?} -> {"token", "expires_at"}'),
    ("GET", "/_local/clock", "the clock every handler sees"),
    ("POST", "/_local/clock", '{"advance_seconds": N} or {"set": "2026-03-01T00:00:00Z"}; forward only'),
    ("POST", "/_local/period-end/run", "run the period-end applier now, as its schedule would"),
    ("GET", "/_local/events", "the events the bus carried, newest first (?limit=50&tenant_id=&detail_type=)"),
    ("GET", "/_local/.well-known/openid-configuration", "the local issuer's discovery document"),
    ("GET", "/_local/.well-known/jwks.json", "the public key the local JWT check uses"),
]


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class LocalRoutes:
    def __init__(self, run: LocalRun) -> None:
        self.run = run
        self._routes: dict[tuple[str, str], Callable[[IncomingRequest], GatewayResponse]] = {
            ("GET", ""): self.index,
            ("GET", "/"): self.index,
            ("GET", "/health"): self.health,
            ("GET", "/tenants"): self.tenants,
            ("POST", "/tokens"): self.tokens,
            ("GET", "/clock"): self.get_clock,
            ("POST", "/clock"): self.move_clock,
            ("POST", "/period-end/run"): self.run_period_end,
            ("GET", "/events"): self.events,
            ("GET", "/.well-known/openid-configuration"): self.openid_configuration,
            ("GET", "/.well-known/jwks.json"): self.jwks,
        }

    def handle(self, request: IncomingRequest) -> Outcome:
        sub_path = request.raw_path.removeprefix(LOCAL_PREFIX)
        method = "GET" if request.method == "HEAD" else request.method
        handler = self._routes.get((method, sub_path))
        if handler is None:
            if any(path == sub_path for _, path in self._routes):
                raise LocalError(405, "method_not_allowed", f"{request.method} is not served on {request.raw_path}.")
            raise LocalError(404, "not_found", f"No local route {request.raw_path}; GET {LOCAL_PREFIX} lists them.")
        return Outcome(handler(request), "local")

    def index(self, _request: IncomingRequest) -> GatewayResponse:
        return GatewayResponse.json(200, {"routes": [{"method": m, "path": p, "what": w} for m, p, w in ROUTE_HELP]})

    def health(self, _request: IncomingRequest) -> GatewayResponse:
        run = self.run
        return GatewayResponse.json(200, {
            "status": "ready",
            "base_url": run.base_url,
            "aws_endpoint_url": run.aws.endpoint_url,
            "region": run.region,
            "resources": run.resources,
            "jwt": {"issuer": run.authority.issuer, "audience": run.authority.audience},
            "functions": sorted(run.template.functions),
            "routes": [r.route_key for r in run.template.routes],
            "period_end_applier": run.period_end_function,
            "schedules": [{"function": s.function, "expression": s.expression} for s in run.scheduler.schedules]
            if run.options.schedules else [],
            "clock": iso(run.clock.now()),
            "streams": [{"function": f.function.logical_id, "table": f.trigger.table, "filters": list(f.trigger.filters)}
                        for f in run.stream.feeds] if run.stream else [],
        })

    def tenants(self, _request: IncomingRequest) -> GatewayResponse:
        return GatewayResponse.json(200, {"items": [t.as_json() for t in self.run.seeded]})

    def tokens(self, request: IncomingRequest) -> GatewayResponse:
        data = read_json_object(request, {"tenant_id", "sub", "roles", "expires_in"})
        tenant_id = _string(data, "tenant_id", required=True)
        assert tenant_id is not None
        seeded = next((t for t in self.run.seeded if t.tenant_id == tenant_id), None)
        subject = _string(data, "sub", required=False)
        if subject is None:
            if seeded is None:
                raise LocalError(422, "validation_error",
                                 f"{tenant_id!r} is not a seeded tenant: give the subject (sub) the token is for.",
                                 field="sub")
            subject = seeded.sao_subject
        roles = data.get("roles", [SAO_ROLE])
        if not isinstance(roles, list) or len(roles) > 20 or not all(
                isinstance(r, str) and 0 < len(r) <= 100 for r in roles):
            raise LocalError(422, "validation_error", "roles must be a list of up to 20 role names.", field="roles")
        expires_in = data.get("expires_in", DEFAULT_TOKEN_LIFETIME)
        if (not isinstance(expires_in, int) or isinstance(expires_in, bool)
                or not MIN_EXPIRES_IN <= expires_in <= MAX_TOKEN_LIFETIME):
            raise LocalError(422, "validation_error",
                             f"expires_in must be whole seconds from {MIN_EXPIRES_IN} to {MAX_TOKEN_LIFETIME}.",
                             field="expires_in")
        token, expires_at = self.run.authority.mint(tenant_id, subject, roles, expires_in, now=time.time())
        return GatewayResponse.json(200, {
            "token": token, "token_type": "Bearer",
            "expires_at": iso(datetime.fromtimestamp(expires_at, UTC)),
            "tenant_id": tenant_id, "sub": subject, "roles": roles,
        })

    def _clock_json(self) -> dict[str, Any]:
        clock = self.run.clock
        return {"now": iso(clock.now()), "offset_seconds": clock.offset.total_seconds(),
                "real_now": iso(datetime.now(UTC))}

    def get_clock(self, _request: IncomingRequest) -> GatewayResponse:
        return GatewayResponse.json(200, self._clock_json())

    def move_clock(self, request: IncomingRequest) -> GatewayResponse:
        data = read_json_object(request, {"advance_seconds", "set"})
        if len(data) != 1:
            raise LocalError(422, "validation_error", 'Give exactly one of "advance_seconds" or "set".')
        try:
            if "advance_seconds" in data:
                seconds = data["advance_seconds"]
                if not isinstance(seconds, int | float) or isinstance(seconds, bool):
                    raise LocalError(422, "validation_error", "advance_seconds must be a number.",
                                     field="advance_seconds")
                self.run.clock.advance(seconds)
            else:
                text = data["set"]
                try:
                    moment = datetime.fromisoformat(str(text))
                except ValueError:
                    raise LocalError(422, "validation_error", "set must be an ISO-8601 time.", field="set") from None
                self.run.clock.set(moment)
        except ClockError as refusal:
            raise LocalError(422, "validation_error", str(refusal), **self._clock_json()) from None
        moved = self._clock_json()
        if self.run.options.schedules:
            # The applier's schedule runs on this clock: what fell due in the time skipped happens now,
            # before this answer, so a client sees the terms rolled right after moving the clock.
            invocation = self.run.run_period_end_now("clock moved")
            if invocation is not None:
                moved["period_end"] = invocation.result
        return GatewayResponse.json(200, moved)

    def run_period_end(self, _request: IncomingRequest) -> GatewayResponse:
        run = self.run
        logical_id = run.period_end_function
        if logical_id is None:
            raise LocalError(501, "not_implemented",
                             "The period-end applier does not exist yet: template.yaml has no function with a "
                             "Schedule event. This route runs it once it does.")
        invocation = run.run_period_end_now("POST /_local/period-end/run")
        assert invocation is not None
        return GatewayResponse.json(200, {"function": logical_id, "elapsed_ms": round(invocation.elapsed_ms, 1),
                                          "result": invocation.result, "clock": iso(run.clock.now())})

    def events(self, request: IncomingRequest) -> GatewayResponse:
        """What a consumer subscribed to the bus received (a rule with an SQS target, see bus_tap)."""
        tap = self.run.bus_tap
        if tap is None:
            raise LocalError(501, "not_implemented", "The template has no EventBus: no events to show.")
        query = parse_qs(request.raw_query, keep_blank_values=False)
        unknown = set(query) - {"limit", "tenant_id", "detail_type"}
        if unknown:
            raise LocalError(422, "validation_error", f"Unknown query parameter {sorted(unknown)[0]}.",
                             field=sorted(unknown)[0])
        text = query.get("limit", [str(DEFAULT_EVENTS)])[-1]
        if not text.isdigit() or not 1 <= int(text) <= MAX_EVENTS:
            raise LocalError(422, "validation_error", f"limit must be 1 to {MAX_EVENTS}.", field="limit")
        tenant_id = query.get("tenant_id", [None])[-1]
        detail_type = query.get("detail_type", [None])[-1]
        items = tap.recent(int(text), tenant_id=tenant_id, detail_type=detail_type)
        return GatewayResponse.json(200, {"bus": tap.bus_name, "received": tap.received, "items": items})

    def openid_configuration(self, _request: IncomingRequest) -> GatewayResponse:
        return GatewayResponse.json(200, self.run.authority.openid_configuration())

    def jwks(self, _request: IncomingRequest) -> GatewayResponse:
        return GatewayResponse.json(200, self.run.authority.jwks())


def _string(data: dict[str, Any], name: str, *, required: bool) -> str | None:
    value = data.get(name)
    if value is None:
        if required:
            raise LocalError(422, "validation_error", f"{name} is required.", field=name)
        return None
    if not isinstance(value, str) or not 0 < len(value) <= 200:
        raise LocalError(422, "validation_error", f"{name} must be a string of 1 to 200 characters.", field=name)
    return value
