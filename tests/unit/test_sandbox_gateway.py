"""The sandbox payment gateway (SPEC 2.11) on its in-memory store: the test cards, card validation,
idempotent charges and refunds, and the injected faults. The same behaviour on the DynamoDB store is
held by tests/integration/test_sandbox_gateway_contract.py."""

from __future__ import annotations

from dataclasses import fields
from datetime import timedelta

import pytest
from selfservice.adapters.clock import ManualClock
from selfservice.adapters.sandbox_gateway import (
    DEFAULT_FINGERPRINT_SECRET,
    InMemorySandboxStore,
    SandboxGateway,
)
from selfservice.domain.errors import GatewayUnavailable, IdempotencyKeyReused, InvalidInput, PaymentFailed
from selfservice.ports import CardDetails, CardTokeniser, Charge, PaymentGateway

from .builders import NOW

VISA = "4242 4242 4242 4242"
MASTERCARD = "5555 5555 5555 4444"
AMEX = "3782 822463 10005"
REFUSED = "4000 0000 0000 0002"
ALWAYS_DECLINED = "4000 0000 0000 0341"
INSUFFICIENT_FUNDS = "4000 0000 0000 9995"
PROCESSING_ERROR = "4000 0000 0000 0119"


@pytest.fixture
def store() -> InMemorySandboxStore:
    return InMemorySandboxStore()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def gateway(store: InMemorySandboxStore, clock: ManualClock) -> SandboxGateway:
    return SandboxGateway(store, clock)


def tokenise(gateway: SandboxGateway, number: str = VISA, *, exp_month: int = 12, exp_year: int = 2030,
             cvc: str | None = None, name: str = "Maria Berg") -> CardDetails:
    cvc = cvc if cvc is not None else ("1234" if number.startswith("37") else "123")
    return gateway.tokenise(number=number, exp_month=exp_month, exp_year=exp_year, cvc=cvc, name=name)


def charge(gateway: SandboxGateway, token: str, *, key: str = "pay_1", amount: int = 12_500,
           currency: str = "EUR") -> Charge:
    return gateway.charge(token=token, amount=amount, currency=currency, idempotency_key=key,
                          description="Renewal")


def test_it_implements_both_ports(gateway: SandboxGateway) -> None:
    port: PaymentGateway = gateway
    tokeniser: CardTokeniser = gateway
    assert port is tokeniser


# --- tokenising ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("number", "brand", "last4"),
    [
        pytest.param(VISA, "visa", "4242", id="visa"),
        pytest.param(MASTERCARD, "mastercard", "4444", id="mastercard"),
        pytest.param(AMEX, "amex", "0005", id="amex"),
        pytest.param("6011 1111 1111 1117", "unknown", "1117", id="other-luhn-valid"),
    ],
)
def test_good_cards_tokenise_and_charge(gateway: SandboxGateway, number: str, brand: str, last4: str) -> None:
    card = tokenise(gateway, number)

    assert card.token.startswith("tok_")
    assert (card.brand, card.last4, card.exp_month, card.exp_year, card.name) == (brand, last4, 12, 2030, "Maria Berg")
    result = charge(gateway, card.token)
    assert result.status == "succeeded" and result.decline_code is None
    assert result.id.startswith("ch_")


def test_the_refused_card_does_not_tokenise(gateway: SandboxGateway, store: InMemorySandboxStore) -> None:
    with pytest.raises(PaymentFailed) as refused:
        tokenise(gateway, REFUSED)

    assert refused.value.code == "card_declined"
    assert store.tokens == {}


@pytest.mark.parametrize(
    ("number", "decline_code"),
    [
        pytest.param(ALWAYS_DECLINED, "card_declined", id="0341"),
        pytest.param(INSUFFICIENT_FUNDS, "insufficient_funds", id="9995"),
    ],
)
def test_declining_cards_tokenise_and_every_charge_is_declined(gateway: SandboxGateway, number: str,
                                                                decline_code: str) -> None:
    card = tokenise(gateway, number)

    for key in ("pay_1", "pay_2"):
        result = charge(gateway, card.token, key=key)
        assert (result.status, result.decline_code) == ("declined", decline_code)
    assert [c.status for c in gateway.charged] == ["declined", "declined"]


def test_the_processing_error_card_fails_retryably_and_stores_nothing(gateway: SandboxGateway,
                                                                       store: InMemorySandboxStore) -> None:
    card = tokenise(gateway, PROCESSING_ERROR)

    with pytest.raises(GatewayUnavailable) as failed:
        charge(gateway, card.token)

    assert failed.value.outcome_unknown is False
    assert failed.value.code == "gateway_unavailable"
    assert store.charges == {} and gateway.find_charge("pay_1") is None


def test_a_card_that_expired_since_tokenising_is_declined(gateway: SandboxGateway, clock: ManualClock) -> None:
    card = tokenise(gateway, exp_month=3, exp_year=2026)
    clock.set(NOW.replace(month=4, day=1))

    result = charge(gateway, card.token)

    assert (result.status, result.decline_code) == ("declined", "expired_card")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"number": "4242 4242 4242 4241"}, "number", id="luhn"),
        pytest.param({"number": "4242"}, "number", id="too-short"),
        pytest.param({"number": "4242-4242-4242-424x"}, "number", id="not-digits"),
        pytest.param({"exp_month": 13}, "exp_month", id="month-13"),
        pytest.param({"exp_month": 2, "exp_year": 2026}, "exp_year", id="expired-last-month"),
        pytest.param({"exp_year": 2025}, "exp_year", id="expired-last-year"),
        pytest.param({"cvc": "12"}, "cvc", id="cvc-short"),
        pytest.param({"cvc": "12345"}, "cvc", id="cvc-long"),
        pytest.param({"cvc": "12a"}, "cvc", id="cvc-letters"),
        pytest.param({"cvc": "1234"}, "cvc", id="visa-four-digit-cvc"),
        pytest.param({"number": AMEX, "cvc": "123"}, "cvc", id="amex-three-digit-cvc"),
        pytest.param({"name": "   "}, "name", id="blank-name"),
        pytest.param({"name": "x" * 101}, "name", id="long-name"),
    ],
)
def test_invalid_card_details_are_refused_without_echoing_the_number(
    gateway: SandboxGateway, store: InMemorySandboxStore, changes: dict[str, object], field: str,
) -> None:
    details: dict[str, object] = {"number": VISA, "exp_month": 12, "exp_year": 2030, "cvc": "123",
                                  "name": "Maria Berg"} | changes

    with pytest.raises(InvalidInput) as refused:
        gateway.tokenise(**details)

    assert refused.value.details == {"field": field}
    number = str(details["number"])
    for text in (refused.value.message, str(refused.value), repr(refused.value.details)):
        assert number not in text and number.replace(" ", "") not in text
    assert store.tokens == {}


def test_a_card_expiring_this_month_is_still_valid(gateway: SandboxGateway) -> None:
    card = tokenise(gateway, exp_month=NOW.month, exp_year=NOW.year)

    assert card.exp_month == 3


def test_the_token_keeps_no_number_and_no_cvc(gateway: SandboxGateway, store: InMemorySandboxStore) -> None:
    card = tokenise(gateway, VISA, cvc="987")

    stored = store.tokens[card.token]
    values = [str(getattr(stored, f.name)) for f in fields(stored)]
    assert [f.name for f in fields(stored)] == ["token", "brand", "last4", "exp_month", "exp_year", "name",
                                                "fingerprint", "behaviour", "created_at", "owner"]
    assert not any("4242424242424242" in v or "4242 4242" in v for v in values)
    assert "987" not in values
    assert stored.behaviour == "succeed"


def test_the_fingerprint_is_the_same_for_the_same_number_only(store: InMemorySandboxStore,
                                                                clock: ManualClock) -> None:
    gateway = SandboxGateway(store, clock)
    first = tokenise(gateway, VISA)
    again = tokenise(gateway, "4242424242424242", exp_month=1, exp_year=2031, cvc="555", name="M Berg")
    other = tokenise(gateway, MASTERCARD)

    assert first.token != again.token
    assert first.fingerprint == again.fingerprint != other.fingerprint
    assert len(first.fingerprint) == 24 and "4242" not in first.fingerprint
    keyed = SandboxGateway(store, clock, secret=DEFAULT_FINGERPRINT_SECRET + "-other")
    assert tokenise(keyed, VISA).fingerprint != first.fingerprint


def test_card_details_tell_what_stands_behind_a_token(gateway: SandboxGateway) -> None:
    card = tokenise(gateway, MASTERCARD, name="Åsa Öberg")

    assert gateway.card_details(card.token) == card
    with pytest.raises(InvalidInput) as unknown:
        gateway.card_details("tok_unknown")
    assert unknown.value.details == {"field": "token"}


# --- idempotent charges -------------------------------------------------------------------------------

def test_the_same_key_returns_the_first_outcome_without_charging_again(gateway: SandboxGateway,
                                                                        clock: ManualClock) -> None:
    card = tokenise(gateway)
    first = charge(gateway, card.token)
    clock.advance(60)

    replay = charge(gateway, card.token)

    assert replay == first
    assert gateway.find_charge("pay_1") == first
    assert len(gateway.charged) == 1


def test_the_same_key_keeps_a_decline(gateway: SandboxGateway) -> None:
    card = tokenise(gateway, INSUFFICIENT_FUNDS)
    first = charge(gateway, card.token)

    assert charge(gateway, card.token) == first
    assert len(gateway.charged) == 1


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"amount": 12_501}, id="amount"),
        pytest.param({"currency": "SEK"}, id="currency"),
        pytest.param({"token": "other"}, id="card"),
    ],
)
def test_the_same_key_for_another_charge_is_refused(gateway: SandboxGateway, changes: dict[str, object]) -> None:
    card = tokenise(gateway)
    other = tokenise(gateway, MASTERCARD)
    charge(gateway, card.token)
    arguments: dict[str, object] = {"token": card.token, "amount": 12_500, "currency": "EUR"} | changes
    if arguments["token"] == "other":
        arguments["token"] = other.token

    with pytest.raises(IdempotencyKeyReused) as refused:
        gateway.charge(idempotency_key="pay_1", description="Renewal", **arguments)

    assert isinstance(refused.value, InvalidInput)
    assert refused.value.details == {"field": "idempotency_key"}
    assert len(gateway.charged) == 1


def test_a_processing_error_stores_nothing_so_a_retry_can_succeed(gateway: SandboxGateway) -> None:
    card = tokenise(gateway)
    gateway.inject_fault("processing_error")

    with pytest.raises(GatewayUnavailable) as failed:
        charge(gateway, card.token)

    assert failed.value.outcome_unknown is False
    assert gateway.find_charge("pay_1") is None
    retried = charge(gateway, card.token)
    assert retried.status == "succeeded"
    assert len(gateway.charged) == 1


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        pytest.param({"amount": 0}, "amount", id="zero"),
        pytest.param({"amount": -5}, "amount", id="negative"),
        pytest.param({"amount": True}, "amount", id="bool"),
        pytest.param({"amount": 1_000_000_000}, "amount", id="too-large"),
        pytest.param({"currency": "eur"}, "currency", id="lower-case-currency"),
        pytest.param({"currency": "EURO"}, "currency", id="long-currency"),
        pytest.param({"idempotency_key": ""}, "idempotency_key", id="empty-key"),
        pytest.param({"idempotency_key": "k" * 256}, "idempotency_key", id="long-key"),
        pytest.param({"description": "d" * 501}, "description", id="long-description"),
        pytest.param({"token": "tok_unknown"}, "token", id="unknown-token"),
    ],
)
def test_bad_charge_arguments_are_refused_and_charge_nothing(gateway: SandboxGateway, arguments: dict[str, object],
                                                             field: str) -> None:
    card = tokenise(gateway)
    full: dict[str, object] = {"token": card.token, "amount": 100, "currency": "EUR", "idempotency_key": "pay_x",
                               "description": "Renewal"} | arguments

    with pytest.raises(InvalidInput) as refused:
        gateway.charge(**full)

    assert refused.value.details == {"field": field}
    assert gateway.charged == []


# --- injected faults ------------------------------------------------------------------------------------

def test_a_time_out_before_the_charge_charges_nothing(gateway: SandboxGateway) -> None:
    card = tokenise(gateway)
    gateway.inject_fault("timeout_before_charge")

    with pytest.raises(GatewayUnavailable) as lost:
        charge(gateway, card.token)

    assert lost.value.outcome_unknown is True
    assert gateway.find_charge("pay_1") is None and gateway.charged == []
    assert charge(gateway, card.token).status == "succeeded"
    assert len(gateway.charged) == 1


def test_a_time_out_after_the_charge_loses_the_answer_but_keeps_the_charge(gateway: SandboxGateway) -> None:
    card = tokenise(gateway)
    gateway.inject_fault("timeout_after_charge")

    with pytest.raises(GatewayUnavailable) as lost:
        charge(gateway, card.token)

    assert lost.value.outcome_unknown is True
    stored = gateway.find_charge("pay_1")
    assert stored is not None and stored.status == "succeeded"
    # The retry with the same key returns that charge: the card is charged once.
    assert charge(gateway, card.token) == stored
    assert gateway.charged == [stored]


def test_faults_apply_to_the_next_calls_in_order(gateway: SandboxGateway) -> None:
    card = tokenise(gateway)
    gateway.inject_fault("timeout_before_charge", times=2)
    gateway.inject_fault("processing_error")
    assert gateway.pending_faults == ("timeout_before_charge", "timeout_before_charge", "processing_error")

    outcomes = []
    for _ in range(4):
        try:
            outcomes.append(charge(gateway, card.token).status)
        except GatewayUnavailable as failed:
            outcomes.append(f"unavailable(unknown={failed.outcome_unknown})")

    assert outcomes == ["unavailable(unknown=True)", "unavailable(unknown=True)", "unavailable(unknown=False)",
                        "succeeded"]
    assert gateway.pending_faults == ()


def test_faults_can_be_cleared_and_unknown_kinds_are_refused(gateway: SandboxGateway) -> None:
    gateway.inject_fault("processing_error", times=3)
    gateway.clear_faults()

    assert gateway.pending_faults == ()
    with pytest.raises(ValueError, match="unknown fault"):
        gateway.inject_fault("network_gremlin")
    with pytest.raises(ValueError, match="times"):
        gateway.inject_fault("processing_error", times=0)


# --- refunds --------------------------------------------------------------------------------------------

def test_a_refund_is_idempotent_per_key_and_happens_once(gateway: SandboxGateway, store: InMemorySandboxStore) -> None:
    card = tokenise(gateway)
    paid = charge(gateway, card.token)

    refund_id = gateway.refund(paid.id, idempotency_key="refund_1")

    assert refund_id.startswith("re_")
    assert gateway.refund(paid.id, idempotency_key="refund_1") == refund_id
    with pytest.raises(InvalidInput, match="already been refunded"):
        gateway.refund(paid.id, idempotency_key="refund_2")
    assert store.charges["pay_1"].refund_id == refund_id


def test_only_a_succeeded_known_charge_is_refunded(gateway: SandboxGateway) -> None:
    declined = charge(gateway, tokenise(gateway, ALWAYS_DECLINED).token)
    paid = charge(gateway, tokenise(gateway).token, key="pay_2")
    gateway.refund(paid.id, idempotency_key="refund_1")

    with pytest.raises(InvalidInput, match="succeeded"):
        gateway.refund(declined.id, idempotency_key="refund_2")
    with pytest.raises(InvalidInput, match="no such charge"):
        gateway.refund("ch_unknown", idempotency_key="refund_3")
    with pytest.raises(IdempotencyKeyReused):
        gateway.refund(declined.id, idempotency_key="refund_1")


def test_the_clock_is_the_injected_one(gateway: SandboxGateway, clock: ManualClock) -> None:
    clock.advance(timedelta(days=2).total_seconds())
    card = tokenise(gateway)

    assert charge(gateway, card.token).created_at == NOW + timedelta(days=2)
