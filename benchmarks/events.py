"""HTTP API (payload 2.0) events for the handlers, built from the events/ fixtures: the claims of a
tenant's SAO, path parameters (rawPath rebuilt from the route key), query, body and headers."""

from __future__ import annotations

import copy
import json
import uuid
from functools import cache
from typing import Any
from urllib.parse import urlencode

from benchmarks.machine import ROOT

EVENTS = ROOT / "events"
SAO_ROLES = "[service_account_owner]"  # how API Gateway passes an array claim


@cache
def _fixture(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))
    return event


def load(name: str) -> dict[str, Any]:
    return copy.deepcopy(_fixture(name))


def http_event(name: str, *, tenant_id: str, subject: str, path: dict[str, str] | None = None,
               query: dict[str, str] | None = None, body: Any = None,
               headers: dict[str, str] | None = None) -> dict[str, Any]:
    event = load(name)
    context = event["requestContext"]
    context["authorizer"]["jwt"]["claims"].update({"tenant_id": tenant_id, "sub": subject, "roles": SAO_ROLES})
    context["requestId"] = uuid.uuid4().hex
    if path:
        params = {**(event.get("pathParameters") or {}), **path}
        event["pathParameters"] = params
        raw_path = event["routeKey"].split(" ", 1)[1]
        for key, value in params.items():
            raw_path = raw_path.replace("{" + key + "}", value)
        event["rawPath"] = context["http"]["path"] = raw_path
    if query is not None:
        event["queryStringParameters"] = dict(query)
        event["rawQueryString"] = urlencode(query)
    if body is not None:
        event["body"] = json.dumps(body)
        event["headers"]["content-type"] = "application/json"
        event["headers"]["content-length"] = str(len(event["body"].encode()))
    if headers:
        event["headers"].update(headers)
    return event
