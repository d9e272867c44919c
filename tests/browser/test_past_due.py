"""A failed automatic renewal, seen and settled in the portal (SPEC 2.9): the tile says the payment is
overdue, the open invoice is paid with another card, and the subscription is active again.

Time moves here, and the clock is the whole local run's, so this journey has a local run of its own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import requests
from e2e.conftest import LocalRunProcess
from playwright.sync_api import expect

from .conftest import Portal, browser_tab, local_run_process, seeded_tenants

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def own_run(portal_run: LocalRunProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRunProcess]:
    health = requests.get(portal_run.url("/_local/health"), timeout=10).json()
    if not health.get("period_end_applier"):
        pytest.skip("the period-end applier is not in template.yaml yet (POST /_local/period-end/run answers 501)")
    with local_run_process(tmp_path_factory.mktemp("past-due-run")) as run:
        yield run


def add_card(run: LocalRunProcess, tenant_id: str, number: str) -> dict[str, Any]:
    token = run.call("POST", "/sandbox/card-tokens", tenant_id, json={
        "number": number, "exp_month": 12, "exp_year": 2031, "cvc": "123", "name": "Karin Åkerlund"}).json()["token"]
    added = run.call("POST", "/payment-methods", tenant_id, json={"token": token})
    assert added.status_code in (200, 201), added.text
    return dict(added.json())


def test_a_failed_renewal_is_paid_from_the_invoices(chromium: Any, own_run: LocalRunProcess) -> None:
    tenant = seeded_tenants(own_run)["business_monthly"]
    tenant_id, sub_id = tenant["id"], tenant["subscription_ids"][0]
    # The seeded Visa 4242 is the default (docs/local-run.md): make a card whose charges are declined the default.
    declining = add_card(own_run, tenant_id, "4000000000000341")
    made_default = own_run.call("POST", f"/payment-methods/{declining['id']}/default", tenant_id)
    assert made_default.status_code == 200, made_default.text
    good = add_card(own_run, tenant_id, "4242424242424242")  # the seeded card: saving it again returns it

    # The term ends; the applier renews automatically, the charge is declined.
    sub = own_run.call("GET", f"/subscriptions/{sub_id}", tenant_id).json()
    now = datetime.fromisoformat(requests.get(own_run.url("/_local/clock"), timeout=10).json()["now"])
    ends = datetime.fromisoformat(sub["current_period_end"])
    moved = requests.post(own_run.url("/_local/clock"), json={"advance_seconds": (ends - now).total_seconds() + 3600},
                          timeout=10)
    assert moved.status_code == 200, moved.text
    assert requests.post(own_run.url("/_local/period-end/run"), timeout=60).status_code == 200
    assert own_run.call("GET", f"/subscriptions/{sub_id}", tenant_id).json()["status"] == "past_due"
    open_invoice = next(i for i in own_run.call("GET", "/invoices", tenant_id).json()["items"] if i["status"] == "open")

    portal: Portal
    with browser_tab(chromium, own_run) as portal:
        portal.sign_in(tenant)
        page = portal.page
        tile = portal.tile(sub_id)
        expect(tile.locator(".badge.status-past_due")).to_have_text("Payment overdue")
        expect(tile).to_contain_text("A payment failed. Pay the open invoice to keep the subscription.")
        expect(tile.get_by_role("link", name="Renew")).to_have_count(0)
        portal.shot("past-due")
        tile.get_by_role("link", name="Go to invoices").click()

        row = page.locator(f'tr[data-invoice="{open_invoice["id"]}"]')
        expect(row.locator(".badge")).to_have_text("Open")
        row.get_by_role("button", name=f"Pay now: {open_invoice['number']}").click()
        dialog = portal.dialog()
        expect(dialog.get_by_role("heading")).to_have_text(f"Pay invoice {open_invoice['number']}")
        dialog.get_by_label("Card to charge").select_option(good["id"])
        portal.shot("pay-open-invoice")
        dialog.get_by_role("button", name="Pay ").click()

        expect(page.get_by_role("status").filter(has_text="paid.")).to_have_text(f"Invoice {open_invoice['number']} paid.")
        expect(row.locator(".badge")).to_have_text("Paid")
        portal.shot("invoice-paid")

    after = own_run.call("GET", f"/subscriptions/{sub_id}", tenant_id).json()
    assert after["status"] == "active"
    paid = own_run.call("GET", f"/invoices/{open_invoice['id']}", tenant_id).json()
    assert (paid["status"], paid["payment"]["last4"]) == ("paid", "4242")
