"""Money never goes wrong (issue 4, item 6), through the real handlers on moto with the sandbox gateway:
a declined card changes nothing; a retryable failure is retried with the same key and charges once; a
crash between the charge and the commit is completed exactly once, by the retry or by the
reconciliation; two concurrent payments charge once. And the cost of one payment: the DynamoDB round
trips and gateway calls of a renewal and of a seat increase, measured with botocore's event hooks."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from selfservice import bootstrap
from selfservice.adapters.sandbox_gateway import SandboxGateway
from selfservice.domain.errors import DomainError
from selfservice.http.errors import domain_error_response
from selfservice.ports import Changeset, Charge, Repository
from selfservice.services import Caller, payments
from support.events import http_event
from support.functions import load_function
from support.money import (
    DECLINED,
    NO_FUNDS,
    Request,
    add_card,
    add_seats,
    invoices,
    last_invoice_number,
    quote_total,
    renew,
    stored_charges,
    subscription,
    succeeded_charges,
)

from .conftest import Tenant

RENEWAL_12 = 44250  # 12 seats, SE: 35400 + 25 %
PROCESSING_ERROR = "4000 0000 0000 0119"


def sandbox() -> SandboxGateway:
    return cast(SandboxGateway, bootstrap.deps().gateway)


def stored_subscription(tenant: Tenant) -> Any:
    state = bootstrap.deps().repo.load_tenant(tenant.tenant_id)
    assert state is not None
    return state.subscriptions[0]


# --- a declined card ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("number", "code"), [(DECLINED, "card_declined"), (NO_FUNDS, "insufficient_funds")])
@pytest.mark.parametrize("change", ["renewal", "seats"])
def test_a_declined_card_is_402_and_changes_nothing(business: Tenant, request_as: Request, number: str, code: str,
                                                    change: str) -> None:
    add_card(request_as, business, number)
    cancel = request_as(business, "cancellation", "cancellation-cancel",
                        path={"subscription_id": business.subscription_id}, body={"acknowledged": True})
    assert cancel.status == 200
    before = subscription(request_as, business)
    numbers_before = last_invoice_number()

    if change == "renewal":
        result = renew(request_as, business, {"seats": 12, "expected_total": RENEWAL_12})
    else:
        result = add_seats(request_as, business, {"seats": 12, "expected_total": quote_total(
            request_as, business, "increase", 12)})

    assert (result.status, result.error_code) == (402, code)
    assert result.body["error"]["details"]["decline_code"] == code
    assert subscription(request_as, business) == before  # seats, term, renewal, cancellation as they were
    assert invoices(request_as, business)["items"] == []
    assert last_invoice_number() == numbers_before == 0
    assert stored_subscription(business).pending_payment is None
    assert [c["status"]["S"] for c in stored_charges()] == ["declined"]
    activity = request_as(business, "activity", "activity").body["items"]
    declines = [item["data"] for item in activity if item["type"] == "payment.declined"]
    assert [(d["decline_code"], d["amount"]) for d in declines] == [(code, int(stored_charges()[0]["amount"]["N"]))]


# --- a retryable gateway failure ----------------------------------------------------------------------

def test_a_lost_gateway_answer_is_503_and_the_retry_with_the_same_key_charges_once(business: Tenant,
                                                                                  request_as: Request) -> None:
    add_card(request_as, business)
    body = {"seats": 12, "expected_total": RENEWAL_12}
    sandbox().inject_fault("timeout_after_charge")

    failed = renew(request_as, business, body, key="renew-once")

    assert (failed.status, failed.error_code) == (503, "gateway_unavailable")
    assert len(succeeded_charges()) == 1  # the charge happened; its answer was lost
    assert last_invoice_number() == 0 and subscription(request_as, business)["renewal"] is None

    retried = renew(request_as, business, body, key="renew-once")

    assert retried.status == 201, retried.body
    assert len(succeeded_charges()) == 1
    assert retried.body["invoice"]["number"] == "INV-000001"
    # the next payment takes the next number: no gap, no duplicate
    total = quote_total(request_as, business, "increase", 11)
    assert add_seats(request_as, business, {"seats": 11, "expected_total": total}).body["invoice"]["number"] == \
        "INV-000002"
    assert len(succeeded_charges()) == 2 and last_invoice_number() == 2


def test_a_time_out_before_the_charge_charges_once_on_the_retry(business: Tenant, request_as: Request) -> None:
    add_card(request_as, business)
    sandbox().inject_fault("timeout_before_charge")
    body = {"seats": 12, "expected_total": RENEWAL_12}

    assert renew(request_as, business, body, key="k").status == 503
    assert stored_charges() == []
    assert renew(request_as, business, body, key="k").status == 201
    assert len(succeeded_charges()) == 1


def test_a_processing_error_is_503_and_releases_the_subscription(business: Tenant, request_as: Request) -> None:
    add_card(request_as, business, PROCESSING_ERROR)
    good = add_card(request_as, business)

    failed = renew(request_as, business, {"seats": 12, "expected_total": RENEWAL_12}, key="first")
    assert (failed.status, failed.error_code) == (503, "gateway_unavailable")
    assert stored_subscription(business).pending_payment is None and stored_charges() == []

    # nothing is held: another card can pay at once, under a new key
    paid = renew(request_as, business, {"seats": 12, "expected_total": RENEWAL_12, "payment_method_id": good},
                 key="second")
    assert paid.status == 201, paid.body
    assert len(succeeded_charges()) == 1


def test_while_the_outcome_is_unknown_other_changes_wait(business: Tenant, request_as: Request) -> None:
    add_card(request_as, business)
    sandbox().inject_fault("timeout_after_charge")
    assert renew(request_as, business, {"seats": 12, "expected_total": RENEWAL_12}, key="k").status == 503

    other = renew(request_as, business, {"seats": 12, "expected_total": RENEWAL_12}, key="another")
    reduce = request_as(business, "seats", "seats-reduce", path={"subscription_id": business.subscription_id},
                        body={"seats": 6, "acknowledged": True})

    assert (other.status, other.error_code) == (409, "payment_in_progress")
    assert (reduce.status, reduce.error_code) == (409, "payment_in_progress")
    assert "retry_after" in other.body["error"]["details"]


# --- a crash between the charge and the commit --------------------------------------------------------

class CrashBeforeCommit:
    """The real repository, except that the next commit that issues an invoice raises: the Lambda dies
    after the gateway charged and before the store recorded it."""

    def __init__(self, real: Repository) -> None:
        self._real = real
        self.crashes = 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def commit(self, changeset: Changeset) -> None:
        if self.crashes and changeset.numbers:
            self.crashes -= 1
            raise RuntimeError("Lambda crashed")
        self._real.commit(changeset)


@pytest.fixture
def crash_once(api: Any) -> CrashBeforeCommit:
    crashing = CrashBeforeCommit(bootstrap.deps().repo)
    bootstrap.override(repo=crashing)
    return crashing


def test_a_crash_after_the_charge_is_completed_once_by_the_retry(business: Tenant, request_as: Request,
                                                                crash_once: CrashBeforeCommit) -> None:
    add_card(request_as, business)
    body = {"seats": 12, "expected_total": RENEWAL_12}

    crashed = renew(request_as, business, body, key="k")

    assert (crashed.status, crashed.error_code) == (500, "internal_error")
    assert len(succeeded_charges()) == 1 and last_invoice_number() == 0
    pending = stored_subscription(business).pending_payment
    assert pending is not None

    retried = renew(request_as, business, body, key="k")

    assert retried.status == 201, retried.body
    assert retried.body["invoice"]["id"] == pending.invoice_id
    assert len(succeeded_charges()) == 1 and last_invoice_number() == 1
    assert renew(request_as, business, body, key="k").body == retried.body  # and now it replays


def test_a_crash_after_the_charge_is_completed_once_by_the_reconciliation(business: Tenant, request_as: Request,
                                                                         crash_once: CrashBeforeCommit) -> None:
    add_card(request_as, business)
    assert renew(request_as, business, {"seats": 12, "expected_total": RENEWAL_12}).status == 500

    deps = bootstrap.deps()
    assert payments.complete_pending_payment(deps, business.tenant_id, business.subscription_id) == "completed"
    assert payments.complete_pending_payment(deps, business.tenant_id, business.subscription_id) == \
        "nothing_pending"

    assert subscription(request_as, business)["renewal"]["seats"] == 12
    assert [i["number"] for i in invoices(request_as, business)["items"]] == ["INV-000001"]
    assert len(succeeded_charges()) == 1


# --- two payments at once -----------------------------------------------------------------------------

class BothReadFirst:
    """The real repository, except that the first account read of each of two requests waits for the
    other's: both decide on the same state, so both try to start the payment."""

    def __init__(self, real: Repository) -> None:
        self._real = real
        self._barrier = threading.Barrier(2, timeout=10)
        self._readers: set[int] = set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def load_tenant(self, tenant_id: str) -> Any:
        state = self._real.load_tenant(tenant_id)
        me = threading.get_ident()
        if me not in self._readers and len(self._readers) < 2:
            self._readers.add(me)
            self._barrier.wait()
        return state


@pytest.mark.usefixtures("atomic_moto_transactions")
def test_two_concurrent_renewals_charge_once(business: Tenant, request_as: Request, api: Any) -> None:
    add_card(request_as, business)
    bootstrap.override(repo=BothReadFirst(bootstrap.deps().repo))
    deps = bootstrap.deps()
    caller = Caller(business.tenant_id, business.sao_subject)
    outcomes: dict[str, Any] = {}

    def pay(key: str) -> None:
        try:
            outcomes[key] = payments.renew(deps, caller, business.subscription_id,
                                           payments.PaymentRequest(key, None, 12, RENEWAL_12))
        except DomainError as error:
            outcomes[key] = error

    threads = [threading.Thread(target=pay, args=(key,)) for key in ("tab-1", "tab-2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    paid = [o for o in outcomes.values() if isinstance(o, payments.PaymentOutcome)]
    refused = [o for o in outcomes.values() if isinstance(o, DomainError)]
    assert len(paid) == 1 and len(refused) == 1, outcomes
    response = domain_error_response(refused[0])
    assert response.status_code == 409
    assert refused[0].code in ("payment_in_progress", "already_renewed")
    assert len(succeeded_charges()) == 1 and last_invoice_number() == 1
    assert subscription(request_as, business)["renewal"]["seats"] == 12


# --- the cost of one payment --------------------------------------------------------------------------

@dataclass
class Calls:
    """DynamoDB requests (botocore `before-parameter-build` hooks on the container's session) and gateway calls."""

    dynamodb: list[tuple[str, str]] = field(default_factory=list)  # (store, operation)
    gateway: list[str] = field(default_factory=list)
    counting: bool = False

    def reset(self) -> None:
        self.dynamodb.clear()
        self.gateway.clear()
        self.counting = True

    def of(self, store: str) -> list[str]:
        return [operation for where, operation in self.dynamodb if where == store]


def _store_of(params: dict[str, Any]) -> str:
    tables = {params.get("TableName")} | {
        action.get(kind, {}).get("TableName") for action in params.get("TransactItems", []) for kind in action}
    if bootstrap.settings().idempotency_table_name in tables:
        return "idempotency"
    keys = [params.get("Key", {}), params.get("Item", {})] + [
        action.get(kind, {}).get("Item") or action.get(kind, {}).get("Key") or {}
        for action in params.get("TransactItems", []) for kind in action]
    if any(str(key.get("PK", {}).get("S", "")).startswith("SANDBOX#") for key in keys):
        return "gateway"
    return "table"


class CountingGateway:
    def __init__(self, real: Any, calls: Calls) -> None:
        self._real = real
        self._calls = calls

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._real, name)
        if name in ("charge", "find_charge", "refund", "card_details") and callable(attribute):
            def counted(*args: Any, **kwargs: Any) -> Any:
                if self._calls.counting:
                    self._calls.gateway.append(name)
                return attribute(*args, **kwargs)
            return counted
        return attribute


@pytest.fixture
def calls(api: Any) -> Iterator[Calls]:
    recorded = Calls()
    events = bootstrap.aws_session().events

    def before_call(model: Any, params: dict[str, Any], **_: Any) -> None:
        # before-parameter-build: once per request sent (botocore's own retries would not show here,
        # and none happen on moto), with the API parameters as the caller gave them
        if recorded.counting:
            recorded.dynamodb.append((_store_of(params), model.name))

    events.register("before-parameter-build.dynamodb", before_call, unique_id="money-round-trips")
    bootstrap.override(gateway=CountingGateway(bootstrap.deps().gateway, recorded))
    yield recorded
    events.unregister("before-parameter-build.dynamodb", unique_id="money-round-trips")


def test_round_trips_of_one_renewal_and_one_seat_increase(calls: Calls, business: Tenant, request_as: Request) -> None:
    add_card(request_as, business)
    renewal_body = {"seats": 12, "expected_total": RENEWAL_12}

    calls.reset()
    assert renew(request_as, business, renewal_body).status == 201
    renewal = (calls.of("table"), calls.of("idempotency"), list(calls.gateway), calls.of("gateway"))

    increase_body = {"seats": 11, "expected_total": quote_total(request_as, business, "increase", 11)}
    calls.reset()
    assert add_seats(request_as, business, increase_body).status == 201
    increase = (calls.of("table"), calls.of("idempotency"), list(calls.gateway), calls.of("gateway"))

    # the account Query; the attempt counter (abuse limit); the pending payment's conditional write; the
    # invoice counter; the completion
    table = ["Query", "UpdateItem", "TransactWriteItems", "GetItem", "TransactWriteItems"]
    # Powertools: the in-progress record, then the stored response
    idempotency = ["PutItem", "UpdateItem"]
    # one charge; inside the sandbox gateway: the key's first outcome, the token, the stored charge
    sandbox_store = ["GetItem", "GetItem", "TransactWriteItems"]
    assert renewal == (table, idempotency, ["charge"], sandbox_store)
    assert increase == (table, idempotency, ["charge"], sandbox_store)

    calls.reset()
    assert renew(request_as, business, renewal_body).status == 201  # a replay
    assert (calls.of("table"), calls.of("idempotency"), calls.gateway) == ([], ["PutItem"], [])


# --- the idempotency record of a request still running, or of one that crashed --------------------------

@dataclass
class Context:
    """A Lambda context whose invocation has `remaining_ms` left."""

    remaining_ms: int
    function_name: str = "renewal-function"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-north-1:123456789012:function:renewal-function"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


class LambdaKilled(BaseException):
    """The runtime stopping an invocation (time-out, out of memory): no code of the function runs on."""


def renew_in(context: Context, tenant: Tenant, key: str) -> Any:
    event = http_event("renewal", claims=tenant.claims(), path={"subscription_id": tenant.subscription_id},
                       body={"seats": 12, "expected_total": RENEWAL_12}, headers={"idempotency-key": key})
    response = load_function("renewal").lambda_handler(event, context)
    return int(response["statusCode"]), json.loads(response["body"])


def kill_during_the_charge(real: Any) -> Any:
    class Killing:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def charge(self, **kwargs: Any) -> Charge:
            real.charge(**kwargs)  # the card is charged; then the invocation dies
            raise LambdaKilled()

    return Killing()


@pytest.mark.parametrize(("remaining_ms", "retry_status", "code"), [
    pytest.param(15_000, 409, "request_in_progress", id="while-its-time-runs"),
    pytest.param(-1, 201, None, id="once-its-time-ran-out"),
])
def test_a_killed_invocation_holds_its_key_until_its_time_would_have_run_out(
        business: Tenant, request_as: Request, remaining_ms: int, retry_status: int, code: str | None) -> None:
    add_card(request_as, business)
    real = bootstrap.deps().gateway
    bootstrap.override(gateway=kill_during_the_charge(real))
    with pytest.raises(LambdaKilled):
        renew_in(Context(remaining_ms), business, "k")
    bootstrap.override(gateway=real)
    assert len(succeeded_charges()) == 1

    status, body = renew_in(Context(15_000), business, "k")

    assert status == retry_status, body
    if code:
        assert body["error"]["code"] == code
    else:
        assert body["invoice"]["number"] == "INV-000001"
    assert len(succeeded_charges()) == 1  # never a second charge
