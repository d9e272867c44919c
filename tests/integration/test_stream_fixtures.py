"""The stream-event fixtures of the outbox publisher are real: made by committing changes through the
function handlers on moto and reading the table's stream. This test makes them again and checks that
the committed ones still have the shape the code writes today.

    UPDATE_STREAM_FIXTURES=1 .venv/bin/pytest tests/integration/test_stream_fixtures.py

rewrites them (events/event_publisher.json, events/event_publisher-audit-types.json)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import pytest
from support.events import EVENTS_DIR, load_event
from support.stream import delivered_to_publisher, stream_event, stream_records

from .conftest import Tenant

SINGLE = "event_publisher"  # one seat reduction: the event for `sam local invoke`
EVERY_TYPE = "event_publisher-audit-types"  # one record of every audit type the services write


def make_changes(business: Tenant, request_as: Callable[..., Any]) -> None:
    """One change of every kind the API offers today (provisioning already happened)."""
    sub = {"subscription_id": business.subscription_id}
    ack = {"acknowledged": True}
    billing = load_event("account-billing-info-put")["body"]
    steps = [
        ("account", "account-billing-info-put", {"body": json.loads(billing)}),
        ("users", "users-assign", {"body": {"email": "nora.lind@acme.example"}}),
        ("users", "users-remove", {"path": {"user_id": business.user_ids["li.wei@acme.example"]}}),
        ("seats", "seats-reduce", {"path": sub, "body": {"seats": 6, **ack}}),
        ("seats", "seats-undo", {"path": sub, "body": ack}),
        ("cancellation", "cancellation-cancel", {"path": sub, "body": {**ack, "reason": "Moving to another tool"}}),
        ("cancellation", "cancellation-undo", {"path": sub, "body": ack}),
        ("upgrade", "upgrade", {"path": sub, "body": {"message": "We need capacity-based pricing."}}),
    ]
    for flow, event, options in steps:
        result = request_as(business, flow, event, **options)
        assert result.status < 300, (event, result.body)


def shape(record: dict[str, Any]) -> dict[str, Any]:
    """What the publisher relies on: the record's envelope, and the stored audit item's attributes with
    their kinds (values vary from run to run: ids, times)."""
    image = record["dynamodb"]["NewImage"]
    return {
        "envelope": sorted(record),
        "eventName": record["eventName"],
        "eventSource": record["eventSource"],
        "dynamodb": sorted(record["dynamodb"]),
        "type": image["type"]["S"],
        "attributes": {name: sorted(value) for name, value in sorted(image.items())},
    }


@pytest.fixture
def real_records(aws: dict[str, str], business: Tenant, request_as: Callable[..., Any]) -> list[dict[str, Any]]:
    make_changes(business, request_as)
    return delivered_to_publisher(stream_records(aws["Table"]))


def test_the_committed_fixtures_are_what_the_code_writes(real_records: list[dict[str, Any]]) -> None:
    single = [r for r in real_records if r["dynamodb"]["NewImage"]["type"]["S"] == "subscription.reduction_scheduled"]
    if os.environ.get("UPDATE_STREAM_FIXTURES"):
        for name, records in ((SINGLE, single), (EVERY_TYPE, real_records)):
            (EVENTS_DIR / f"{name}.json").write_text(
                json.dumps(stream_event(records), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    every_type = load_event(EVERY_TYPE)["Records"]
    hint = "the stored audit records changed shape: UPDATE_STREAM_FIXTURES=1 pytest " + __file__
    assert [shape(r) for r in every_type] == [shape(r) for r in real_records], hint
    assert [shape(r) for r in load_event(SINGLE)["Records"]] == [shape(r) for r in single], hint


def test_the_filter_hands_the_publisher_only_new_audit_records(aws: dict[str, str], business: Tenant,
                                                               request_as: Callable[..., Any]) -> None:
    make_changes(business, request_as)
    everything = stream_records(aws["Table"])
    delivered = delivered_to_publisher(everything)

    assert {r["dynamodb"]["NewImage"]["entity"]["S"] for r in everything} > {"audit"}  # subscriptions, users ...
    assert {r["eventName"] for r in everything} >= {"INSERT", "MODIFY"}
    assert delivered == [r for r in everything
                         if r["eventName"] == "INSERT" and r["dynamodb"]["NewImage"]["entity"] == {"S": "audit"}]
    assert len(delivered) == 9  # provisioning + the eight changes
