"""GET /invoices, GET /invoices/{id} and POST /invoices/{id}/pay through the invoices function on moto
(SPEC 2.9, 2.13)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from selfservice import bootstrap
from selfservice.domain.terms import utc
from selfservice.http.schemas import InvoiceListOut, InvoiceOut, PaymentResultOut
from selfservice.ports import INVOICE_SEQUENCE, Changeset
from support.invoices import make_invoice
from support.money import (
    NO_FUNDS,
    Request,
    add_card,
    add_seats,
    invoices,
    pay_invoice,
    quote_total,
    renew,
    subscription,
    succeeded_charges,
)

from .conftest import Tenant

UNKNOWN_INVOICE = "inv_00000000000000000000000000"


def issue_paid_invoices(request_as: Request, tenant: Tenant, count: int) -> list[dict[str, Any]]:
    """`count` invoices through the paying routes: a renewal, then seat increases one seat at a time."""
    add_card(request_as, tenant)
    issued = []
    result = renew(request_as, tenant, {"seats": 10, "expected_total": quote_total(request_as, tenant, "renewal", 10)})
    assert result.status == 201, result.body
    issued.append(result.body["invoice"])
    for n in range(1, count):
        seats = 10 + n
        body = {"seats": seats, "expected_total": quote_total(request_as, tenant, "increase", seats)}
        result = add_seats(request_as, tenant, body, key=f"seats-{seats}")
        assert result.status == 201, result.body
        issued.append(result.body["invoice"])
    return issued


def open_invoice_of_past_due(tenant: Tenant) -> str:
    """What the period-end applier leaves after a failed automatic renewal: an open invoice with the next
    number, and the subscription past_due naming it."""
    repo = bootstrap.deps().repo
    state = repo.load_tenant(tenant.tenant_id)
    assert state is not None
    sub = state.subscriptions[0]
    number = repo.last_number(INVOICE_SEQUENCE) + 1
    invoice = replace(make_invoice(tenant.tenant_id, number, status="open", issued_at=utc(2026, 3, 31)),
                      subscription_id=sub.id)
    past_due = replace(sub, status="past_due", open_invoice_id=invoice.id, payment_attempts=1,
                       next_retry_at=utc(2026, 4, 1), version=sub.version + 1)
    repo.commit(Changeset(tenant.tenant_id).write(invoice).write(past_due).take_number(INVOICE_SEQUENCE, number))
    return invoice.id


def get_invoice(request_as: Request, tenant: Tenant, invoice_id: str) -> Any:
    return request_as(tenant, "invoices", "invoices-get", path={"invoice_id": invoice_id})


# --- list and read ------------------------------------------------------------------------------------

def test_no_invoices_yet(business: Tenant, request_as: Request) -> None:
    assert invoices(request_as, business) == {"items": [], "next_cursor": None}


def test_invoices_are_listed_newest_first_in_pages(business: Tenant, request_as: Request, api: Any) -> None:
    issued = []
    for invoice in issue_paid_invoices(request_as, business, 1):
        issued.append(invoice)
    for n in range(3):
        api.advance(60)  # ids sort by issue time
        seats = 11 + n
        body = {"seats": seats, "expected_total": quote_total(request_as, business, "increase", seats)}
        result = add_seats(request_as, business, body, key=f"more-{n}")
        assert result.status == 201, result.body
        issued.append(result.body["invoice"])

    first = invoices(request_as, business, limit="3")
    second = invoices(request_as, business, limit="3", cursor=first["next_cursor"])

    InvoiceListOut.model_validate(first)
    assert [i["number"] for i in first["items"]] == ["INV-000004", "INV-000003", "INV-000002"]
    assert [i["number"] for i in second["items"]] == ["INV-000001"]
    assert second["next_cursor"] is None
    assert first["items"] + second["items"] == list(reversed(issued))


def test_one_invoice(business: Tenant, request_as: Request) -> None:
    [issued] = issue_paid_invoices(request_as, business, 1)

    result = get_invoice(request_as, business, issued["id"])

    assert result.status == 200, result.body
    InvoiceOut.model_validate(result.body)
    assert result.body == issued
    assert {"id", "number", "status", "issued_at", "currency", "lines", "subtotal", "tax_rate", "tax_amount",
            "total", "period_start", "period_end", "payment"} <= set(result.body)


def test_the_buyer_is_the_billing_information_at_issue(business: Tenant, request_as: Request) -> None:
    [issued] = issue_paid_invoices(request_as, business, 1)
    changed = request_as(business, "account", "account-billing-info-put", body={
        "company_name": "Acme Renamed AB", "email": "new@acme.example", "address_line1": "Ny gata 1",
        "postal_code": "111 22", "city": "Göteborg", "country": "SE"})
    assert changed.status == 200, changed.body

    assert get_invoice(request_as, business, issued["id"]).body["buyer"]["company_name"] == "Acme Analytics AB"


def test_another_tenants_invoice_is_404(business: Tenant, provision: Any, request_as: Request) -> None:
    other = provision()
    [theirs] = issue_paid_invoices(request_as, other, 1)

    assert (get_invoice(request_as, business, theirs["id"]).status, invoices(request_as, business)["items"]) == (
        404, [])
    result = pay_invoice(request_as, business, theirs["id"])
    assert (result.status, result.error_code) == (404, "not_found")


@pytest.mark.parametrize("invoice_id", [UNKNOWN_INVOICE, "inv_1", "INV-000001", "x" * 65])
def test_an_unknown_or_malformed_id_is_404(business: Tenant, request_as: Request, invoice_id: str) -> None:
    result = get_invoice(request_as, business, invoice_id)
    assert (result.status, result.error_code) == (404, "not_found")


def test_a_cursor_of_another_tenant_is_422(business: Tenant, provision: Any, request_as: Request, api: Any) -> None:
    other = provision()
    issue_paid_invoices(request_as, other, 3)
    cursor = invoices(request_as, other, limit="1")["next_cursor"]
    assert cursor is not None

    result = request_as(business, "invoices", "invoices-list", query={"cursor": cursor})
    assert (result.status, result.error_code) == (422, "invalid_input")


def test_the_invoice_routes_need_the_sao(business: Tenant, request_as: Request) -> None:
    for event in ("invoices-list", "invoices-get", "invoices-pay"):
        result = request_as(business, "invoices", event, claims={"roles": "[member]"})
        assert (result.status, result.error_code) == (403, "forbidden")


# --- paying an open invoice ---------------------------------------------------------------------------

def test_paying_the_open_invoice_reactivates_the_subscription(business: Tenant, request_as: Request) -> None:
    card_id = add_card(request_as, business)
    invoice_id = open_invoice_of_past_due(business)
    assert subscription(request_as, business)["status"] == "past_due"

    result = pay_invoice(request_as, business, invoice_id, {"payment_method_id": card_id})

    assert result.status == 200, result.body
    PaymentResultOut.model_validate(result.body)
    assert (result.body["invoice"]["status"], result.body["invoice"]["payment"]["last4"]) == ("paid", "4242")
    assert result.body["subscription"]["status"] == "active" == subscription(request_as, business)["status"]
    assert get_invoice(request_as, business, invoice_id).body["status"] == "paid"
    assert [int(c["amount"]["N"]) for c in succeeded_charges()] == [result.body["invoice"]["total"]]
    # a renewal is possible again
    renewal = renew(request_as, business, {"seats": 10, "expected_total": quote_total(request_as, business,
                                                                                    "renewal", 10)})
    assert renewal.status == 201, renewal.body


def test_a_paid_invoice_is_not_paid_twice(business: Tenant, request_as: Request) -> None:
    [issued] = issue_paid_invoices(request_as, business, 1)
    result = pay_invoice(request_as, business, issued["id"])
    assert (result.status, result.error_code) == (409, "invoice_not_open")
    assert len(succeeded_charges()) == 1


def test_a_declined_invoice_payment_keeps_it_open(business: Tenant, request_as: Request) -> None:
    add_card(request_as, business, NO_FUNDS)
    invoice_id = open_invoice_of_past_due(business)

    result = pay_invoice(request_as, business, invoice_id)

    assert (result.status, result.error_code) == (402, "insufficient_funds")
    assert get_invoice(request_as, business, invoice_id).body["status"] == "open"
    assert subscription(request_as, business)["status"] == "past_due"


def test_an_invoice_payment_replays(business: Tenant, request_as: Request) -> None:
    add_card(request_as, business)
    invoice_id = open_invoice_of_past_due(business)

    first = pay_invoice(request_as, business, invoice_id, key="pay-once")
    again = pay_invoice(request_as, business, invoice_id, key="pay-once")

    assert (first.status, again.status, again.body) == (200, 200, first.body)
    assert len(succeeded_charges()) == 1
