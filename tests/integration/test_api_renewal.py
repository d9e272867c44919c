"""POST /subscriptions/{id}/renewal and POST /subscriptions/{id}/seats through their real handlers on moto
(SPEC 2.4, 2.5, 3): charged through the sandbox gateway, invoiced, idempotent per Idempotency-Key."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from selfservice import bootstrap
from selfservice.adapters.clock import ManualClock
from selfservice.domain.terms import utc
from selfservice.http.schemas import InvoiceOut, PaymentResultOut
from selfservice.ports import Changeset
from support.events import http_event
from support.functions import call
from support.money import (
    Request,
    add_card,
    add_seats,
    invoices,
    last_invoice_number,
    quote_total,
    renew,
    subscription,
    succeeded_charges,
)

from .conftest import Tenant

# Business monthly EUR (events/provisioning.json), anchored Jan 31, term Feb 28 .. Mar 31, SE buyer.
# Renewal at 12 seats: 10 x 3000 + 2 x 2700 = 35400; VAT 25 % = 8850; total 44250.
RENEWAL_12 = 44250


def set_subscription(tenant: Tenant, **changes: Any) -> None:
    """A state no self-service route reaches (ended, past_due), committed like any change."""
    repo = bootstrap.deps().repo
    state = repo.load_tenant(tenant.tenant_id)
    assert state is not None
    sub = state.subscriptions[0]
    repo.commit(Changeset(tenant.tenant_id).write(replace(sub, version=sub.version + 1, **changes)))


# --- renewal ------------------------------------------------------------------------------------------

def test_a_renewal_is_paid_invoiced_and_shown(business: Tenant, request_as: Request) -> None:
    card_id = add_card(request_as, business)
    assert quote_total(request_as, business, "renewal", 12) == RENEWAL_12

    result = renew(request_as, business, {"seats": 12, "expected_total": RENEWAL_12})

    assert result.status == 201, result.body
    PaymentResultOut.model_validate(result.body)
    invoice = result.body["invoice"]
    assert {k: invoice[k] for k in ("number", "status", "currency", "subtotal", "tax_rate", "tax_amount", "total",
                                    "period_start", "period_end")} == {
        "number": "INV-000001", "status": "paid", "currency": "EUR", "subtotal": 35400, "tax_rate": "25",
        "tax_amount": 8850, "total": RENEWAL_12, "period_start": "2026-03-31T00:00:00Z",
        "period_end": "2026-04-30T00:00:00Z"}
    assert [(line["quantity"], line["unit_amount"], line["amount"]) for line in invoice["lines"]] == [
        (10, 3000, 30000), (2, 2700, 5400)]
    assert invoice["payment"]["brand"] == "visa" and invoice["payment"]["last4"] == "4242"
    assert invoice["buyer"]["company_name"] == "Acme Analytics AB"
    assert invoice["seller"]["vat_id"] == "SE556677889901"
    renewal = {"seats": 12, "period_start": "2026-03-31T00:00:00Z", "period_end": "2026-04-30T00:00:00Z",
               "invoice_id": invoice["id"]}
    assert result.body["subscription"]["renewal"] == renewal
    assert subscription(request_as, business)["renewal"] == renewal
    assert invoices(request_as, business)["items"] == [invoice]
    assert [c["amount"]["N"] for c in succeeded_charges()] == [str(RENEWAL_12)]
    assert card_id  # charged: the default (and only) card


def test_renewal_withdraws_a_cancellation_and_replaces_a_reduction(business: Tenant, request_as: Request) -> None:
    add_card(request_as, business)
    sub_path = {"subscription_id": business.subscription_id}
    assert request_as(business, "seats", "seats-reduce", path=sub_path,
                      body={"seats": 6, "acknowledged": True}).status == 200
    assert request_as(business, "cancellation", "cancellation-cancel", path=sub_path,
                      body={"acknowledged": True}).status == 200

    result = renew(request_as, business, {"seats": 8, "expected_total": 30000})  # 8 x 3000 + 25 %

    assert result.status == 201, result.body
    shown = subscription(request_as, business)
    assert (shown["cancel_at"], shown["scheduled_reduction"], shown["renewal"]["seats"]) == (None, None, 8)


def test_a_second_renewal_of_the_same_term_is_refused(business: Tenant, request_as: Request) -> None:
    add_card(request_as, business)
    assert renew(request_as, business, {"seats": 12, "expected_total": RENEWAL_12}, key="a").status == 201

    again = renew(request_as, business, {"seats": 12, "expected_total": RENEWAL_12}, key="b")

    assert (again.status, again.error_code) == (409, "already_renewed")
    assert len(succeeded_charges()) == 1


def test_a_changed_price_charges_nothing(business: Tenant, request_as: Request) -> None:
    add_card(request_as, business)

    result = renew(request_as, business, {"seats": 12, "expected_total": 40000})

    assert (result.status, result.error_code) == (409, "price_changed")
    assert result.body["error"]["details"] == {"expected": 40000, "actual": RENEWAL_12, "currency": "EUR"}
    assert succeeded_charges() == [] and subscription(request_as, business)["renewal"] is None


def test_renewal_seats_respect_the_licence_floor(business: Tenant, request_as: Request) -> None:
    add_card(request_as, business)

    result = renew(request_as, business, {"seats": 3, "expected_total": 11250})

    assert (result.status, result.error_code) == (409, "below_active_users")
    assert result.body["error"]["details"] == {"active_users": 4, "requested_seats": 3}


def test_an_ended_subscription_renews_from_the_moment_of_payment(business: Tenant, request_as: Request,
                                                                 api: ManualClock) -> None:
    add_card(request_as, business)
    set_subscription(business, status="ended", ended_at=utc(2026, 2, 28), ended_reason="cancelled")
    total = quote_total(request_as, business, "renewal", 5)  # 5 x 3000 + 25 % = 18750

    result = renew(request_as, business, {"seats": 5, "expected_total": total})

    assert result.status == 201, result.body
    sub = result.body["subscription"]
    assert (sub["status"], sub["seats"], sub["current_period_start"], sub["current_period_end"], sub["ended_at"]) == (
        "active", 5, "2026-03-10T12:00:00Z", "2026-04-10T12:00:00Z", None)
    assert result.body["invoice"]["period_start"] == "2026-03-10T12:00:00Z"


def test_a_past_due_subscription_must_pay_its_open_invoice_first(business: Tenant, request_as: Request) -> None:
    add_card(request_as, business)
    set_subscription(business, status="past_due", open_invoice_id="inv_01kkbswhg0q7m3c9x2d5e8f4gh")

    result = renew(request_as, business, {"seats": 12, "expected_total": RENEWAL_12})

    assert (result.status, result.error_code) == (409, "invoice_open")
    assert result.body["error"]["details"] == {"invoice_id": "inv_01kkbswhg0q7m3c9x2d5e8f4gh"}


def test_without_a_card_nothing_is_charged(business: Tenant, request_as: Request) -> None:
    result = renew(request_as, business, {"seats": 12, "expected_total": RENEWAL_12})
    assert (result.status, result.error_code) == (409, "no_payment_method")


def test_an_enterprise_renewal_goes_through_the_account_manager(enterprise: Tenant, request_as: Request) -> None:
    add_card(request_as, enterprise)
    result = renew(request_as, enterprise, {"seats": 200, "expected_total": 1})
    assert (result.status, result.error_code) == (409, "managed_by_account_manager")


def test_another_tenants_subscription_and_card_are_404(business: Tenant, provision: Any, request_as: Request) -> None:
    other = provision()
    theirs = add_card(request_as, other)
    add_card(request_as, business)

    foreign_sub = request_as(business, "renewal", "renewal", path={"subscription_id": other.subscription_id},
                             body={"seats": 12, "expected_total": RENEWAL_12}, headers={"idempotency-key": "x"})
    foreign_card = renew(request_as, business, {"seats": 12, "expected_total": RENEWAL_12,
                                                "payment_method_id": theirs})

    assert (foreign_sub.status, foreign_sub.error_code) == (404, "not_found")
    assert (foreign_card.status, foreign_card.error_code) == (404, "not_found")
    assert succeeded_charges() == []


# --- the Idempotency-Key ------------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["", "   ", "k" * 101, "naïve-key", "two words"],
                         ids=["empty", "blank", "too-long", "non-ascii", "space"])
def test_a_paying_request_needs_a_usable_key(business: Tenant, request_as: Request, key: str) -> None:
    add_card(request_as, business)
    result = renew(request_as, business, {"seats": 12, "expected_total": RENEWAL_12}, key=key)
    assert (result.status, result.error_code) == (422, "idempotency_key_required")
    assert succeeded_charges() == []


@pytest.mark.parametrize(("flow", "event"), [("renewal", "renewal"), ("seats", "seats-increase"),
                                             ("invoices", "invoices-pay")])
def test_without_the_header_every_paying_route_is_422(business: Tenant, flow: str, event: str) -> None:
    request = http_event(event, claims=business.claims())
    del request["headers"]["idempotency-key"]
    result = call(flow, request)
    assert (result.status, result.error_code) == (422, "idempotency_key_required")
    assert result.body["error"]["details"] == {"header": "Idempotency-Key", "max_length": 100}


def test_a_replay_returns_the_first_response_without_charging_again(business: Tenant, request_as: Request) -> None:
    add_card(request_as, business)
    body = {"seats": 12, "expected_total": RENEWAL_12}
    first = renew(request_as, business, body, key="replay-me")

    replayed = renew(request_as, business, body, key="replay-me")

    assert (first.status, replayed.status) == (201, 201)
    assert replayed.body == first.body
    assert replayed.headers.get("Idempotency-Replayed") == "true"
    assert "Idempotency-Replayed" not in first.headers
    assert len(succeeded_charges()) == 1 and last_invoice_number() == 1


def test_the_same_key_with_another_body_is_422(business: Tenant, request_as: Request) -> None:
    add_card(request_as, business)
    assert renew(request_as, business, {"seats": 12, "expected_total": RENEWAL_12}, key="k").status == 201

    other = renew(request_as, business, {"seats": 13, "expected_total": 47625}, key="k")

    assert (other.status, other.error_code) == (422, "idempotency_key_reused")
    assert len(succeeded_charges()) == 1


def test_keys_are_scoped_by_tenant(business: Tenant, provision: Any, request_as: Request) -> None:
    other = provision()
    for tenant in (business, other):
        add_card(request_as, tenant)
        result = renew(request_as, tenant, {"seats": 12, "expected_total": RENEWAL_12}, key="same-key")
        assert result.status == 201, result.body
    assert len(succeeded_charges()) == 2


# --- add seats ----------------------------------------------------------------------------------------

def test_added_seats_are_charged_pro_rata(business: Tenant, request_as: Request) -> None:
    add_card(request_as, business)
    # 10 -> 12 on 03-10 12:00, term Feb 28 .. Mar 31 (31 d): 5400 x 1 771 200 / 2 678 400 = 3570.97 -> 3571;
    # VAT 892.75 -> 893; total 4464
    assert quote_total(request_as, business, "increase", 12) == 4464

    result = add_seats(request_as, business, {"seats": 12, "expected_total": 4464})

    assert result.status == 201, result.body
    PaymentResultOut.model_validate(result.body)
    InvoiceOut.model_validate(result.body["invoice"])
    assert [line["amount"] for line in result.body["invoice"]["lines"]] == [3571]
    assert (result.body["invoice"]["tax_amount"], result.body["invoice"]["total"]) == (893, 4464)
    assert result.body["subscription"]["seats"] == 12 == subscription(request_as, business)["seats"]


def test_added_seats_raise_the_prepaid_next_term(business: Tenant, request_as: Request) -> None:
    add_card(request_as, business)
    assert renew(request_as, business, {"seats": 12, "expected_total": RENEWAL_12}).status == 201
    total = quote_total(request_as, business, "increase", 11)

    result = add_seats(request_as, business, {"seats": 11, "expected_total": total})

    assert result.status == 201, result.body
    lines = result.body["invoice"]["lines"]
    assert len(lines) == 2
    assert (lines[1]["period_start"], lines[1]["amount"]) == ("2026-03-31T00:00:00Z", 2700)  # 12 -> 13 in full
    assert result.body["subscription"]["renewal"]["seats"] == 13
    assert result.body["invoice"]["number"] == "INV-000002"


def test_added_seats_wait_for_a_scheduled_reduction(business: Tenant, request_as: Request) -> None:
    add_card(request_as, business)
    assert request_as(business, "seats", "seats-reduce", path={"subscription_id": business.subscription_id},
                      body={"seats": 6, "acknowledged": True}).status == 200

    result = add_seats(request_as, business, {"seats": 12, "expected_total": 4464})

    assert (result.status, result.error_code) == (409, "seat_reduction_pending")
    assert succeeded_charges() == []


def test_free_added_seats_answer_200_without_an_invoice(provision: Any, request_as: Request) -> None:
    # Volume pricing: 26 seats (26 x 28500) cost less than 25 (25 x 31000): nothing is due, no credit.
    tenant = provision(plan_id="business-monthly-sek", seats=25)
    add_card(request_as, tenant)

    result = add_seats(request_as, tenant, {"seats": 26, "expected_total": 0})

    assert (result.status, result.body["invoice"], result.body["subscription"]["seats"]) == (200, None, 26)
    assert succeeded_charges() == []


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"seats": 12}, id="no-expected-total"),
        pytest.param({"seats": 12, "expected_total": -1}, id="negative-total"),
        pytest.param({"seats": 12, "expected_total": "4464"}, id="total-a-string"),
        pytest.param({"seats": 12, "expected_total": 44.64}, id="total-a-float"),
        pytest.param({"seats": 12, "expected_total": 4464, "payment_method_id": "card_1"}, id="bad-card-id"),
        pytest.param({"seats": 12, "expected_total": 4464, "coupon": "FREE"}, id="unknown-field"),
    ],
)
def test_the_body_is_validated(business: Tenant, request_as: Request, body: dict[str, Any]) -> None:
    result = add_seats(request_as, business, body)
    assert (result.status, result.error_code) == (422, "validation_error")
