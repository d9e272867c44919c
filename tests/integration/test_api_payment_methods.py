"""Cards through their real handlers on moto (SPEC 2.10, 2.11): POST /sandbox/card-tokens (the sandbox
gateway's tokeniser) and GET/POST /payment-methods, DELETE /payment-methods/{id},
POST /payment-methods/{id}/default."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from selfservice import bootstrap
from selfservice.adapters.clock import ManualClock
from selfservice.adapters.sandbox_gateway import DynamoSandboxStore, SandboxGateway
from selfservice.http.schemas import CardTokenOut, PaymentMethodListOut, PaymentMethodOut
from support.events import http_event
from support.functions import HttpResult, call

from .conftest import NOW, Tenant

VISA = "4242 4242 4242 4242"
MASTERCARD = "5555 5555 5555 4444"
AMEX = "3782 822463 10005"
UNKNOWN_PM = "pm_00000000000000000000000000"

Request = Callable[..., HttpResult]


def card(number: str = VISA, **changes: Any) -> dict[str, Any]:
    body = {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "1234" if str(number).startswith("37") else "123",
            "name": "Maria Berg"}
    return body | changes


def tokenise(request_as: Request, tenant: Tenant, number: str = VISA, **changes: Any) -> HttpResult:
    return request_as(tenant, "sandbox_tokens", "sandbox_tokens", body=card(number, **changes))


def add(request_as: Request, tenant: Tenant, number: str = VISA, **changes: Any) -> HttpResult:
    tokenised = tokenise(request_as, tenant, number, **changes)
    assert tokenised.status == 201, tokenised.body
    added = request_as(tenant, "payment_methods", "payment_methods-add", body={"token": tokenised.body["token"]})
    clock = bootstrap.deps().clock
    assert isinstance(clock, ManualClock)
    clock.advance(1)  # card ids sort by their millisecond: cards list in the order added
    return added


def listed(request_as: Request, tenant: Tenant) -> list[dict[str, Any]]:
    result = request_as(tenant, "payment_methods", "payment_methods-list")
    assert result.status == 200, result.body
    PaymentMethodListOut.model_validate(result.body)
    assert result.body["next_cursor"] is None
    items: list[dict[str, Any]] = result.body["items"]
    return items


def make_default(request_as: Request, tenant: Tenant, payment_method_id: str, **options: Any) -> HttpResult:
    return request_as(tenant, "payment_methods", "payment_methods-default",
                      path={"payment_method_id": payment_method_id}, **options)


def remove(request_as: Request, tenant: Tenant, payment_method_id: str, **options: Any) -> HttpResult:
    return request_as(tenant, "payment_methods", "payment_methods-remove",
                      path={"payment_method_id": payment_method_id}, **options)


# --- the tokeniser ------------------------------------------------------------------------------------

def test_a_card_is_tokenised(business: Tenant, request_as: Request) -> None:
    result = tokenise(request_as, business, AMEX, name="  Åsa Öberg ")

    assert result.status == 201, result.body
    CardTokenOut.model_validate(result.body)
    assert result.body["token"].startswith("tok_")
    assert {k: v for k, v in result.body.items() if k != "token"} == {
        "brand": "amex", "last4": "0005", "exp_month": 12, "exp_year": 2030, "name": "Åsa Öberg"}


def test_the_refused_test_card_is_402(business: Tenant, request_as: Request) -> None:
    result = tokenise(request_as, business, "4000 0000 0000 0002")

    assert (result.status, result.error_code) == (402, "card_declined")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"number": "4242 4242 4242 4241"}, "number", id="luhn"),
        pytest.param({"exp_month": 2, "exp_year": 2026}, "exp_year", id="expired"),
        pytest.param({"cvc": "1234"}, "cvc", id="visa-with-4-digit-cvc"),
    ],
)
def test_card_details_the_tokeniser_refuses_are_422(business: Tenant, request_as: Request,
                                                    changes: dict[str, Any], field: str) -> None:
    result = request_as(business, "sandbox_tokens", "sandbox_tokens", body=card(**changes))

    assert (result.status, result.error_code) == (422, "invalid_input")
    assert result.body["error"]["details"] == {"field": field}
    assert "4242" not in result.body["error"]["message"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"number": 4242424242424242}, "number", id="number-not-a-string"),
        pytest.param({"number": "4242-4242-4242-4242"}, "number", id="number-with-dashes"),
        pytest.param({"number": "4242 4242 4242 4242 4242 42"}, "number", id="number-too-long"),
        pytest.param({"cvc": "12"}, "cvc", id="cvc-short"),
        pytest.param({"cvc": 123}, "cvc", id="cvc-not-a-string"),
        pytest.param({"exp_month": 13}, "exp_month", id="month-13"),
        pytest.param({"exp_year": 1999}, "exp_year", id="year-1999"),
        pytest.param({"exp_year": "2030"}, "exp_year", id="year-a-string"),
        pytest.param({"name": ""}, "name", id="empty-name"),
        pytest.param({"name": "x" * 101}, "name", id="long-name"),
        pytest.param({"pin": "0000"}, "pin", id="unknown-field"),
    ],
)
def test_card_details_outside_the_schema_are_422_without_echoing_them(business: Tenant, request_as: Request,
                                                                      changes: dict[str, Any], field: str) -> None:
    result = request_as(business, "sandbox_tokens", "sandbox_tokens", body=card(**changes))

    assert (result.status, result.error_code) == (422, "validation_error")
    assert [e["field"] for e in result.body["error"]["details"]["errors"]] == [field]
    text = str(result.body)
    assert "4242" not in text and "4242424242424242" not in text


def test_the_tokeniser_needs_the_sao(business: Tenant, request_as: Request) -> None:
    member = request_as(business, "sandbox_tokens", "sandbox_tokens", body=card(), claims={"roles": "[member]"})
    nobody = call("sandbox_tokens", http_event("sandbox_tokens", sub=None, body=card()))

    assert (member.status, member.error_code) == (403, "forbidden")
    assert (nobody.status, nobody.error_code) == (401, "unauthorized")


def test_the_tokeniser_is_absent_unless_the_sandbox_is_the_gateway(business: Tenant, request_as: Request,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYMENT_GATEWAY", "acquirer")
    bootstrap.reset()  # settings are read once per container: this is a container of another deployment

    result = tokenise(request_as, business)

    assert (result.status, result.error_code) == (404, "not_found")


def test_an_unknown_gateway_is_a_deployment_error(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYMENT_GATEWAY", "acquirer")
    bootstrap.reset()
    try:
        with pytest.raises(bootstrap.SettingsError, match="PAYMENT_GATEWAY"):
            bootstrap.deps()
    finally:
        bootstrap.reset()


# --- payment methods ------------------------------------------------------------------------------------

def test_the_card_journey(business: Tenant, request_as: Request) -> None:
    assert listed(request_as, business) == []

    first = add(request_as, business)
    assert first.status == 201, first.body
    PaymentMethodOut.model_validate(first.body)
    visa = first.body
    assert {k: visa[k] for k in ("brand", "last4", "exp_month", "exp_year", "name", "is_default", "expired")} == {
        "brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030, "name": "Maria Berg",
        "is_default": True, "expired": False}
    assert visa["id"].startswith("pm_")

    second = add(request_as, business, MASTERCARD)
    assert second.status == 201 and second.body["is_default"] is False
    mastercard = second.body
    assert [(c["id"], c["is_default"]) for c in listed(request_as, business)] == [
        (visa["id"], True), (mastercard["id"], False)]

    refused = remove(request_as, business, visa["id"])
    assert (refused.status, refused.error_code) == (409, "default_payment_method")
    assert refused.body["error"]["details"] == {"payment_method_id": visa["id"]}

    made = make_default(request_as, business, mastercard["id"])
    assert made.status == 200 and made.body["id"] == mastercard["id"] and made.body["is_default"] is True
    account = request_as(business, "account", "account-get")
    assert account.body["default_payment_method_id"] == mastercard["id"]
    assert account.body["default_payment_method"]["last4"] == "4444"

    removed = remove(request_as, business, visa["id"])
    assert removed.status == 200 and removed.body["id"] == visa["id"]
    assert [c["id"] for c in listed(request_as, business)] == [mastercard["id"]]
    gone = remove(request_as, business, visa["id"])
    assert (gone.status, gone.error_code) == (404, "not_found")

    activity = request_as(business, "activity", "activity")
    types = sorted(item["type"] for item in activity.body["items"] if item["type"].startswith("payment_method."))
    assert types == ["payment_method.added", "payment_method.added", "payment_method.default_changed",
                     "payment_method.removed"]


def test_the_same_card_again_is_200_with_the_saved_one(business: Tenant, request_as: Request) -> None:
    first = add(request_as, business)

    again = add(request_as, business, "4242424242424242", cvc="999")

    assert again.status == 200
    assert again.body == first.body
    assert len(listed(request_as, business)) == 1


def test_a_card_expired_by_the_time_it_is_added_is_409(business: Tenant, request_as: Request,
                                                       api: ManualClock) -> None:
    tokenised = tokenise(request_as, business, exp_month=3, exp_year=2026)
    api.set(NOW.replace(month=4, day=1))

    result = request_as(business, "payment_methods", "payment_methods-add", body={"token": tokenised.body["token"]})

    assert (result.status, result.error_code) == (409, "card_expired")


def test_an_expired_card_cannot_become_the_default(business: Tenant, request_as: Request,
                                                   api: ManualClock) -> None:
    add(request_as, business)
    expiring = add(request_as, business, MASTERCARD, exp_month=3, exp_year=2026).body
    api.set(NOW.replace(month=4, day=1))

    assert [c["expired"] for c in listed(request_as, business)] == [False, True]
    result = make_default(request_as, business, expiring["id"])

    assert (result.status, result.error_code) == (409, "card_expired")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        pytest.param({"token": "tok_00000000000000000000000000"}, 422, "invalid_input", id="unknown-token"),
        pytest.param({"token": "4242424242424242"}, 422, "validation_error", id="a-card-number"),
        pytest.param({"token": "tok_short"}, 422, "validation_error", id="malformed-token"),
        pytest.param({"token": "tok_00000000000000000000000000", "default": True}, 422, "validation_error",
                     id="unknown-field"),
        pytest.param({}, 422, "validation_error", id="no-token"),
    ],
)
def test_bad_additions_are_refused(business: Tenant, request_as: Request, body: dict[str, Any], status: int,
                                   code: str) -> None:
    result = request_as(business, "payment_methods", "payment_methods-add", body=body)

    assert (result.status, result.error_code) == (status, code)
    assert listed(request_as, business) == []


def test_another_tenants_card_is_404_everywhere(business: Tenant, provision: Callable[..., Tenant],
                                               request_as: Request) -> None:
    other = provision()
    add(request_as, business)
    theirs = add(request_as, other, MASTERCARD).body
    add(request_as, other, AMEX)

    for answer in (make_default(request_as, business, theirs["id"]), remove(request_as, business, theirs["id"]),
                   make_default(request_as, business, UNKNOWN_PM), remove(request_as, business, UNKNOWN_PM)):
        assert (answer.status, answer.error_code) == (404, "not_found")
    assert len(listed(request_as, other)) == 2
    assert [c["last4"] for c in listed(request_as, business)] == ["4242"]


@pytest.mark.parametrize("payment_method_id", ["pm_UPPER00000000000000000000000", "card_1", "pm_" + "0" * 60])
def test_a_malformed_id_is_404(business: Tenant, request_as: Request, payment_method_id: str) -> None:
    for answer in (make_default(request_as, business, payment_method_id), remove(request_as, business, payment_method_id)):
        assert (answer.status, answer.error_code) == (404, "not_found")


@pytest.mark.parametrize(
    "event", ["payment_methods-list", "payment_methods-add", "payment_methods-remove", "payment_methods-default"]
)
def test_every_payment_method_route_needs_the_sao(business: Tenant, request_as: Request, event: str) -> None:
    member = request_as(business, "payment_methods", event, claims={"roles": "[member analyst]"})
    nobody = call("payment_methods", http_event(event, tenant_id=None))

    assert (member.status, member.error_code) == (403, "forbidden")
    assert (nobody.status, nobody.error_code) == (401, "unauthorized")


def test_a_token_outlives_the_container_that_made_it(business: Tenant, request_as: Request,
                                                     api: ManualClock, aws: dict[str, str]) -> None:
    tokenised = tokenise(request_as, business)
    bootstrap.reset()  # a new container: nothing in memory survives, the table does
    bootstrap.override(clock=api)

    added = request_as(business, "payment_methods", "payment_methods-add", body={"token": tokenised.body["token"]})

    assert added.status == 201
    gateway = bootstrap.deps().gateway
    assert isinstance(gateway, SandboxGateway)
    assert gateway is bootstrap.deps().tokeniser
    fresh = SandboxGateway(DynamoSandboxStore(aws["Table"], _client()), api)
    assert fresh.card_details(tokenised.body["token"]).last4 == "4242"


def test_the_gateway_keeps_time_with_the_overridden_clock(business: Tenant, api: ManualClock) -> None:
    gateway = bootstrap.deps().gateway
    assert isinstance(gateway, SandboxGateway)
    api.advance(3600)

    details = gateway.tokenise(number=VISA, exp_month=12, exp_year=2030, cvc="123", name="A")
    paid = gateway.charge(token=details.token, amount=100, currency="EUR", idempotency_key="k1", description="t")

    assert paid.created_at == api.now()


def _client() -> Any:
    from selfservice_local.resources import shared_session

    return shared_session().client("dynamodb", region_name="eu-north-1")
