"""GET /account, GET and PUT /billing-info, GET /subscriptions(/{id}), the quote, and /openapi.json:
the account function end to end on moto."""

from __future__ import annotations

from typing import Any

import pytest
from selfservice.http.schemas import AccountOut, BillingInfoOut, QuoteOut, SubscriptionListOut, SubscriptionOut
from support.events import http_event
from support.functions import call

from .conftest import Tenant

BILLING = {
    "company_name": "Acme Analytics GmbH", "email": "Rechnung@Acme.example", "address_line1": "Hauptstraße 5",
    "postal_code": "10115", "city": "Berlin", "country": "DE", "vat_id": "DE123456789",
}


def test_account_shows_tenant_billing_info_and_subscription_tile(business: Tenant, request_as: Any) -> None:
    result = request_as(business, "account", "account-get")

    assert result.status == 200
    AccountOut.model_validate(result.body)
    assert result.body["tenant"]["id"] == business.tenant_id
    assert result.body["tenant"]["account_manager"] == {
        "name": "Astrid Lindqvist", "email": "astrid.lindqvist@nordlys.example"}
    assert result.body["billing_info"]["country"] == "SE"
    assert result.body["default_payment_method_id"] is None
    [tile] = result.body["subscriptions"]
    assert tile == {
        "id": business.subscription_id, "edition": "business", "channel": "direct",
        "plan_id": "business-monthly-eur", "currency": "EUR", "term": "monthly", "seats": 10,
        "active_users": 4, "status": "active",
        # started Jan 31: the term containing Mar 10 runs Feb 28 -> Mar 31 (the anchor day, clamped)
        "current_period_start": "2026-02-28T00:00:00Z", "current_period_end": "2026-03-31T00:00:00Z",
        "scheduled_reduction": None, "cancel_at": None, "cancellation_reason": None, "renewal": None,
        "managed_by": None, "self_service": True, "ended_at": None, "ended_reason": None,
        "open_invoice_id": None, "next_retry_at": None,
    }


def test_enterprise_tile_names_the_account_manager(enterprise: Tenant, request_as: Any) -> None:
    result = request_as(enterprise, "account", "account-get")

    [tile] = result.body["subscriptions"]
    assert tile["managed_by"] == {
        "kind": "account_manager", "name": "Astrid Lindqvist", "email": "astrid.lindqvist@nordlys.example"}
    assert tile["self_service"] is False


def test_a_token_for_a_tenant_that_does_not_exist_sees_nothing(api: Any) -> None:
    result = call("account", http_event("account-get", tenant_id="ten_does_not_exist"))

    assert result.status == 404
    assert result.error_code == "not_found"


def test_billing_info_is_read_and_replaced(business: Tenant, request_as: Any) -> None:
    before = request_as(business, "account", "account-billing-info-get")
    assert before.status == 200
    BillingInfoOut.model_validate(before.body)

    put = request_as(business, "account", "account-billing-info-put", body=BILLING)

    assert put.status == 200, put.body
    BillingInfoOut.model_validate(put.body)
    assert put.body["email"] == "rechnung@acme.example"
    assert put.body["vat_id"] == "DE123456789"
    assert put.body["address_line2"] is None
    assert request_as(business, "account", "account-billing-info-get").body == put.body


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param({"fax": "+46 8 123"}, "fax", id="unknown-field"),
        pytest.param({"company_name": "x" * 201}, "company_name", id="too-long"),
        pytest.param({"company_name": "   "}, "company_name", id="blank"),
        pytest.param({"email": "not-an-address"}, "email", id="bad-email"),
        pytest.param({"country": "de"}, "country", id="country-lower-case"),
        pytest.param({"postal_code": 10115}, "postal_code", id="number-for-string"),
        pytest.param({"city": None}, "city", id="null-required"),
    ],
)
def test_billing_info_is_validated(business: Tenant, request_as: Any, change: dict[str, Any], field: str) -> None:
    result = request_as(business, "account", "account-billing-info-put", body={**BILLING, **change})

    assert result.status == 422
    assert result.error_code == "validation_error"
    fields = [e["field"] for e in result.body["error"]["details"]["errors"]]
    assert field in fields
    assert "x" * 201 not in str(result.body)  # the input is never echoed


def test_billing_info_with_a_vat_id_of_the_wrong_country_is_invalid_input(business: Tenant, request_as: Any) -> None:
    result = request_as(business, "account", "account-billing-info-put", body={**BILLING, "vat_id": "SE556123456701"})

    assert result.status == 422
    assert result.error_code == "invalid_input"
    assert result.body["error"]["details"]["field"] == "vat_id"


def test_subscriptions_are_listed_and_read_one_by_one(business: Tenant, request_as: Any) -> None:
    listed = request_as(business, "account", "account-subscriptions")
    one = request_as(business, "account", "account-subscription", path={"subscription_id": business.subscription_id})

    assert listed.status == 200
    SubscriptionListOut.model_validate(listed.body)
    assert listed.body["next_cursor"] is None
    assert one.status == 200
    SubscriptionOut.model_validate(one.body)
    assert listed.body["items"] == [one.body]


def test_another_tenants_subscription_is_404_like_a_missing_one(business: Tenant, enterprise: Tenant,
                                                                 request_as: Any) -> None:
    theirs = request_as(business, "account", "account-subscription",
                        path={"subscription_id": enterprise.subscription_id})
    missing = request_as(business, "account", "account-subscription",
                         path={"subscription_id": "sub_" + "0" * 26})

    assert theirs.status == missing.status == 404
    assert theirs.error_code == missing.error_code == "not_found"
    assert theirs.body["error"]["message"] == missing.body["error"]["message"]


@pytest.mark.parametrize("bad_id", ["nope", "SUB_" + "0" * 26, "sub_" + "0" * 500, "sub_%2e%2e"])
def test_a_malformed_subscription_id_is_404(business: Tenant, request_as: Any, bad_id: str) -> None:
    result = request_as(business, "account", "account-subscription", path={"subscription_id": bad_id})

    assert result.status == 404
    assert result.error_code == "not_found"


def test_reduction_quote_shows_the_new_monthly_cost_the_date_and_the_wording(business: Tenant,
                                                                             request_as: Any) -> None:
    result = request_as(business, "account", "account-quote", path={"subscription_id": business.subscription_id},
                        query={"change": "reduction", "seats": "8"})

    assert result.status == 200, result.body
    QuoteOut.model_validate(result.body)
    quote = result.body
    assert quote["change"] == "reduction"
    assert quote["seats"] == 8
    assert quote["monthly_amount"] == 8 * 3000  # graduated: seats 1-10 at 30.00 EUR
    assert quote["tiers"] == [{"first_seat": 1, "last_seat": 8, "seats": 8, "unit_amount": 3000, "amount": 24000}]
    assert quote["lines"] == []
    assert (quote["amount_due"], quote["tax_amount"], quote["total"]) == (0, 0, 0)
    assert quote["tax_rate"] == "25"
    assert quote["effective_at"] == "2026-03-31T00:00:00Z"
    assert quote["acknowledgement"]["version"] == "seat-reduction/2026-01"
    assert "next subscription period" in quote["acknowledgement"]["text"]


def test_increase_quote_prorates_the_rest_of_the_term(business: Tenant, request_as: Any) -> None:
    result = request_as(business, "account", "account-quote", path={"subscription_id": business.subscription_id},
                        query={"change": "increase", "seats": "12"})

    assert result.status == 200, result.body
    quote = result.body
    # 10 -> 12 seats: monthly 30000 -> 30000 + 2 x 2700 = 35400; 5400 for the 21 of 31 days left
    # (Mar 10 12:00 -> Mar 31 00:00 = 20.5 days = 1771200 s of 2678400 s): 5400 x 1771200 / 2678400 = 3570.97 -> 3571
    assert quote["monthly_amount"] == 35400
    [line] = quote["lines"]
    assert line["amount"] == 3571
    assert quote["amount_due"] == 3571
    assert quote["tax_amount"] == 893  # 25 % of 3571 = 892.75 -> 893
    assert quote["total"] == 4464
    assert quote["acknowledgement"] is None


@pytest.mark.parametrize(
    "query",
    [
        pytest.param({"change": "downgrade", "seats": "3"}, id="unknown-change"),
        pytest.param({"change": "reduction", "seats": "0"}, id="zero-seats"),
        pytest.param({"change": "reduction", "seats": "10001"}, id="too-many-seats"),
        pytest.param({"change": "reduction", "seats": "three"}, id="not-a-number"),
        pytest.param({"change": "reduction"}, id="missing-seats"),
    ],
)
def test_quote_parameters_are_validated(business: Tenant, request_as: Any, query: dict[str, str]) -> None:
    result = request_as(business, "account", "account-quote", path={"subscription_id": business.subscription_id},
                        query=query)

    assert result.status == 422
    assert result.error_code == "validation_error"
    assert all(e["in"] == "query" for e in result.body["error"]["details"]["errors"])


def test_a_quote_below_the_active_users_is_refused(business: Tenant, request_as: Any) -> None:
    result = request_as(business, "account", "account-quote", path={"subscription_id": business.subscription_id},
                        query={"change": "reduction", "seats": "3"})

    assert result.status == 409
    assert result.error_code == "below_active_users"
    assert result.body["error"]["details"]["active_users"] == 4


def test_openapi_document_is_valid_openapi_3_with_every_route(api: Any) -> None:
    result = call("account", http_event("account-openapi"))

    assert result.status == 200
    document = result.body
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"]
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    expected = {
        ("get", "/account"), ("get", "/billing-info"), ("put", "/billing-info"), ("get", "/subscriptions"),
        ("get", "/subscriptions/{subscription_id}"), ("get", "/subscriptions/{subscription_id}/quote"),
        ("post", "/subscriptions/{subscription_id}/seat-reduction"),
        ("post", "/subscriptions/{subscription_id}/seat-reduction/undo"),
        ("post", "/subscriptions/{subscription_id}/cancellation"),
        ("post", "/subscriptions/{subscription_id}/cancellation/undo"),
        ("post", "/subscriptions/{subscription_id}/upgrade-request"),
        ("get", "/users"), ("post", "/users"), ("delete", "/users/{user_id}"), ("get", "/activity"),
        ("get", "/payment-methods"), ("post", "/payment-methods"), ("delete", "/payment-methods/{payment_method_id}"),
        ("post", "/payment-methods/{payment_method_id}/default"), ("post", "/sandbox/card-tokens"),
        ("get", "/invoices/{invoice_id}/pdf"),
        ("post", "/subscriptions/{subscription_id}/renewal"), ("post", "/subscriptions/{subscription_id}/seats"),
        ("get", "/invoices"), ("get", "/invoices/{invoice_id}"), ("post", "/invoices/{invoice_id}/pay"),
    }
    found = {(method, path) for path, item in document["paths"].items() for method in item}
    assert found == expected
    schemas = document["components"]["schemas"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert "200" in operation["responses"] or "201" in operation["responses"], (method, path)
            # Ours, or what Lambda or API Gateway answer themselves ({message}) when a function cannot.
            assert operation["responses"]["500"]["content"]["application/json"]["schema"]["anyOf"] == [
                {"$ref": "#/components/schemas/ErrorOut"}, {"$ref": "#/components/schemas/GatewayErrorOut"}]
            assert operation["responses"]["422"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorOut"}
            refs = _refs(operation)
            assert all(ref.removeprefix("#/components/schemas/") in schemas for ref in refs), refs
    assert not {"HTTPValidationError", "ValidationError"} & set(schemas)  # only our error shape
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(document)
    body = document["paths"]["/subscriptions/{subscription_id}/seat-reduction"]["post"]["requestBody"]
    assert body["required"] is True
    reduction = schemas["SeatReductionBody"]
    assert reduction["additionalProperties"] is False
    assert reduction["properties"]["seats"]["maximum"] == 10000


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def test_openapi_document_needs_an_identity_but_no_role(api: Any) -> None:
    member = call("account", http_event("account-openapi", roles="[member]"))
    anonymous = call("account", http_event("account-openapi", sub=None))

    assert member.status == 200
    assert anonymous.status == 401
    assert anonymous.error_code == "unauthorized"
