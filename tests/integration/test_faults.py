"""DynamoDB failing under the handlers (issue 6, item 5, the cases that need no period-end applier):
throttling that outlasts botocore's own retries, time-outs, internal errors and transaction conflicts,
injected at the adapter boundary (support.faults) on reads and writes of representative routes: reduce
seats, add a user, renew (which charges).

Every case ends with a clear answer (503 `service_unavailable` with Retry-After for an AWS failure, 409
`concurrent_update` for a lost race, 503 `gateway_unavailable` when the gateway's own store fails), no
stack trace, and either nothing changed or the change applied exactly once: the stored state, the audit
trail, the invoice numbers and the sandbox gateway's charges are checked after each, and a retry (with the
same Idempotency-Key where the route has one) completes the change exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.retries.standard import ExponentialBackoff
from selfservice import bootstrap
from selfservice.adapters.clock import ManualClock
from selfservice.domain.model import Subscription
from support.faults import DynamoFaults, both, not_writing, on_table, writes
from support.money import (
    Request,
    add_card,
    invoices,
    last_invoice_number,
    quote_total,
    renew,
    stored_charges,
    succeeded_charges,
)

from .conftest import Tenant


@pytest.fixture
def faults(api: ManualClock, monkeypatch: pytest.MonkeyPatch, figures: dict[str, Any]) -> Iterator[DynamoFaults]:
    injector = DynamoFaults()
    # botocore retries a throttled request with exponential back-off; the retries run, their sleeps do not.
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)
    events = bootstrap.aws_session().events
    events.register_first("before-send.dynamodb", injector.before_send, unique_id="test-faults")
    # A client copies the session's handlers when it is created: start over, so every client has the hook.
    bootstrap.reset()
    bootstrap.override(clock=api)
    yield injector
    events.unregister("before-send.dynamodb", unique_id="test-faults")
    bootstrap.reset()
    figures["faults injected (DynamoDB answers replaced)"] = (
        figures.get("faults injected (DynamoDB answers replaced)", 0) + injector.injected)


def subscription_of(tenant: Tenant) -> Subscription:
    state = bootstrap.deps().repo.load_tenant(tenant.tenant_id)
    assert state is not None
    return state.subscriptions[0]


def activity_types(request_as: Request, tenant: Tenant) -> list[str]:
    return [item["type"] for item in request_as(tenant, "activity", "activity", query={"limit": "100"}).body["items"]]


def assert_service_unavailable(result: Any) -> None:
    assert (result.status, result.error_code) == (503, "service_unavailable"), result.body
    assert result.headers["Retry-After"] == "2"
    assert "Traceback" not in str(result.body)


def table() -> str:
    return bootstrap.settings().require_table()


def idempotency_table() -> str:
    name = bootstrap.settings().idempotency_table_name
    assert name is not None
    return name


# --- reduce seats ---------------------------------------------------------------------------------------

def reduce(request_as: Request, tenant: Tenant, seats: int = 6) -> Any:
    return request_as(tenant, "seats", "seats-reduce", path={"subscription_id": tenant.subscription_id},
                      body={"seats": seats, "acknowledged": True})


@pytest.mark.parametrize(("operation", "answer"), [
    pytest.param("Query", "throttling", id="read-throttled"),
    pytest.param("Query", "throughput", id="read-provisioned-throughput-exceeded"),
    pytest.param("Query", "internal", id="read-internal-error"),
    pytest.param("Query", "timeout", id="read-timed-out"),
    pytest.param("TransactWriteItems", "throttling", id="write-throttled"),
    pytest.param("TransactWriteItems", "timeout", id="write-timed-out"),
])
def test_a_reduction_when_dynamodb_fails_is_503_and_changes_nothing(faults: DynamoFaults, business: Tenant,
                                                                    request_as: Request, operation: str,
                                                                    answer: str) -> None:
    before = subscription_of(business)

    with faults.inject(operation, answer) as fault:
        result = reduce(request_as, business)

    assert_service_unavailable(result)
    assert fault.injected >= 2  # botocore retried before giving up
    assert subscription_of(business) == before
    assert "subscription.reduction_scheduled" not in activity_types(request_as, business)
    assert reduce(request_as, business).status == 200  # the retry goes through, once
    assert activity_types(request_as, business).count("subscription.reduction_scheduled") == 1


def test_a_reduction_that_loses_a_transaction_conflict_is_409_and_changes_nothing(
        faults: DynamoFaults, business: Tenant, request_as: Request) -> None:
    before = subscription_of(business)

    with faults.conflict() as fault:
        result = reduce(request_as, business)

    assert (result.status, result.error_code) == (409, "concurrent_update"), result.body
    assert fault.injected == 1  # a cancelled transaction is an answer, not retried by botocore
    assert subscription_of(business) == before
    assert "subscription.reduction_scheduled" not in activity_types(request_as, business)
    assert reduce(request_as, business).status == 200


# --- add a user -----------------------------------------------------------------------------------------

def assign(request_as: Request, tenant: Tenant) -> Any:
    return request_as(tenant, "users", "users-assign", body={"email": "new.colleague@acme.example"})


def emails(request_as: Request, tenant: Tenant) -> list[str]:
    return [user["email"] for user in request_as(tenant, "users", "users-list").body["items"]]


@pytest.mark.parametrize(("operation", "answer", "expected"), [
    pytest.param("Query", "throttling", 503, id="read-throttled"),
    pytest.param("TransactWriteItems", "throughput", 503, id="write-provisioned-throughput-exceeded"),
    pytest.param("TransactWriteItems", "conflict", 409, id="write-transaction-conflict"),
])
def test_adding_a_user_when_dynamodb_fails_adds_no_one(faults: DynamoFaults, business: Tenant, request_as: Request,
                                                       operation: str, answer: str, expected: int) -> None:
    before = subscription_of(business)

    with faults.inject(operation, answer):
        result = assign(request_as, business)

    assert result.status == expected, result.body
    assert result.error_code == ("service_unavailable" if expected == 503 else "concurrent_update")
    assert "new.colleague@acme.example" not in emails(request_as, business)
    assert subscription_of(business).version == before.version  # the licence count was not bumped either
    assert assign(request_as, business).status == 201
    assert emails(request_as, business).count("new.colleague@acme.example") == 1


# --- renew (charges money) ------------------------------------------------------------------------------

@pytest.fixture
def renewal(business: Tenant, request_as: Request) -> dict[str, int]:
    add_card(request_as, business)
    return {"seats": 12, "expected_total": quote_total(request_as, business, "renewal", 12)}


def assert_nothing_charged_or_changed(request_as: Request, tenant: Tenant) -> None:
    sub = subscription_of(tenant)
    assert sub.pending_payment is None and sub.renewal is None
    assert succeeded_charges() == []
    assert invoices(request_as, tenant)["items"] == [] and last_invoice_number() == 0


def assert_renewed_once(request_as: Request, tenant: Tenant) -> None:
    sub = subscription_of(tenant)
    assert sub.pending_payment is None and sub.renewal is not None and sub.renewal.seats == 12
    assert len(succeeded_charges()) == 1
    listed = invoices(request_as, tenant)["items"]
    assert [(i["number"], i["status"]) for i in listed] == [("INV-000001", "paid")] and last_invoice_number() == 1
    assert activity_types(request_as, tenant).count("subscription.renewed") == 1


# Requests of one renewal, in order (docs/data-model.md, "A payment"): each failing in its turn.
RENEWAL_STEPS = [
    pytest.param("PutItem", "throttling", lambda: on_table(idempotency_table()), id="idempotency-record"),
    pytest.param("Query", "throttling", lambda: on_table(table()), id="account-read"),
    pytest.param("UpdateItem", "throttling", lambda: writes("LIMIT#"), id="attempt-counter"),
    pytest.param("TransactWriteItems", "throttling",
                 lambda: both(on_table(table()), not_writing("INVOICE#"), not_writing("SANDBOX#")),
                 id="pending-payment-write"),
    pytest.param("TransactWriteItems", "timeout",
                 lambda: both(on_table(table()), not_writing("INVOICE#"), not_writing("SANDBOX#")),
                 id="pending-payment-write-timed-out"),
]


@pytest.mark.parametrize(("operation", "answer", "where"), RENEWAL_STEPS)
def test_a_renewal_failing_before_the_charge_charges_nothing(faults: DynamoFaults, business: Tenant,
                                                             request_as: Request, renewal: dict[str, int],
                                                             operation: str, answer: str, where: Any) -> None:
    with faults.inject(operation, answer, when=where()) as fault:
        result = renew(request_as, business, renewal, key="renew-1")

    assert_service_unavailable(result)
    assert fault.injected >= 1
    assert_nothing_charged_or_changed(request_as, business)
    retried = renew(request_as, business, renewal, key="renew-1")  # the client's retry, same key
    assert retried.status == 201, retried.body
    assert_renewed_once(request_as, business)


@pytest.mark.parametrize("answer", ["throttling", "timeout", "internal"])
def test_a_renewal_whose_completion_fails_after_the_charge_completes_once_on_retry(
        faults: DynamoFaults, business: Tenant, request_as: Request, renewal: dict[str, int], answer: str) -> None:
    with faults.inject("TransactWriteItems", answer, when=writes("INVOICE#")):
        result = renew(request_as, business, renewal, key="renew-1")

    assert_service_unavailable(result)
    # Charged, not yet recorded: the payment stays pending (the lock and the resume point), nothing else.
    pending = subscription_of(business).pending_payment
    assert pending is not None and pending.request_key == "renew-1"
    assert len(succeeded_charges()) == 1 and invoices(request_as, business)["items"] == []
    assert subscription_of(business).renewal is None and last_invoice_number() == 0

    retried = renew(request_as, business, renewal, key="renew-1")

    assert retried.status == 201, retried.body
    assert_renewed_once(request_as, business)  # the same charge, never a second one


def test_a_renewal_whose_completion_loses_one_conflict_completes_in_the_same_request(
        faults: DynamoFaults, business: Tenant, request_as: Request, renewal: dict[str, int]) -> None:
    with faults.conflict(when=writes("INVOICE#"), times=1) as fault:
        result = renew(request_as, business, renewal, key="renew-1")

    assert result.status == 201, result.body
    assert fault.injected == 1
    assert_renewed_once(request_as, business)


def test_a_renewal_whose_completion_keeps_losing_is_409_and_completes_once_on_retry(
        faults: DynamoFaults, business: Tenant, request_as: Request, renewal: dict[str, int]) -> None:
    with faults.conflict(when=writes("INVOICE#")) as fault:
        result = renew(request_as, business, renewal, key="renew-1")

    assert (result.status, result.error_code) == (409, "concurrent_update"), result.body
    assert fault.injected == 5  # COMPLETION_ATTEMPTS, each on fresh state, none charging again
    assert len(succeeded_charges()) == 1 and subscription_of(business).pending_payment is not None
    retried = renew(request_as, business, renewal, key="renew-1")
    assert retried.status == 201, retried.body
    assert_renewed_once(request_as, business)


def test_a_renewal_that_loses_every_start_is_409_and_charges_nothing(
        faults: DynamoFaults, business: Tenant, request_as: Request, renewal: dict[str, int]) -> None:
    start = both(on_table(table()), not_writing("INVOICE#"), not_writing("SANDBOX#"))
    with faults.conflict(when=start) as fault:
        result = renew(request_as, business, renewal, key="renew-1")

    assert (result.status, result.error_code) == (409, "concurrent_update"), result.body
    assert fault.injected == 3  # START_ATTEMPTS
    assert_nothing_charged_or_changed(request_as, business)


def test_a_renewal_whose_gateway_store_is_throttled_is_503_and_charges_once_on_retry(
        faults: DynamoFaults, business: Tenant, request_as: Request, renewal: dict[str, int]) -> None:
    with faults.throttle("TransactWriteItems", when=writes("SANDBOX#CHARGE#")):
        result = renew(request_as, business, renewal, key="renew-1")

    assert (result.status, result.error_code) == (503, "gateway_unavailable"), result.body
    assert result.headers["Retry-After"] == "2"
    assert stored_charges() == [] and invoices(request_as, business)["items"] == []
    retried = renew(request_as, business, renewal, key="renew-1")
    assert retried.status == 201, retried.body
    assert_renewed_once(request_as, business)


def test_a_read_of_the_account_when_dynamodb_is_throttled_is_503(faults: DynamoFaults, business: Tenant,
                                                                 request_as: Request) -> None:
    with faults.throttle("Query"):
        result = request_as(business, "account", "account-get")

    assert_service_unavailable(result)
    assert request_as(business, "account", "account-get").status == 200
