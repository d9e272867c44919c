"""The events/ fixtures, loaded by name and adapted per test: claims, path parameters, query, body.

The HTTP API routes on `rawPath`, so changing a path parameter rebuilds `rawPath` (and
`requestContext.http.path`) from the event's `routeKey` template."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"


class _Unset:
    pass


UNSET: Any = _Unset()


@cache
def _read(name: str) -> dict[str, Any]:
    path = EVENTS_DIR / f"{name.removesuffix('.json')}.json"
    event: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return event


def load_event(name: str) -> dict[str, Any]:
    """A fresh copy of events/<name>.json."""
    return copy.deepcopy(_read(name))


def http_event(
    name: str,
    *,
    tenant_id: str | _Unset | None = UNSET,
    sub: str | _Unset | None = UNSET,
    roles: Any = UNSET,
    claims: dict[str, Any] | None = None,
    path: dict[str, str] | None = None,
    query: dict[str, str] | _Unset | None = UNSET,
    body: Any = UNSET,
    headers: dict[str, str] | None = None,
    method: str | None = None,
) -> dict[str, Any]:
    """events/<name>.json with changes. `tenant_id`, `sub`, `roles`: set a claim (None removes it);
    `claims`: merged into the claims (a None value removes one); `path`: path parameters; `query`: the
    query string (None removes it); `body`: a dict/list is JSON-encoded, a str sent as is, None removes it;
    `method`: another HTTP method on the same path."""
    event = load_event(name)
    context = event["requestContext"]
    found = context.get("authorizer", {}).get("jwt", {}).get("claims")
    if found is None:
        raise ValueError(f"{name} is not an HTTP API event with JWT claims")
    changes: dict[str, Any] = dict(claims or {})
    for claim, value in (("tenant_id", tenant_id), ("sub", sub), ("roles", roles)):
        if value is not UNSET:
            changes[claim] = value
    for claim, value in changes.items():
        if value is None:
            found.pop(claim, None)
        else:
            found[claim] = value

    if path:
        params = {**event.get("pathParameters", {}), **path}
        event["pathParameters"] = params
        template = event["routeKey"].split(" ", 1)[1]
        raw_path = template
        for key, value in params.items():
            raw_path = raw_path.replace("{" + key + "}", value)
        event["rawPath"] = raw_path
        context["http"]["path"] = raw_path

    if not isinstance(query, _Unset):
        if query:
            event["queryStringParameters"] = dict(query)
            event["rawQueryString"] = urlencode(query)
        else:
            event.pop("queryStringParameters", None)
            event["rawQueryString"] = ""

    if body is not UNSET:
        if body is None:
            event.pop("body", None)
        else:
            event["body"] = body if isinstance(body, str) else json.dumps(body)
            event["headers"]["content-type"] = "application/json"
            event["headers"]["content-length"] = str(len(event["body"].encode()))

    if headers:
        event["headers"].update(headers)
    if method:
        context["http"]["method"] = method.upper()
        template = event["routeKey"].split(" ", 1)[1]
        event["routeKey"] = context["routeKey"] = f"{method.upper()} {template}"
    return event
