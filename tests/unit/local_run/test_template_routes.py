"""Reading routes from a SAM template and choosing one the way API Gateway HTTP APIs do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from selfservice_local.template import Authorizer, Route, RouteTable, TemplateError, parse_template

ROOT = Path("/project/template.yaml")


def template(resources: dict[str, Any], globals_: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"Globals": globals_ or {"Function": {"Timeout": 15, "MemorySize": 512}}, "Resources": resources}


API = {"Type": "AWS::Serverless::HttpApi", "Properties": {"Auth": {
    "DefaultAuthorizer": "Jwt",
    "Authorizers": {"Jwt": {"IdentitySource": "$request.header.Authorization",
                            "JwtConfiguration": {"issuer": {"Ref": "JwtIssuer"}, "audience": [{"Ref": "JwtAudience"}]}}},
}}}


def function(code_uri: str, events: dict[str, Any], **props: Any) -> dict[str, Any]:
    return {"Type": "AWS::Serverless::Function",
            "Properties": {"CodeUri": code_uri, "Handler": "app.lambda_handler", "Events": events, **props}}


def http(path: str, method: str, **props: Any) -> dict[str, Any]:
    return {"Type": "HttpApi", "Properties": {"ApiId": {"Ref": "Api"}, "Path": path, "Method": method, **props}}


def test_functions_and_routes_come_from_the_template() -> None:
    parsed = parse_template(template({
        "Api": API,
        "AccountFunction": function("functions/account/", {
            "Get": http("/account", "get"),
            "Quote": http("/subscriptions/{id}/quote", "GET"),
            "Docs": http("/openapi.json", "GET", Auth={"Authorizer": "NONE"}),
        }),
        "ProvisioningFunction": function("functions/provisioning/", {}, Timeout=60, MemorySize=1024),
        "Applier": function("functions/period_end/", {"Every": {"Type": "Schedule", "Properties": {
            "Schedule": "rate(5 minutes)"}}}),
    }), ROOT)

    account = parsed.functions["AccountFunction"]
    assert account.module_file == Path("/project/functions/account/app.py")
    assert account.handler_name == "lambda_handler"
    assert (account.timeout_seconds, account.memory_mb) == (15, 512)
    assert (parsed.functions["ProvisioningFunction"].timeout_seconds,
            parsed.functions["ProvisioningFunction"].memory_mb) == (60, 1024)
    assert [f.logical_id for f in parsed.scheduled_functions()] == ["Applier"]
    jwt = Authorizer("Jwt", "$request.header.Authorization")
    assert set(parsed.routes) == {
        Route("GET", "/account", "AccountFunction", jwt),
        Route("GET", "/subscriptions/{id}/quote", "AccountFunction", jwt),
        Route("GET", "/openapi.json", "AccountFunction", None),
    }


def test_environment_merges_globals_and_the_function() -> None:
    parsed = parse_template(template(
        {"F": function("f/", {}, Environment={"Variables": {"B": "2", "C": {"Ref": "Table"}}})},
        {"Function": {"Environment": {"Variables": {"A": "1", "B": "1"}}}},
    ), ROOT)
    assert parsed.functions["F"].environment == {"A": "1", "B": "2", "C": {"Ref": "Table"}}


def test_a_route_on_an_unknown_api_or_authorizer_is_refused() -> None:
    with pytest.raises(TemplateError, match="ApiId"):
        parse_template(template({"F": function("f/", {"E": http("/x", "GET")})}), ROOT)
    with pytest.raises(TemplateError, match="authorizer"):
        parse_template(template({"Api": API, "F": function("f/", {
            "E": http("/x", "GET", Auth={"Authorizer": "Other"})})}), ROOT)


def test_the_same_route_twice_is_refused() -> None:
    with pytest.raises(TemplateError, match="GET /x"):
        parse_template(template({"Api": API, "F": function("f/", {"A": http("/x", "GET")}),
                                 "G": function("g/", {"B": http("/x", "GET")})}), ROOT)


def routes(*specs: tuple[str, str]) -> RouteTable:
    return RouteTable(tuple(Route(m, p, f"{m} {p}", None) for m, p in specs))


@pytest.mark.parametrize(("method", "path", "route_key", "params"), [
    pytest.param("GET", "/subscriptions/sub_1", "GET /subscriptions/{id}", {"id": "sub_1"}, id="param"),
    pytest.param("GET", "/subscriptions/quote", "GET /subscriptions/quote", {}, id="literal-beats-param"),
    pytest.param("POST", "/subscriptions/s%201/seat-reduction/undo", "POST /subscriptions/{id}/seat-reduction/undo",
                 {"id": "s 1"}, id="decoded-param"),
    pytest.param("DELETE", "/users/usr_1", "ANY /users/{id}", {"id": "usr_1"}, id="any-method"),
    pytest.param("GET", "/users/usr_1", "GET /users/{id}", {"id": "usr_1"}, id="method-beats-any"),
    pytest.param("GET", "/files/a/b/c", "GET /files/{path+}", {"path": "a/b/c"}, id="greedy"),
    pytest.param("GET", "/account/", "GET /account", {}, id="trailing-slash"),
])
def test_route_selection(method: str, path: str, route_key: str, params: dict[str, str]) -> None:
    table = routes(("GET", "/subscriptions/{id}"), ("GET", "/subscriptions/quote"),
                   ("POST", "/subscriptions/{id}/seat-reduction/undo"), ("ANY", "/users/{id}"),
                   ("GET", "/users/{id}"), ("GET", "/files/{path+}"), ("GET", "/account"))
    match = table.match(method, path)
    assert match is not None
    assert (match.route.route_key, match.path_parameters) == (route_key, params)


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/account"), ("GET", "/nope"), ("GET", "/subscriptions"), ("GET", "/files"),
])
def test_no_route_is_none(method: str, path: str) -> None:
    table = routes(("GET", "/account"), ("GET", "/subscriptions/{id}"), ("GET", "/files/{path+}"))
    assert table.match(method, path) is None


def test_default_route_catches_the_rest() -> None:
    table = RouteTable((Route("ANY", "$default", "Fallback", None), Route("GET", "/account", "Account", None)))
    match = table.match("PUT", "/whatever")
    assert match is not None and match.route.route_key == "$default"
