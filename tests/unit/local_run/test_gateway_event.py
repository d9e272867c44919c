"""The API Gateway v2 event, the Lambda context and the response mapping of the local run."""

from __future__ import annotations

import base64
import json
import time

from selfservice_local.gateway import IncomingRequest, LambdaContext, build_event, response_from_result


def request(**overrides: object) -> IncomingRequest:
    values: dict[str, object] = {
        "method": "POST", "raw_path": "/subscriptions/sub_1/seat-reduction", "raw_query": "a=1&b=2&a=3&empty=",
        "headers": [("Content-Type", "application/json"), ("User-Agent", "curl/8"), ("X-Multi", "1"),
                    ("x-multi", "2"), ("Cookie", "a=1; b=2")],
        "body": b'{"seats": 5}', "source_ip": "127.0.0.1", "host": "127.0.0.1:3000",
    }
    values.update(overrides)
    return IncomingRequest(**values)  # type: ignore[arg-type]


def test_a_v2_event_as_the_gateway_builds_it() -> None:
    authorizer = {"jwt": {"claims": {"sub": "u1", "roles": "[service_account_owner]"}, "scopes": None}}
    event = build_event(request(), "POST /subscriptions/{id}/seat-reduction", {"id": "sub_1"}, authorizer,
                        now=1767225600.5)

    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /subscriptions/{id}/seat-reduction"
    assert event["rawPath"] == "/subscriptions/sub_1/seat-reduction"
    assert event["rawQueryString"] == "a=1&b=2&a=3&empty="
    assert event["queryStringParameters"] == {"a": "1,3", "b": "2", "empty": ""}
    assert event["pathParameters"] == {"id": "sub_1"}
    headers = event["headers"]
    assert {k: headers[k] for k in ("content-type", "user-agent", "x-multi")} == {
        "content-type": "application/json", "user-agent": "curl/8", "x-multi": "1,2"}
    assert "cookie" not in headers
    assert (headers["x-forwarded-for"], headers["x-forwarded-port"], headers["x-forwarded-proto"]) == (
        "127.0.0.1", "3000", "http")
    assert headers["x-amzn-trace-id"].startswith("Root=1-")
    assert event["cookies"] == ["a=1", "b=2"]
    assert (event["body"], event["isBase64Encoded"]) == ('{"seats": 5}', False)
    context = event["requestContext"]
    assert context["http"] == {"method": "POST", "path": "/subscriptions/sub_1/seat-reduction",
                               "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "curl/8"}
    assert context["stage"] == "$default"
    assert context["routeKey"] == event["routeKey"]
    assert context["timeEpoch"] == 1767225600500
    assert context["time"] == "01/Jan/2026:00:00:00 +0000"
    assert context["requestId"]
    assert context["authorizer"] == authorizer


def test_a_binary_body_arrives_base64_encoded_and_an_empty_one_not_at_all() -> None:
    binary = build_event(request(headers=[("content-type", "application/pdf")], body=b"%PDF\xff"), "$default", {}, None)
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == b"%PDF\xff"
    empty = build_event(request(method="GET", raw_query="", body=b""), "GET /account", {}, None)
    assert "body" not in empty and "queryStringParameters" not in empty and "pathParameters" not in empty
    assert "authorizer" not in empty["requestContext"]


def test_the_context_counts_down_from_the_timeout() -> None:
    context = LambdaContext("selfservice-local-AccountFunction", 15, 512, "eu-north-1")
    first = context.get_remaining_time_in_millis()
    assert 14_000 < first <= 15_000
    time.sleep(0.02)
    assert context.get_remaining_time_in_millis() < first
    assert context.invoked_function_arn == "arn:aws:lambda:eu-north-1:123456789012:function:selfservice-local-AccountFunction"
    assert context.memory_limit_in_mb == 512 and context.aws_request_id


def test_response_mapping() -> None:
    plain = response_from_result({"statusCode": 201, "headers": {"Content-Type": "application/json", "X-A": "1"},
                                  "body": '{"ok": true}', "cookies": ["c=1; Path=/"],
                                  "multiValueHeaders": {"X-B": ["1", "2"]}})
    assert plain.status == 201
    assert plain.headers == [("Content-Type", "application/json"), ("X-A", "1"), ("X-B", "1"), ("X-B", "2"),
                             ("set-cookie", "c=1; Path=/")]
    assert json.loads(plain.body) == {"ok": True}

    binary = response_from_result({"statusCode": 200, "headers": {"content-type": "application/pdf"},
                                   "body": base64.b64encode(b"%PDF").decode(), "isBase64Encoded": True})
    assert binary.body == b"%PDF"

    # Without statusCode the gateway takes the whole result as a JSON 200.
    inferred = response_from_result({"hello": "world"})
    assert (inferred.status, json.loads(inferred.body)) == (200, {"hello": "world"})
    empty = response_from_result({"statusCode": 204})
    assert (empty.status, empty.body) == (204, b"")
