"""The sandbox gateway's contract on both of its stores: the in-memory one (unit tests) and DynamoDB on
moto (the table created from template.yaml), so what a Lambda function sees across invocations is what
the unit tests assume. DynamoDB-only properties (the items, failures) follow at the end."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError
from selfservice.adapters.clock import ManualClock
from selfservice.adapters.sandbox_gateway import (
    DynamoSandboxStore,
    InMemorySandboxStore,
    SandboxGateway,
    SandboxStore,
)
from selfservice.domain.errors import GatewayUnavailable, IdempotencyKeyReused, InvalidInput, PaymentFailed
from selfservice.ports import CardDetails, Charge

from .conftest import NOW

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

VISA = "4242 4242 4242 4242"


@pytest.fixture(params=["memory", "dynamodb"])
def store(request: pytest.FixtureRequest) -> SandboxStore:
    if request.param == "memory":
        return InMemorySandboxStore()
    resources: dict[str, str] = request.getfixturevalue("aws")
    return DynamoSandboxStore(resources["Table"], request.getfixturevalue("dynamodb_client"))


@pytest.fixture
def gateway(store: SandboxStore) -> SandboxGateway:
    return SandboxGateway(store, ManualClock(NOW))


def tokenise(gateway: SandboxGateway, number: str = VISA) -> CardDetails:
    return gateway.tokenise(number=number, exp_month=11, exp_year=2031, cvc="321", name="Łukasz Żółw")


def charge(gateway: SandboxGateway, token: str, key: str = "pay_1", amount: int = 9_900) -> Charge:
    return gateway.charge(token=token, amount=amount, currency="SEK", idempotency_key=key, description="Seats")


def test_a_token_round_trips(gateway: SandboxGateway) -> None:
    card = tokenise(gateway)

    assert gateway.card_details(card.token) == card
    assert (card.brand, card.last4, card.exp_month, card.exp_year, card.name) == ("visa", "4242", 11, 2031, "Łukasz Żółw")
    with pytest.raises(InvalidInput):
        gateway.card_details("tok_00000000000000000000000000")


def test_the_refused_test_card_stores_nothing(gateway: SandboxGateway) -> None:
    with pytest.raises(PaymentFailed):
        tokenise(gateway, "4000000000000002")


def test_a_key_charges_once_and_returns_the_first_outcome(gateway: SandboxGateway) -> None:
    card = tokenise(gateway)
    first = charge(gateway, card.token)

    assert charge(gateway, card.token) == first
    assert gateway.find_charge("pay_1") == first
    assert gateway.find_charge("pay_2") is None
    assert first.created_at == NOW and first.amount == 9_900 and first.currency == "SEK"
    assert len(gateway.charged) == 1


def test_a_decline_is_stored_and_replayed(gateway: SandboxGateway) -> None:
    card = tokenise(gateway, "4000000000009995")
    first = charge(gateway, card.token)

    assert (first.status, first.decline_code) == ("declined", "insufficient_funds")
    assert charge(gateway, card.token) == first == gateway.find_charge("pay_1")


def test_a_key_for_another_amount_is_refused(gateway: SandboxGateway) -> None:
    card = tokenise(gateway)
    charge(gateway, card.token)

    with pytest.raises(IdempotencyKeyReused):
        charge(gateway, card.token, amount=9_901)


def test_a_processing_error_stores_nothing(gateway: SandboxGateway) -> None:
    card = tokenise(gateway, "4000000000000119")

    with pytest.raises(GatewayUnavailable) as failed:
        charge(gateway, card.token)

    assert failed.value.outcome_unknown is False
    assert gateway.find_charge("pay_1") is None


def test_a_lost_response_keeps_the_charge_for_the_retry(gateway: SandboxGateway) -> None:
    card = tokenise(gateway)
    gateway.inject_fault("timeout_after_charge")

    with pytest.raises(GatewayUnavailable) as lost:
        charge(gateway, card.token)

    assert lost.value.outcome_unknown is True
    stored = gateway.find_charge("pay_1")
    assert stored is not None
    assert charge(gateway, card.token) == stored


def test_a_refund_happens_once(gateway: SandboxGateway) -> None:
    paid = charge(gateway, tokenise(gateway).token)

    refund_id = gateway.refund(paid.id, idempotency_key="refund_1")

    assert gateway.refund(paid.id, idempotency_key="refund_1") == refund_id
    with pytest.raises(InvalidInput, match="already"):
        gateway.refund(paid.id, idempotency_key="refund_2")
    with pytest.raises(InvalidInput, match="no such charge"):
        gateway.refund("ch_nothing", idempotency_key="refund_3")


@pytest.mark.usefixtures("atomic_moto_transactions")
def test_concurrent_calls_with_one_key_charge_once(store: SandboxStore) -> None:
    # Two containers (two gateway objects) serve the same client retry at the same moment.
    first, second = SandboxGateway(store, ManualClock(NOW)), SandboxGateway(store, ManualClock(NOW))
    token = tokenise(first).token
    start = threading.Barrier(2)
    outcomes: list[Charge] = []

    def pay(gateway: SandboxGateway) -> None:
        start.wait()
        outcomes.append(charge(gateway, token))

    threads = [threading.Thread(target=pay, args=(g,)) for g in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(outcomes) == 2 and outcomes[0] == outcomes[1]
    assert len(first.charged) + len(second.charged) == 1


# --- DynamoDB only ------------------------------------------------------------------------------------

def _all_items(client: DynamoDBClient, table: str) -> list[dict[str, Any]]:
    return client.scan(TableName=table, ConsistentRead=True)["Items"]


def test_the_items_are_the_documented_ones(aws: dict[str, str], dynamodb_client: DynamoDBClient) -> None:
    gateway = SandboxGateway(DynamoSandboxStore(aws["Table"], dynamodb_client), ManualClock(NOW))
    card = tokenise(gateway)
    paid = charge(gateway, card.token)
    refund_id = gateway.refund(paid.id, idempotency_key="refund_1")

    items = {item["PK"]["S"]: item for item in _all_items(dynamodb_client, aws["Table"])}

    assert set(items) == {f"SANDBOX#TOKEN#{card.token}", "SANDBOX#CHARGE#pay_1", f"SANDBOX#CHARGE_ID#{paid.id}",
                          "SANDBOX#REFUND#refund_1"}
    assert {item["SK"]["S"] for item in items.values()} == {"SANDBOX"}
    token_item = items[f"SANDBOX#TOKEN#{card.token}"]
    assert token_item["entity"] == {"S": "sandbox_token"}
    assert set(token_item) == {"PK", "SK", "entity", "token", "brand", "last4", "exp_month", "exp_year", "name",
                               "fingerprint", "behaviour", "created_at", "owner"}
    assert items["SANDBOX#CHARGE#pay_1"]["refund_id"] == {"S": refund_id}
    text = repr(items)
    assert "4242424242424242" not in text and "4242 4242 4242" not in text
    assert "321" not in [value.get("S") or value.get("N") for item in items.values() for value in item.values()]


def test_a_store_failure_is_the_gateway_being_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    class Throttled:
        def __getattr__(self, name: str) -> Any:
            def fail(**_kwargs: Any) -> Any:
                raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}},
                                  name)
            return fail

    store = DynamoSandboxStore("table", Throttled())  # type: ignore[arg-type]
    gateway = SandboxGateway(store, ManualClock(NOW))

    with pytest.raises(GatewayUnavailable) as read:
        gateway.find_charge("pay_1")
    assert read.value.outcome_unknown is False

    record_store = InMemorySandboxStore()
    card = SandboxGateway(record_store, ManualClock(NOW)).tokenise(number=VISA, exp_month=1, exp_year=2030, cvc="123",
                                                                   name="A")
    monkeypatch.setattr(store, "get_token", record_store.get_token)
    monkeypatch.setattr(store, "get_charge", lambda _key: None)
    with pytest.raises(GatewayUnavailable) as write:
        charge(gateway, card.token)
    assert write.value.outcome_unknown is True  # the write may have landed: look it up, or retry with the key
