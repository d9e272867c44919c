"""Every journey of the portal by clicking, in Chromium, against the local run (SPEC 2, issue 8).

Each test signs in as a seeded tenant and leaves that tenant as a later test can use it, whatever the
order: reductions and cancellations (undone again) on the annual tenant, renewal and added seats
(which stay) on the monthly one, cards on the Enterprise tenant, billing information on the reseller.
Screenshots of every screen go to test-artifacts/screenshots/."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import Portal

pytestmark = pytest.mark.browser

Tenants = dict[str, dict[str, Any]]


def subscription(portal: Portal, tenant: dict[str, Any]) -> dict[str, Any]:
    reply = portal.api(tenant, "GET", f"/subscriptions/{tenant['subscription_ids'][0]}")
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def ensure_card(portal: Portal, tenant: dict[str, Any], number: str = "4242424242424242") -> dict[str, Any]:
    """A default card for the tenant, added through the API (the card journeys add theirs by clicking)."""
    cards = portal.api(tenant, "GET", "/payment-methods").json()["items"]
    default = next((c for c in cards if c["is_default"]), None)
    if default:
        return dict(default)
    token = portal.api(tenant, "POST", "/sandbox/card-tokens", json={
        "number": number, "exp_month": 12, "exp_year": 2031, "cvc": "123", "name": "Test Owner"}).json()["token"]
    added = portal.api(tenant, "POST", "/payment-methods", json={"token": token})
    assert added.status_code in (200, 201), added.text
    return dict(added.json())


def fill_card(portal: Portal, number: str, name: str = "Karin Åkerlund") -> None:
    form = portal.page.locator("form.card-form")
    form.get_by_label("Name on card").fill(name)
    form.get_by_label("Card number").fill(number)
    form.get_by_label("Expiry month").fill("11")
    form.get_by_label("Expiry year").fill("2031")
    form.get_by_label("CVC").fill("123")
    form.get_by_role("button", name="Continue").click()


def test_the_enterprise_and_reseller_tiles_are_read_only(portal: Portal, demo: Tenants) -> None:
    enterprise = demo["enterprise"]
    portal.sign_in(enterprise)
    tile = portal.tile(enterprise["subscription_ids"][0])
    expect(tile.get_by_role("heading")).to_have_text("Enterprise (annual)")
    manager = enterprise["managed_by"]
    expect(tile.locator(".managed")).to_have_text(
        f"Changes to this subscription go through your account manager, {manager['name']} ({manager['email']}).")
    expect(tile.get_by_text("Read only")).to_be_visible()
    expect(tile.get_by_role("link", name="Renew")).to_have_count(0)
    expect(tile.get_by_role("link", name="Manage")).to_have_count(0)
    expect(tile.locator(".fact", has_text="Seats in use")).to_contain_text("of 150")
    portal.shot("subscriptions-enterprise")

    # Going to a change screen directly shows the same read-only tile, not a form.
    portal.open(f"/subscriptions/{enterprise['subscription_ids'][0]}/renew")
    expect(portal.page.locator(".managed")).to_contain_text(manager["name"])
    expect(portal.page.get_by_role("button", name="Continue")).to_have_count(0)

    reseller = demo["reseller"]
    portal.page.get_by_role("button", name="Sign out").click()
    portal.sign_in(reseller)
    tile = portal.tile(reseller["subscription_ids"][0])
    expect(tile.locator(".managed")).to_have_text(re.compile(
        rf"go through your reseller, {re.escape(reseller['managed_by']['name'])}"))
    expect(tile.get_by_role("link", name="Renew")).to_have_count(0)
    portal.shot("subscriptions-reseller")


def test_the_swedish_labels(portal: Portal, demo: Tenants) -> None:
    tenant = demo["business_annual"]
    sub_id = tenant["subscription_ids"][0]
    ensure_card(portal, tenant)
    seats = subscription(portal, tenant)["seats"]
    scheduled = portal.api(tenant, "POST", f"/subscriptions/{sub_id}/seat-reduction",
                           json={"seats": seats - 1, "acknowledged": True})
    assert scheduled.status_code == 200, scheduled.text
    try:
        portal.sign_in(tenant)
        portal.page.get_by_label("Language").select_option("sv")
        page = portal.page
        expect(page.get_by_role("heading", level=1)).to_have_text("Prenumerationer")
        expect(page.locator("html")).to_have_attribute("lang", "sv")
        tile = portal.tile(sub_id)
        expect(tile.get_by_role("link", name="Förnya")).to_be_visible()
        expect(tile.get_by_role("link", name="Hantera")).to_be_visible()
        expect(tile.get_by_role("button", name="Ångra begäran")).to_be_visible()
        expect(tile).to_contain_text(f"Minskas till {seats - 1} licenser den")
        expect(page.get_by_role("navigation").get_by_role("link", name="Betalning och fakturering")).to_be_visible()
        portal.shot("sv-subscriptions")

        tile.get_by_role("link", name="Hantera").click()
        expect(page.get_by_role("link", name="Färre licenser")).to_be_visible()
        page.get_by_role("button", name="Avbryt prenumeration").click()
        dialog = portal.dialog()
        expect(dialog.get_by_role("heading")).to_have_text("Avbryta prenumerationen?")
        expect(dialog).to_contain_text("Prenumerationen avslutas i slutet av den sista betalda perioden.")
        expect(dialog.get_by_role("checkbox", name="Jag förstår")).to_be_enabled()
        expect(dialog.get_by_role("button", name="Bekräfta")).to_be_disabled()
        portal.shot("sv-cancel-dialog")
        dialog.get_by_role("button", name="Inte nu").click()
        expect(dialog).to_have_count(0)

        page.get_by_role("link", name="Färre licenser").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Färre licenser")
        expect(page.get_by_label("Antal betalda användare för nästa prenumerationsperiod")).to_be_visible()
        expect(page.locator(".quote-aside")).to_contain_text("Månadskostnad")
        expect(page.get_by_role("button", name="Fortsätt")).to_be_enabled()
        portal.shot("sv-fewer")

        portal.open(f"/subscriptions/{sub_id}/renew")
        expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Förnya"))
        page.get_by_role("button", name="Fortsätt").click()
        expect(page.get_by_role("button", name="Lägg till ny betalningsmetod")).to_be_visible()
        expect(page.get_by_role("radio")).to_be_checked()
        page.get_by_role("button", name="Fortsätt").click()
        expect(page.get_by_role("heading", name="Översikt")).to_be_visible()
        expect(page.get_by_role("button", name=re.compile(r"^Betala "))).to_be_enabled()
        expect(page.locator(".totals")).to_contain_text("€")  # sv-SE: "1 234,50 €"
        portal.shot("sv-renew-overview")
    finally:
        undone = portal.api(tenant, "POST", f"/subscriptions/{sub_id}/seat-reduction/undo", json={"acknowledged": True})
        assert undone.status_code == 200, undone.text


def test_reduce_and_undo(portal: Portal, demo: Tenants) -> None:
    tenant = demo["business_annual"]
    sub_id = tenant["subscription_ids"][0]
    before = subscription(portal, tenant)
    target = before["seats"] - 2
    assert target >= before["active_users"]
    portal.sign_in(tenant)
    page = portal.page
    portal.tile(sub_id).get_by_role("link", name="Manage").click()
    portal.shot("manage")
    page.get_by_role("link", name="Fewer licences").click()
    picker = page.get_by_label("Paid users for the next subscription period")
    expect(picker).to_have_value(str(before["seats"] - 1))
    expect(page.locator(".seat-picker .hint")).to_contain_text(f"active users ({before['active_users']})")
    page.get_by_role("button", name="One seat fewer").click()
    expect(picker).to_have_value(str(target))
    quote = portal.api(tenant, "GET", f"/subscriptions/{sub_id}/quote",
                       params={"change": "reduction", "seats": target}).json()
    expect(page.locator(".quote-aside .big")).to_have_attribute("data-monthly", str(quote["monthly_amount"]))
    portal.shot("fewer-licences")
    page.get_by_role("button", name="Continue").click()

    dialog = portal.dialog()
    expect(dialog.get_by_role("heading")).to_have_text(f"Reduce to {target} seats?")
    expect(dialog).to_contain_text(quote["acknowledgement"]["text"])
    confirm = dialog.get_by_role("button", name="Confirm")
    expect(confirm).to_be_disabled()
    portal.shot("fewer-licences-dialog")
    dialog.get_by_label("I understand").check()
    confirm.click()

    tile = portal.tile(sub_id)
    expect(tile.locator('[data-kind="reduction"]')).to_contain_text(f"Reduces to {target} seats on")
    expect(tile.locator(".notice")).to_contain_text(f"Reduction requested: {target} seats from")
    portal.shot("reduction-scheduled")
    assert subscription(portal, tenant)["scheduled_reduction"]["seats"] == target

    tile.locator('[data-kind="reduction"]').get_by_role("button", name="Undo request").click()
    dialog = portal.dialog()
    expect(dialog.get_by_role("heading")).to_have_text("Undo the reduction?")
    expect(dialog.get_by_role("checkbox", name="I understand")).to_be_enabled()
    portal.shot("undo-reduction-dialog")
    dialog.get_by_label("I understand").check()
    dialog.get_by_role("button", name="Confirm").click()
    expect(tile.locator(".notice")).to_have_text(f"The reduction was undone: {before['seats']} seats stay.")
    expect(tile.locator('[data-kind="reduction"]')).to_have_count(0)
    assert subscription(portal, tenant)["scheduled_reduction"] is None


def test_cancel_and_undo(portal: Portal, demo: Tenants) -> None:
    tenant = demo["business_annual"]
    sub_id = tenant["subscription_ids"][0]
    portal.sign_in(tenant)
    page = portal.page
    portal.tile(sub_id).get_by_role("link", name="Manage").click()
    page.get_by_role("button", name="Cancel subscription").click()
    dialog = portal.dialog()
    expect(dialog.get_by_role("heading")).to_have_text("Cancel the subscription?")
    expect(dialog).to_contain_text("Your subscription ends at the end of the last paid period.")
    dialog.get_by_label("Why are you cancelling? (optional)").fill("Trying another tool")
    expect(dialog.get_by_role("button", name="Confirm")).to_be_disabled()
    dialog.get_by_label("I understand").check()
    portal.shot("cancel-dialog")
    dialog.get_by_role("button", name="Confirm").click()

    tile = portal.tile(sub_id)
    cancellation = tile.locator('[data-kind="cancellation"]')
    expect(cancellation).to_contain_text("Ends on")
    expect(tile.locator(".notice")).to_contain_text("Cancellation requested: the subscription ends on")
    portal.shot("cancellation-scheduled")
    after = subscription(portal, tenant)
    assert after["cancel_at"] == after["current_period_end"]
    assert after["cancellation_reason"] == "Trying another tool"

    cancellation.get_by_role("button", name="Undo request").click()
    dialog = portal.dialog()
    expect(dialog.get_by_role("heading")).to_have_text("Undo the cancellation?")
    dialog.get_by_label("I understand").check()
    dialog.get_by_role("button", name="Confirm").click()
    expect(tile.locator(".notice")).to_have_text("The cancellation was undone: the subscription continues.")
    expect(cancellation).to_have_count(0)
    assert subscription(portal, tenant)["cancel_at"] is None


def test_billing_information_edit(portal: Portal, demo: Tenants) -> None:
    tenant = demo["reseller"]
    original = portal.api(tenant, "GET", "/billing-info").json()
    portal.sign_in(tenant)
    page = portal.page
    page.get_by_role("navigation").get_by_role("link", name="Payment and billing").click()
    form = page.locator("form.billing-form")
    expect(form.get_by_label("Company name")).to_have_value(original["company_name"])

    # A refusal is shown in the API's words, next to the field it is about.
    form.get_by_label("VAT ID (optional)").fill("DE12")
    form.get_by_role("button", name="Save").click()
    expect(form.get_by_role("alert")).to_have_text("'DE12' is not a valid VAT ID for BG.")
    expect(form.get_by_label("VAT ID (optional)")).to_have_attribute("aria-invalid", "true")
    portal.shot("billing-refused")

    form.get_by_label("VAT ID (optional)").fill("")
    form.get_by_label("Purchase order reference (optional)").fill("PO-BG-42")
    form.get_by_label("Address line 2 (optional)").fill("ет. 3")
    form.get_by_role("button", name="Save").click()
    expect(form.get_by_role("status")).to_have_text("Billing information saved.")
    portal.shot("billing")
    saved = portal.api(tenant, "GET", "/billing-info").json()
    assert (saved["po_reference"], saved["address_line2"], saved["vat_id"]) == ("PO-BG-42", "ет. 3", None)
    assert saved["company_name"] == original["company_name"]


def test_card_management_and_the_refused_removal_of_the_default(portal: Portal, demo: Tenants) -> None:
    tenant = demo["enterprise"]  # every edition manages its own cards
    portal.sign_in(tenant)
    page = portal.page
    page.get_by_role("navigation").get_by_role("link", name="Payment and billing").click()
    cards = page.locator("ul.card-list")
    # The seeded default card (docs/local-run.md, "Demo data"): the sandbox's Visa 4242.
    visa = cards.locator('li[data-last4="4242"]')
    expect(visa.locator(".badge.default")).to_have_text("Default")

    page.get_by_role("button", name="Add credit card").click()
    fill_card(portal, "4000 0000 0000 0002")  # the sandbox declines it when tokenising
    expect(page.locator("form.card-form").get_by_role("alert")).to_contain_text(re.compile("declined", re.I))
    portal.shot("card-declined")
    fill_card(portal, "5555 5555 5555 4444")
    expect(page.get_by_text("Mastercard ending in 4444 was added.")).to_be_visible()
    mastercard = cards.locator('li[data-last4="4444"]')
    expect(mastercard).to_contain_text("Mastercard ending in 4444")
    expect(mastercard.locator(".badge.default")).to_have_count(0)
    portal.shot("cards")

    # The default card cannot be removed: the dialog shows the API's refusal as it words it.
    visa.get_by_role("button", name=re.compile("^Remove")).click()
    dialog = portal.dialog()
    expect(dialog.get_by_role("heading")).to_have_text("Remove credit card?")
    dialog.get_by_role("button", name="Remove").click()
    expect(dialog.get_by_role("alert")).to_have_text("This card is the default payment method; set another default first.")
    portal.shot("card-default-refused")
    dialog.get_by_role("button", name="Not now").click()

    mastercard.get_by_role("button", name="Use as default payment method").click()
    expect(page.get_by_text("Mastercard ending in 4444 is now the default payment method.")).to_be_visible()
    expect(mastercard.locator(".badge.default")).to_be_visible()
    visa.get_by_role("button", name=re.compile("^Remove")).click()
    portal.dialog().get_by_role("button", name="Remove").click()
    expect(page.get_by_text("The card was removed.")).to_be_visible()
    expect(visa).to_have_count(0)
    remaining = portal.api(tenant, "GET", "/payment-methods").json()["items"]
    assert [(c["last4"], c["is_default"]) for c in remaining] == [("4444", True)]


def test_renew_and_pay(portal: Portal, demo: Tenants) -> None:
    tenant = demo["business_monthly"]
    sub_id = tenant["subscription_ids"][0]
    ensure_card(portal, tenant)
    before = subscription(portal, tenant)
    assert before["renewal"] is None
    seats = before["seats"] + 1
    portal.sign_in(tenant)
    page = portal.page
    portal.tile(sub_id).get_by_role("link", name="Renew").click()

    # Seats, with the monthly cost from the quote to the right.
    picker = page.get_by_label("Paid users for the renewal period")
    expect(picker).to_have_value(str(before["seats"]))
    page.get_by_role("button", name="One seat more").click()
    expect(picker).to_have_value(str(seats))
    quote = portal.api(tenant, "GET", f"/subscriptions/{sub_id}/quote", params={"change": "renewal", "seats": seats}).json()
    expect(page.locator(".quote-aside .big")).to_have_attribute("data-monthly", str(quote["monthly_amount"]))
    portal.shot("renew-seats")
    page.get_by_role("button", name="Continue").click()

    # Payment: the default card selected; a new card added on the way and chosen.
    expect(page.get_by_role("radio", name=re.compile("Visa ending in 4242"))).to_be_checked()
    page.get_by_role("button", name="Add a new payment method").click()
    fill_card(portal, "5555 5555 5555 4444")
    expect(page.get_by_role("radio", name=re.compile("Mastercard ending in 4444"))).to_be_checked()
    portal.shot("renew-payment")
    page.get_by_role("button", name="Continue").click()

    # Overview, then Pay.
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    overview = page.locator(".overview")
    expect(overview).to_contain_text("Mastercard ending in 4444")
    expect(overview.locator("[data-total]")).to_have_attribute("data-total", str(quote["total"]))
    portal.shot("renew-overview")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()

    tile = portal.tile(sub_id)
    expect(tile.locator(".notice")).to_contain_text(f"Renewed: {seats} seats from")
    expect(tile.locator('[data-kind="renewal"]')).to_contain_text(f"Next period paid for: {seats} seats")
    expect(tile.get_by_role("link", name="Renew")).to_have_count(0)  # the next period is paid for
    portal.shot("renewed")
    after = subscription(portal, tenant)
    assert after["renewal"]["seats"] == seats
    invoice = portal.api(tenant, "GET", f"/invoices/{after['renewal']['invoice_id']}").json()
    assert (invoice["status"], invoice["total"], invoice["payment"]["last4"]) == ("paid", quote["total"], "4444")


def test_add_seats_shows_the_pro_rata_amount_before_paying(portal: Portal, demo: Tenants) -> None:
    tenant = demo["business_monthly"]
    sub_id = tenant["subscription_ids"][0]
    ensure_card(portal, tenant)
    before = subscription(portal, tenant)
    invoices_before = len(portal.api(tenant, "GET", "/invoices").json()["items"])
    portal.sign_in(tenant)
    page = portal.page
    portal.tile(sub_id).get_by_role("link", name="Manage").click()
    page.get_by_role("link", name="Add seats").click()
    picker = page.get_by_label("New total number of seats")
    expect(picker).to_have_value(str(before["seats"] + 1))
    page.get_by_role("button", name="One seat more").click()
    seats = before["seats"] + 2
    expect(picker).to_have_value(str(seats))
    quote = portal.api(tenant, "GET", f"/subscriptions/{sub_id}/quote", params={"change": "increase", "seats": seats}).json()
    aside = page.locator(".quote-aside")
    expect(aside).to_contain_text("Due now, pro rata for the rest of the current period")
    expect(aside.locator(".big")).to_have_attribute("data-due", str(quote["total"]))
    expect(page.get_by_label("Card to charge")).to_be_visible()
    portal.shot("add-seats")

    # The first payment goes through, but its answer is lost on the way back: the person sees that the
    # server could not be reached and clicks Pay again. The retry carries the same Idempotency-Key, so
    # the API replays the payment instead of charging twice.
    keys: list[str] = []

    def lose_the_first_answer(route: Any) -> None:
        keys.append(route.request.headers["idempotency-key"])
        if len(keys) == 1:
            route.fetch()
            route.abort()
        else:
            route.continue_()

    page.route(f"**/subscriptions/{sub_id}/seats", lose_the_first_answer)
    pay = page.get_by_role("button", name=re.compile(r"^Pay "))
    pay.click()
    expect(page.get_by_role("alert")).to_have_text(
        "The portal cannot reach the server. Check your connection and try again.")
    portal.shot("add-seats-no-answer")
    pay.click()

    tile = portal.tile(sub_id)
    expect(tile.locator(".notice")).to_contain_text(f"Seats added: {seats} seats from now on.")
    expect(tile.locator(".fact", has_text="Seats in use")).to_contain_text(f"of {seats}")
    assert len(keys) == 2 and keys[0] == keys[1] and uuid.UUID(keys[0]).version == 4
    after = subscription(portal, tenant)
    assert after["seats"] == seats
    assert len(portal.api(tenant, "GET", "/invoices").json()["items"]) == invoices_before + 1  # charged once
    if before["renewal"] is not None:  # a prepaid next term rises by the same number
        assert after["renewal"]["seats"] == before["renewal"]["seats"] + 2


def test_invoices_list_status_and_pdf_download(portal: Portal, demo: Tenants) -> None:
    tenant = demo["business_monthly"]
    ensure_card(portal, tenant)
    invoices = portal.api(tenant, "GET", "/invoices").json()["items"]
    if not invoices:  # this test alone: pay for one seat more through the API to have an invoice
        sub = subscription(portal, tenant)
        quote = portal.api(tenant, "GET", f"/subscriptions/{sub['id']}/quote",
                           params={"change": "increase", "seats": sub["seats"] + 1}).json()
        paid = portal.api(tenant, "POST", f"/subscriptions/{sub['id']}/seats",
                          headers={"Idempotency-Key": str(uuid.uuid4())},
                          json={"seats": sub["seats"] + 1, "expected_total": quote["total"]})
        assert paid.status_code in (200, 201), paid.text
        invoices = portal.api(tenant, "GET", "/invoices").json()["items"]
    newest = invoices[0]
    portal.sign_in(tenant)
    page = portal.page
    page.get_by_role("navigation").get_by_role("link", name="Invoices").click()
    row = page.locator(f'tr[data-invoice="{newest["id"]}"]')
    expect(row.get_by_role("rowheader")).to_have_text(newest["number"])
    expect(row.locator(".badge")).to_have_text("Paid")
    portal.shot("invoices")

    with page.expect_download() as download_info:
        row.get_by_role("button", name=re.compile("^Download PDF")).click()
    download = download_info.value
    assert download.suggested_filename == f"{newest['number']}.pdf"
    path = download.path()
    assert path is not None and path.read_bytes().startswith(b"%PDF")
    expect(page.get_by_role("status")).to_contain_text(f"Your download of invoice {newest['number']} has started.")

    row.get_by_role("link", name=newest["number"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Invoice {newest['number']}")
    expect(page.locator("table.lines tbody tr")).to_have_count(len(newest["lines"]))
    expect(page.get_by_text("Paid with")).to_be_visible()
    portal.shot("invoice")


def test_errors_are_told_in_plain_words(portal: Portal, demo: Tenants) -> None:
    tenant = demo["reseller"]
    # An expired sign-in: back to the sign-in screen, saying why.
    expired = portal.run.token(tenant["id"], expires_in=-60)
    portal.open("/signin")
    portal.page.evaluate("token => sessionStorage.setItem('selfservice.token', token)", expired)
    portal.page.goto(portal.run.url("/index.html#/subscriptions"))  # a fresh load that reads the stored token
    expect(portal.page.get_by_role("alert")).to_have_text("Your sign-in has expired. Please sign in again.")
    expect(portal.page.get_by_role("heading", level=1)).to_have_text("Sign in")
    portal.shot("signin-expired")

    portal.sign_in(tenant)
    page = portal.page
    portal.open("/subscriptions/sub_00000000000000000000000000/renew")
    expect(page.get_by_role("alert")).to_contain_text("This was not found. It may have been removed.")
    expect(page.get_by_role("button", name="Try again")).to_be_visible()
    portal.open("/no-such-page")
    expect(page.get_by_role("alert")).to_have_text("There is no such page.")

    # A business rule refusal, in the API's words.
    page.get_by_role("link", name="Back to subscriptions").click()
    page.get_by_role("navigation").get_by_role("link", name="Users").click()
    existing = portal.api(tenant, "GET", "/users").json()["items"][0]["email"]
    page.get_by_label("E-mail of the user to assign a licence to").fill(existing)
    page.get_by_role("button", name="Assign licence").click()
    expect(page.get_by_role("alert")).to_have_text(f"{existing} already has a licence.")
    portal.shot("users-refused")

    # The same refusal in Swedish.
    page.get_by_label("Language").select_option("sv")
    page.get_by_label("E-post för användaren som ska få en licens").fill(existing)
    page.get_by_role("button", name="Tilldela licens").click()
    expect(page.get_by_role("alert")).to_have_text("Användaren har redan en licens.")
