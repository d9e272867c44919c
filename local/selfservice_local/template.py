"""What the local run needs from template.yaml: every function (code location, handler, timeout,
memory), its HttpApi routes and the authorizer each route uses, its schedules and its DynamoDB stream
triggers. Read with cfn-lint's decoder, so the
short intrinsic forms (!Ref, !Sub ...) load like the long ones."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from cfnlint.decode.cfn_yaml import load as load_cfn_yaml  # type: ignore[import-untyped]

# The implicit API that SAM creates for HttpApi events without an ApiId.
IMPLICIT_HTTP_API = "ServerlessHttpApi"
DEFAULT_TIMEOUT_SECONDS = 3  # Lambda's defaults when neither the function nor Globals set them
DEFAULT_MEMORY_MB = 128
DEFAULT_STREAM_BATCH_SIZE = 100  # Lambda's default for DynamoDB streams


class TemplateError(ValueError):
    """template.yaml holds something the local run cannot emulate."""


@dataclass(frozen=True, slots=True)
class Authorizer:
    """A JWT authorizer of an HttpApi. Issuer and audience are template parameters in the cloud; the
    local run brings its own, so only the name and the identity source matter here."""

    name: str
    identity_source: str = "$request.header.Authorization"


@dataclass(frozen=True, slots=True)
class Route:
    method: str  # upper case, or "ANY"
    path: str  # "/subscriptions/{id}", "/{proxy+}", or "$default"
    function: str  # logical id
    authorizer: Authorizer | None
    scopes: tuple[str, ...] = ()

    @property
    def route_key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"


@dataclass(frozen=True, slots=True)
class StreamTrigger:
    """A `DynamoDB` event of a function: the table whose stream invokes it, and how."""

    name: str  # the event's name in the template
    table: str  # logical id of the table (Stream: !GetAtt <Table>.StreamArn)
    starting_position: str  # TRIM_HORIZON or LATEST
    batch_size: int
    filters: tuple[dict[str, Any], ...]  # FilterCriteria patterns, parsed; none: every record
    report_batch_item_failures: bool
    maximum_retry_attempts: int  # -1: until the record leaves the stream
    on_failure: str | None  # logical id of the on-failure destination (a queue)


@dataclass(frozen=True, slots=True)
class Function:
    logical_id: str
    code_dir: Path
    handler: str  # "app.lambda_handler"
    timeout_seconds: int
    memory_mb: int
    environment: dict[str, Any] = field(default_factory=dict)
    schedules: tuple[str, ...] = ()  # schedule expressions of Schedule/ScheduleV2 events
    streams: tuple[StreamTrigger, ...] = ()  # DynamoDB events

    @property
    def module_file(self) -> Path:
        module, _, _ = self.handler.rpartition(".")
        return self.code_dir / (module.replace(".", "/") + ".py")

    @property
    def handler_name(self) -> str:
        return self.handler.rpartition(".")[2]


@dataclass(frozen=True, slots=True)
class Template:
    path: Path
    functions: dict[str, Function]
    routes: tuple[Route, ...]
    parameters: dict[str, Any] = field(default_factory=dict)  # name -> the parameter's declaration

    def scheduled_functions(self) -> list[Function]:
        return [f for f in self.functions.values() if f.schedules]

    def stream_functions(self) -> list[Function]:
        return [f for f in self.functions.values() if f.streams]


def load_template(path: str | Path = "template.yaml") -> Template:
    template_path = Path(path).resolve()
    if not template_path.is_file():
        raise TemplateError(f"{template_path} does not exist")
    raw: dict[str, Any] = load_cfn_yaml(str(template_path))
    return parse_template(raw, template_path)


def parse_template(raw: dict[str, Any], template_path: Path) -> Template:
    root = template_path.parent
    resources: dict[str, Any] = raw.get("Resources") or {}
    globals_: dict[str, Any] = raw.get("Globals") or {}
    function_globals: dict[str, Any] = globals_.get("Function") or {}
    apis = _http_api_auth(resources, globals_)

    functions: dict[str, Function] = {}
    routes: list[Route] = []
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::Serverless::Function":
            continue
        props: dict[str, Any] = resource.get("Properties") or {}
        code_uri = props.get("CodeUri", function_globals.get("CodeUri"))
        handler = props.get("Handler", function_globals.get("Handler"))
        if not isinstance(code_uri, str) or not isinstance(handler, str) or "." not in handler:
            raise TemplateError(f"{logical_id}: the local run needs a local CodeUri and a module.function Handler")
        env = dict(((function_globals.get("Environment") or {}).get("Variables")) or {})
        env.update(((props.get("Environment") or {}).get("Variables")) or {})
        events: dict[str, Any] = props.get("Events") or {}
        schedules = tuple(
            str((event.get("Properties") or {}).get("Schedule") or (event.get("Properties") or {}).get("ScheduleExpression"))
            for event in events.values()
            if isinstance(event, dict) and event.get("Type") in ("Schedule", "ScheduleV2")
        )
        functions[logical_id] = Function(
            logical_id=logical_id,
            code_dir=(root / code_uri).resolve(),
            handler=handler,
            timeout_seconds=int(props.get("Timeout", function_globals.get("Timeout", DEFAULT_TIMEOUT_SECONDS))),
            memory_mb=int(props.get("MemorySize", function_globals.get("MemorySize", DEFAULT_MEMORY_MB))),
            environment=env,
            schedules=schedules,
            streams=tuple(_stream_trigger(logical_id, name, event.get("Properties") or {})
                          for name, event in events.items()
                          if isinstance(event, dict) and event.get("Type") == "DynamoDB"),
        )
        for event_name, event in events.items():
            if not isinstance(event, dict) or event.get("Type") != "HttpApi":
                continue
            routes.append(_route(logical_id, event_name, event.get("Properties") or {}, apis))
    _refuse_duplicates(routes)
    parameters = {str(k): dict(v) for k, v in (raw.get("Parameters") or {}).items() if isinstance(v, dict)}
    return Template(template_path, functions, tuple(routes), parameters)


def _stream_trigger(function: str, event_name: str, props: dict[str, Any]) -> StreamTrigger:
    table = _get_att_resource(props.get("Stream"), "StreamArn")
    if table is None:
        raise TemplateError(f"{function}.{event_name}: the local run needs Stream: !GetAtt <Table>.StreamArn")
    filters = []
    for entry in (props.get("FilterCriteria") or {}).get("Filters") or ():
        pattern = entry.get("Pattern") if isinstance(entry, dict) else None
        try:
            parsed = json.loads(pattern) if isinstance(pattern, str) else pattern
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise TemplateError(f"{function}.{event_name}: a filter Pattern must be a JSON object")
        filters.append(dict(parsed))
    destination = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
    return StreamTrigger(
        name=event_name,
        table=table,
        starting_position=str(props.get("StartingPosition", "LATEST")),
        batch_size=int(props.get("BatchSize", DEFAULT_STREAM_BATCH_SIZE)),
        filters=tuple(filters),
        report_batch_item_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or ()),
        maximum_retry_attempts=int(props.get("MaximumRetryAttempts", -1)),
        on_failure=_get_att_resource(destination, "Arn"),
    )


def _get_att_resource(value: Any, attribute: str) -> str | None:
    """The logical id in `!GetAtt <Id>.<attribute>` (long or short form), else None."""
    if not isinstance(value, dict) or set(value) != {"Fn::GetAtt"}:
        return None
    target = value["Fn::GetAtt"]
    parts = target.split(".", 1) if isinstance(target, str) else list(target)
    return str(parts[0]) if len(parts) == 2 and parts[1] == attribute else None


def _http_api_auth(resources: dict[str, Any], globals_: dict[str, Any]) -> dict[str, tuple[dict[str, Authorizer], str | None]]:
    """For each HttpApi (and the implicit one): its JWT authorizers by name and its default authorizer."""
    apis: dict[str, tuple[dict[str, Authorizer], str | None]] = {}
    global_auth = (globals_.get("HttpApi") or {}).get("Auth") or {}
    candidates: dict[str, dict[str, Any]] = {IMPLICIT_HTTP_API: global_auth}
    for logical_id, resource in resources.items():
        if isinstance(resource, dict) and resource.get("Type") == "AWS::Serverless::HttpApi":
            auth = dict(global_auth)
            auth.update(((resource.get("Properties") or {}).get("Auth")) or {})
            candidates[logical_id] = auth
    for api_id, auth in candidates.items():
        authorizers: dict[str, Authorizer] = {}
        for name, config in (auth.get("Authorizers") or {}).items():
            if not isinstance(config, dict) or "JwtConfiguration" not in config:
                raise TemplateError(f"{api_id}: authorizer {name} is not a JWT authorizer; the local run emulates JWT only")
            authorizers[name] = Authorizer(name, str(config.get("IdentitySource", "$request.header.Authorization")))
        default = auth.get("DefaultAuthorizer")
        apis[api_id] = (authorizers, str(default) if default else None)
    return apis


def _route(function: str, event_name: str, props: dict[str, Any],
           apis: dict[str, tuple[dict[str, Authorizer], str | None]]) -> Route:
    path = str(props.get("Path", "$default"))
    method = str(props.get("Method", "ANY")).upper()
    if method in ("X-AMAZON-APIGATEWAY-ANY-METHOD", "*"):
        method = "ANY"
    api_ref = props.get("ApiId")
    api_id = api_ref.get("Ref") if isinstance(api_ref, dict) else (api_ref or IMPLICIT_HTTP_API)
    if api_id not in apis:
        raise TemplateError(f"{function}.{event_name}: ApiId {api_id!r} is not an AWS::Serverless::HttpApi of the template")
    authorizers, default = apis[str(api_id)]
    auth = props.get("Auth") or {}
    name = auth.get("Authorizer", default)
    authorizer: Authorizer | None = None
    if name and name != "NONE":
        if name not in authorizers:
            raise TemplateError(f"{function}.{event_name}: unknown authorizer {name!r}")
        authorizer = authorizers[name]
    scopes = tuple(str(s) for s in auth.get("AuthorizationScopes") or ())
    return Route(method, path, function, authorizer, scopes)


def _refuse_duplicates(routes: list[Route]) -> None:
    seen: dict[str, str] = {}
    for route in routes:
        if route.route_key in seen:
            raise TemplateError(f"route {route.route_key} is declared by {seen[route.route_key]} and {route.function}")
        seen[route.route_key] = route.function


_PARAM = re.compile(r"^\{([A-Za-z0-9_.-]+)(\+?)\}$")


@dataclass(frozen=True, slots=True)
class Match:
    route: Route
    path_parameters: dict[str, str]


class RouteTable:
    """API Gateway HTTP API route selection: the most specific route wins (literal segments before
    {param}, {param} before {greedy+}), then ANY as a fallback for the method, then $default. No match
    is a 404 from the gateway itself."""

    def __init__(self, routes: tuple[Route, ...]) -> None:
        self.routes = routes

    def match(self, method: str, path: str) -> Match | None:
        method = method.upper()
        segments = _segments(path)
        best: tuple[tuple[int, ...], Match] | None = None
        for route in self.routes:
            if route.path == "$default" or route.method not in (method, "ANY"):
                continue
            params = _match_segments(_segments(route.path), segments)
            if params is None:
                continue
            rank = (*_specificity(route.path), 1 if route.method == method else 0)
            if best is None or rank > best[0]:
                best = (rank, Match(route, params))
        if best is not None:
            return best[1]
        default = next((r for r in self.routes if r.path == "$default"), None)
        return Match(default, {}) if default else None


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s != ""]


def _match_segments(pattern: list[str], actual: list[str]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for i, part in enumerate(pattern):
        m = _PARAM.match(part)
        if m and m.group(2):  # greedy: must be last, takes one or more remaining segments
            if i >= len(actual):
                return None
            params[m.group(1)] = unquote("/".join(actual[i:]))
            return params
        if i >= len(actual):
            return None
        if m:
            params[m.group(1)] = unquote(actual[i])
        elif part != unquote(actual[i]):
            return None
    return params if len(pattern) == len(actual) else None


def _specificity(path: str) -> tuple[int, ...]:
    # Per segment: 2 literal, 1 {param}, 0 {greedy+}; compared left to right, longer paths first on ties.
    ranks = []
    for part in _segments(path):
        m = _PARAM.match(part)
        ranks.append(0 if m and m.group(2) else 1 if m else 2)
    return (*ranks, len(ranks))
