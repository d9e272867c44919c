"""The local run over real HTTP: the gateway's JWT check, the routes read from template.yaml, the
handlers behind them, the local-only routes, and the demo script. Tokens come from /_local/tokens."""

from __future__ import annotations

import subprocess
import sys
import time
from io import BytesIO
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pypdf import PdfReader

from .conftest import ROOT, LocalRunProcess, start_local_run, stop

pytestmark = pytest.mark.e2e

SAO = "service_account_owner"


def test_health_and_the_seeded_tenants(local_run: LocalRunProcess, tenants: dict[str, dict[str, Any]]) -> None:
    health = requests.get(local_run.url("/_local/health"), timeout=10).json()
    assert health["status"] == "ready"
    assert health["base_url"] == local_run.base_url
    assert health["jwt"] == {"issuer": f"{local_run.base_url}/_local", "audience": "selfservice-local"}
    assert "GET /account" in health["routes"]
    assert {"Table", "IdempotencyTable"} <= set(health["resources"])

    assert tenants["business_monthly"]["plan_id"] == "business-monthly-eur"
    assert tenants["business_annual"]["plan_id"].startswith("business-annual")
    assert tenants["enterprise"]["managed_by"]["kind"] == "account_manager"
    assert tenants["reseller"]["managed_by"]["kind"] == "reseller"
    for tenant in tenants.values():
        assert tenant["sao_subject"] and tenant["subscription_ids"] and tenant["users"] >= 2
    # Every tenant that pays by card itself starts with a saved default card (the sandbox's 4242).
    for role in ("business_monthly", "business_annual", "enterprise"):
        assert tenants[role]["default_card"] == {**tenants[role]["default_card"], "brand": "visa", "last4": "4242"}
        account = local_run.call("GET", "/account", tenants[role]["id"]).json()
        assert account["default_payment_method_id"] == tenants[role]["default_card"]["id"]
    assert tenants["reseller"]["default_card"] is None

    index = requests.get(local_run.url("/_local"), timeout=10).json()
    assert {r["path"] for r in index["routes"]} >= {"/_local/tokens", "/_local/clock", "/_local/period-end/run"}


def test_the_gateway_refuses_before_any_handler_runs(local_run: LocalRunProcess,
                                                      tenants: dict[str, dict[str, Any]]) -> None:
    tenant_id = tenants["business_monthly"]["id"]
    unauthorized = {"message": "Unauthorized"}

    missing = local_run.call("GET", "/account")
    assert (missing.status_code, missing.json()) == (401, unauthorized)
    assert missing.headers["www-authenticate"].startswith("Bearer")

    garbage = local_run.call("GET", "/account", token="not-a-token")
    assert (garbage.status_code, garbage.json()) == (401, unauthorized)

    expired = local_run.call("GET", "/account", token=local_run.token(tenant_id, expires_in=-60))
    assert (expired.status_code, expired.json()) == (401, unauthorized)

    # Signed with the run's own key, but for another issuer or audience.
    key = serialization.load_pem_private_key((local_run.state_dir / "jwt-signing-key.pem").read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    kid = requests.get(local_run.url("/_local/.well-known/jwks.json"), timeout=10).json()["keys"][0]["kid"]
    claims = {"sub": tenants["business_monthly"]["sao_subject"], "tenant_id": tenant_id, "roles": [SAO],
              "exp": int(time.time()) + 300}
    for iss, aud in ((f"{local_run.base_url}/_local", "someone-else"), ("https://issuer.example", "selfservice-local")):
        forged = jwt.encode({**claims, "iss": iss, "aud": aud}, key, algorithm="RS256", headers={"kid": kid})
        refused = local_run.call("GET", "/account", token=forged)
        assert (refused.status_code, refused.json()) == (401, unauthorized)
    accepted = jwt.encode({**claims, "iss": f"{local_run.base_url}/_local", "aud": "selfservice-local"}, key,
                          algorithm="RS256", headers={"kid": kid})
    assert local_run.call("GET", "/account", token=accepted).status_code == 200

    unknown_route = local_run.call("GET", "/no-such-route", tenant_id)
    assert (unknown_route.status_code, unknown_route.json()) == (404, {"message": "Not Found"})
    log = local_run.output()
    assert "401" in log and "(the token has expired)" in log


def test_a_whole_journey_over_http(local_run: LocalRunProcess, tenants: dict[str, dict[str, Any]]) -> None:
    tenant = tenants["business_annual"]
    tid = tenant["id"]

    account = local_run.call("GET", "/account", tid)
    assert account.status_code == 200, account.text
    assert account.headers["apigw-requestid"]
    body = account.json()
    assert body["tenant"] == {**body["tenant"], "id": tid, "name": tenant["name"]}
    assert body["billing_info"]["country"] == "DE" and body["billing_info"]["vat_id"]
    sub = body["subscriptions"][0]
    sub_id, seats, active = sub["id"], sub["seats"], sub["active_users"]
    assert sub_id == tenant["subscription_ids"][0]
    assert (sub["edition"], sub["channel"], sub["status"]) == ("business", "direct", "active")
    assert active == tenant["users"] and active < seats

    quote = local_run.call("GET", f"/subscriptions/{sub_id}/quote?change=reduction&seats={active}", tid)
    assert quote.status_code == 200, quote.text
    q = quote.json()
    assert (q["change"], q["seats"], q["currency"]) == ("reduction", active, "EUR")
    assert q["effective_at"] == sub["current_period_end"]
    assert q["reverse_charge"] is True and q["tax_amount"] == 0  # German buyer with a VAT ID
    version = q["acknowledgement"]["version"]

    renewal = local_run.call("GET", f"/subscriptions/{sub_id}/quote", tid, params={"change": "renewal", "seats": seats})
    assert renewal.status_code == 200 and renewal.json()["monthly_amount"] > q["monthly_amount"]

    not_acknowledged = local_run.call("POST", f"/subscriptions/{sub_id}/seat-reduction", tid,
                                      json={"seats": active, "acknowledged": False})
    assert (not_acknowledged.status_code, not_acknowledged.json()["error"]["code"]) == (409, "acknowledgement_required")

    reduced = local_run.call("POST", f"/subscriptions/{sub_id}/seat-reduction", tid,
                             json={"seats": active, "acknowledged": True, "acknowledgement_version": version})
    assert reduced.status_code == 200, reduced.text
    assert reduced.json()["scheduled_reduction"]["seats"] == active
    assert reduced.json()["seats"] == seats

    undone = local_run.call("POST", f"/subscriptions/{sub_id}/seat-reduction/undo", tid, json={"acknowledged": True})
    assert undone.status_code == 200 and undone.json()["scheduled_reduction"] is None

    cancelled = local_run.call("POST", f"/subscriptions/{sub_id}/cancellation", tid,
                               json={"acknowledged": True, "reason": "e2e"})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["cancel_at"] == sub["current_period_end"]
    kept = local_run.call("POST", f"/subscriptions/{sub_id}/cancellation/undo", tid, json={"acknowledged": True})
    assert kept.status_code == 200 and kept.json()["cancel_at"] is None

    added = local_run.call("POST", "/users", tid, json={"email": "e2e.tester@mueller-schaefer.example"})
    assert added.status_code == 201, added.text
    user_id = added.json()["id"]
    assert local_run.call("GET", "/account", tid).json()["subscriptions"][0]["active_users"] == active + 1
    removed = local_run.call("DELETE", f"/users/{user_id}", tid)
    assert removed.status_code == 200 and removed.json()["status"] == "removed"
    listed = {u["id"]: u["status"] for u in local_run.call("GET", "/users", tid).json()["items"]}
    assert listed[user_id] == "removed"
    # The licence count catches up two minutes after a removal: on the clock every handler sees.
    assert local_run.call("GET", "/account", tid).json()["subscriptions"][0]["active_users"] == active + 1
    clock = requests.post(local_run.url("/_local/clock"), json={"advance_seconds": 121}, timeout=10)
    assert clock.status_code == 200 and clock.json()["offset_seconds"] >= 121
    assert local_run.call("GET", "/account", tid).json()["subscriptions"][0]["active_users"] == active

    upgrade = local_run.call("POST", f"/subscriptions/{sub_id}/upgrade-request", tid, json={"message": "capacity"})
    assert upgrade.status_code == 201 and upgrade.json()["account_manager"]["name"]

    activity = local_run.call("GET", "/activity", tid)
    assert activity.status_code == 200
    types = [item["type"] for item in activity.json()["items"]]
    assert types[:9] == [
        "subscription.upgrade_requested", "user.removed", "user.assigned", "subscription.cancellation_undone",
        "subscription.cancellation_scheduled", "subscription.reduction_undone", "subscription.reduction_scheduled",
        "payment_method.added", "tenant.provisioned",  # the seeded card
    ]

    _cards_renewal_seats_and_invoices(local_run, tid, sub)


def _tokenise(local_run: LocalRunProcess, tenant_id: str, number: str) -> requests.Response:
    """The sandbox gateway's tokeniser: the one request that carries a card number (a test card)."""
    year = int(requests.get(local_run.url("/_local/clock"), timeout=10).json()["now"][:4]) + 3
    return local_run.call("POST", "/sandbox/card-tokens", tenant_id, json={
        "number": number, "exp_month": 12, "exp_year": year, "cvc": "123", "name": "Jonas Müller"})


def _save_card(local_run: LocalRunProcess, tenant_id: str, number: str) -> dict[str, Any]:
    tokenised = _tokenise(local_run, tenant_id, number)
    assert tokenised.status_code == 201, tokenised.text
    added = local_run.call("POST", "/payment-methods", tenant_id, json={"token": tokenised.json()["token"]})
    assert added.status_code == 201, added.text
    return dict(added.json())


def _key() -> dict[str, str]:
    return {"Idempotency-Key": f"e2e-{time.time_ns()}"}


def _pay_seats(local_run: LocalRunProcess, tenant_id: str, sub_id: str, seats: int) -> tuple[dict[str, Any],
                                                                                                requests.Response]:
    """Quote an increase and pay it. Pro rata is by the second, so the cent can turn between the quote and the
    payment (409 price_changed): then quote again and pay with a new key, as the portal would."""
    for _ in range(2):
        quote = local_run.call("GET", f"/subscriptions/{sub_id}/quote", tenant_id,
                               params={"change": "increase", "seats": seats}).json()
        paid = local_run.call("POST", f"/subscriptions/{sub_id}/seats", tenant_id, headers=_key(),
                              json={"seats": seats, "expected_total": quote["total"]})
        if paid.status_code != 409 or paid.json()["error"]["code"] != "price_changed":
            break
    return quote, paid


def _cards_renewal_seats_and_invoices(local_run: LocalRunProcess, tid: str, sub: dict[str, Any]) -> None:
    sub_id, seats = sub["id"], sub["seats"]

    # Cards: the seeded default, a second one made the default and back, the default's removal refused.
    listed = local_run.call("GET", "/payment-methods", tid).json()["items"]
    assert [(c["brand"], c["last4"], c["is_default"]) for c in listed] == [("visa", "4242", True)]
    seeded = listed[0]
    master = _save_card(local_run, tid, "5555 5555 5555 4444")
    assert (master["brand"], master["last4"], master["is_default"]) == ("mastercard", "4444", False)
    made_default = local_run.call("POST", f"/payment-methods/{master['id']}/default", tid)
    assert made_default.status_code == 200 and made_default.json()["is_default"] is True
    assert local_run.call("GET", "/account", tid).json()["default_payment_method_id"] == master["id"]
    refused = local_run.call("DELETE", f"/payment-methods/{master['id']}", tid)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "default_payment_method")
    assert local_run.call("POST", f"/payment-methods/{seeded['id']}/default", tid).status_code == 200
    assert local_run.call("DELETE", f"/payment-methods/{master['id']}", tid).status_code == 200
    declined_token = _tokenise(local_run, tid, "4000 0000 0000 0002")
    assert (declined_token.status_code, declined_token.json()["error"]["code"]) == (402, "card_declined")
    assert [c["id"] for c in local_run.call("GET", "/payment-methods", tid).json()["items"]] == [seeded["id"]]

    # Renewal: a declined card changes nothing; the default card pays; the same key replays the first answer.
    quote = local_run.call("GET", f"/subscriptions/{sub_id}/quote", tid,
                           params={"change": "renewal", "seats": seats}).json()
    renewal = {"seats": seats, "expected_total": quote["total"]}
    path = f"/subscriptions/{sub_id}/renewal"
    declining = _save_card(local_run, tid, "4000 0000 0000 0341")
    invoices_before = local_run.call("GET", "/invoices", tid).json()["items"]
    declined = local_run.call("POST", path, tid, headers=_key(), json={**renewal, "payment_method_id": declining["id"]})
    assert (declined.status_code, declined.json()["error"]["code"]) == (402, "card_declined")
    assert local_run.call("GET", f"/subscriptions/{sub_id}", tid).json()["renewal"] is None
    assert local_run.call("GET", "/invoices", tid).json()["items"] == invoices_before
    assert local_run.call("DELETE", f"/payment-methods/{declining['id']}", tid).status_code == 200
    no_key = local_run.call("POST", path, tid, json=renewal)
    assert (no_key.status_code, no_key.json()["error"]["code"]) == (422, "idempotency_key_required")

    key = _key()
    renewed = local_run.call("POST", path, tid, headers=key, json=renewal)
    assert renewed.status_code == 201, renewed.text
    paid = renewed.json()
    invoice = paid["invoice"]
    assert paid["subscription"]["renewal"] == {**paid["subscription"]["renewal"], "seats": seats,
                                               "period_start": sub["current_period_end"], "invoice_id": invoice["id"]}
    assert (invoice["status"], invoice["total"], invoice["reverse_charge"], invoice["payment"]["last4"]) == (
        "paid", quote["total"], True, "4242")
    replayed = local_run.call("POST", path, tid, headers=key, json=renewal)
    assert (replayed.status_code, replayed.headers["idempotency-replayed"], replayed.json()) == (201, "true", paid)
    reused = local_run.call("POST", path, tid, headers=key, json={**renewal, "seats": seats + 1})
    assert (reused.status_code, reused.json()["error"]["code"]) == (422, "idempotency_key_reused")
    again = local_run.call("POST", path, tid, headers=_key(), json=renewal)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_renewed")

    # Added seats: pro rata now, plus the prepaid next term's difference; a stale total charges nothing.
    stale = local_run.call("POST", f"/subscriptions/{sub_id}/seats", tid, headers=_key(),
                           json={"seats": seats + 2, "expected_total": 10**9})
    assert (stale.status_code, stale.json()["error"]["code"]) == (409, "price_changed")
    increase, added = _pay_seats(local_run, tid, sub_id, seats + 2)
    assert added.status_code == 201, added.text
    grown = added.json()
    assert (grown["subscription"]["seats"], grown["subscription"]["renewal"]["seats"]) == (seats + 2, seats + 2)
    seat_invoice = grown["invoice"]
    assert 0 < seat_invoice["total"] == increase["total"] and seat_invoice["status"] == "paid"

    # Invoices: newest first, one read, and its PDF downloaded over HTTP from the presigned URL.
    listed_invoices = local_run.call("GET", "/invoices", tid).json()["items"]
    assert [i["id"] for i in listed_invoices[:2]] == [seat_invoice["id"], invoice["id"]]
    one = local_run.call("GET", f"/invoices/{invoice['id']}", tid)
    assert one.status_code == 200 and one.json()["buyer"]["company_name"] == "Müller & Schäfer Datenanalyse GmbH"
    link = local_run.call("GET", f"/invoices/{invoice['id']}/pdf", tid)
    assert link.status_code == 200, link.text
    url = link.json()["url"]
    assert url.startswith(local_run.aws_endpoint_url + "/")
    assert 0 < int(parse_qs(urlsplit(url).query)["X-Amz-Expires"][0]) <= 300
    pdf = requests.get(url, timeout=10)  # no token: the presigned URL is the permission
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == f'attachment; filename="{invoice["number"]}.pdf"'
    text = "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf.content)).pages)
    assert invoice["number"] in text and "Müller & Schäfer" in text and "Reverse charge" in text

    types = [item["type"] for item in local_run.call("GET", "/activity", tid).json()["items"]]
    assert {"payment_method.added", "payment_method.default_changed", "payment_method.removed", "payment.declined",
            "subscription.renewed", "subscription.seats_added", "invoice.issued", "invoice.paid"} <= set(types[:20])


def test_roles_and_tenants_are_enforced(local_run: LocalRunProcess, tenants: dict[str, dict[str, Any]]) -> None:
    mine = tenants["business_monthly"]["id"]
    member = local_run.token(mine, sub="someone-else", roles=["member"])
    forbidden = local_run.call("GET", "/account", token=member)
    assert (forbidden.status_code, forbidden.json()["error"]["code"]) == (403, "forbidden")
    # Several roles reach the handler as the gateway's "[a b]" string; the SAO role among them counts.
    several = local_run.token(mine, roles=["member", SAO])
    assert local_run.call("GET", "/account", token=several).status_code == 200

    other_sub = tenants["business_annual"]["subscription_ids"][0]
    not_mine = local_run.call("GET", f"/subscriptions/{other_sub}", mine)
    missing = local_run.call("GET", "/subscriptions/sub_0000000000000000000000000a", mine)
    assert not_mine.status_code == missing.status_code == 404
    assert not_mine.json()["error"]["code"] == missing.json()["error"]["code"] == "not_found"


def test_enterprise_and_reseller_changes_are_refused(local_run: LocalRunProcess,
                                                     tenants: dict[str, dict[str, Any]]) -> None:
    enterprise = tenants["enterprise"]
    refused = local_run.call("POST", f"/subscriptions/{enterprise['subscription_ids'][0]}/cancellation",
                             enterprise["id"], json={"acknowledged": True})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "managed_by_account_manager"
    assert enterprise["managed_by"]["name"] in refused.json()["error"]["message"]

    reseller = tenants["reseller"]
    refused = local_run.call("POST", f"/subscriptions/{reseller['subscription_ids'][0]}/seat-reduction",
                             reseller["id"], json={"seats": reseller["users"], "acknowledged": True})
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "managed_by_reseller")


def test_local_routes_validate_their_input(local_run: LocalRunProcess) -> None:
    def post(path: str, body: dict[str, Any]) -> requests.Response:
        return requests.post(local_run.url(path), json=body, timeout=10)

    assert post("/_local/tokens", {"tenant_id": "ten_unknown"}).status_code == 422  # no SAO to default to
    assert post("/_local/tokens", {"tenant_id": "ten_unknown", "sub": "someone"}).status_code == 200
    assert post("/_local/tokens", {"tenant_id": "x", "sub": "y", "roles": "sao"}).status_code == 422
    assert post("/_local/tokens", {"tenant_id": "x", "sub": "y", "surprise": 1}).status_code == 422
    assert requests.post(local_run.url("/_local/tokens"), data=b"{", timeout=10).status_code == 400

    before = requests.get(local_run.url("/_local/clock"), timeout=10).json()
    assert post("/_local/clock", {"advance_seconds": -5}).status_code == 422
    assert post("/_local/clock", {"set": "2001-01-01T00:00:00Z"}).status_code == 422
    assert post("/_local/clock", {}).status_code == 422
    moved = post("/_local/clock", {"advance_seconds": 60}).json()
    assert moved["offset_seconds"] == before["offset_seconds"] + 60

    period_end = requests.post(local_run.url("/_local/period-end/run"), timeout=30)
    health = requests.get(local_run.url("/_local/health"), timeout=10).json()
    if health["period_end_applier"] is None:
        assert period_end.status_code == 501
        assert "applier" in period_end.json()["error"]["message"]
    else:
        assert period_end.status_code == 200, period_end.text


def test_presigned_s3_urls_download_over_http(local_run: LocalRunProcess) -> None:
    bucket = requests.get(local_run.url("/_local/health"), timeout=10).json()["resources"].get("InvoiceBucket")
    if bucket is None:
        pytest.skip("the template has no invoice bucket yet")
    s3 = boto3.client("s3", endpoint_url=local_run.aws_endpoint_url, region_name="eu-north-1",
                      aws_access_key_id="local", aws_secret_access_key="local")
    s3.put_object(Bucket=bucket, Key="ten_x/inv_1.pdf", Body=b"%PDF-1.7 local", ContentType="application/pdf")
    url = s3.generate_presigned_url("get_object", ExpiresIn=300, Params={
        "Bucket": bucket, "Key": "ten_x/inv_1.pdf", "ResponseContentDisposition": 'attachment; filename="INV-1.pdf"'})
    assert url.startswith("http://127.0.0.1:")
    download = requests.get(url, timeout=10)
    assert download.status_code == 200 and download.content == b"%PDF-1.7 local"
    assert download.headers["content-disposition"] == 'attachment; filename="INV-1.pdf"'


def test_a_change_reaches_the_bus_through_the_stream(local_run: LocalRunProcess,
                                                    tenants: dict[str, dict[str, Any]]) -> None:
    tenant = tenants["business_annual"]
    marker = f"e2e events {time.time_ns()}"
    made = local_run.call("POST", f"/subscriptions/{tenant['subscription_ids'][0]}/upgrade-request", tenant["id"],
                          json={"message": marker})
    assert made.status_code == 201, made.text
    (change,) = [item for item in local_run.call("GET", "/activity", tenant["id"]).json()["items"]
                 if item["data"].get("message") == marker]

    deadline = time.monotonic() + 10  # the stream is read every half second
    while True:
        listed = requests.get(local_run.url("/_local/events"), timeout=10, params={
            "tenant_id": tenant["id"], "detail_type": "subscription.upgrade_requested"}).json()
        found = [event for event in listed["items"] if event["detail"]["id"] == change["id"]]
        if found:
            break
        assert time.monotonic() < deadline, f"the change did not reach the bus: {listed}\n{local_run.output()[-2000:]}"
        time.sleep(0.2)

    event = found[0]
    assert (event["source"], event["detail-type"], event["resources"]) == (
        "selfservice", "subscription.upgrade_requested", [])
    assert event["detail"]["schema_version"] == 1
    assert event["detail"]["tenant_id"] == tenant["id"] and event["detail"]["data"]["message"] == marker
    assert event["detail"]["occurred_at"] == change["at"]
    health = requests.get(local_run.url("/_local/health"), timeout=10).json()
    assert [s["function"] for s in health["streams"]] == ["EventPublisherFunction"]
    log = local_run.output()
    assert "STREAM" in log and "EventPublisherFunction" in log
    assert requests.get(local_run.url("/_local/events?limit=0"), timeout=10).status_code == 422


def test_the_term_ends_and_the_scheduled_changes_land(local_run: LocalRunProcess,
                                                       tenants: dict[str, dict[str, Any]]) -> None:
    """SPEC 2.9 as a user meets it: a reduction is scheduled, the clock passes the term's end (the local
    run fires the applier on its schedule, which runs on that clock), and the subscription shows the new
    term at the reduced seats, the invoice list the renewal's paid invoice, the bus the events."""
    tenant = tenants["business_monthly"]
    sub_path = f"/subscriptions/{tenant['subscription_ids'][0]}"
    before = local_run.call("GET", sub_path, tenant["id"]).json()
    target = max(before["seats"] - 1, before["active_users"])
    if target < before["seats"]:
        reduced = local_run.call("POST", f"{sub_path}/seat-reduction", tenant["id"],
                                 json={"seats": target, "acknowledged": True})
        assert reduced.status_code == 200, reduced.text

    now = requests.get(local_run.url("/_local/clock"), timeout=10).json()["now"]
    ends = before["current_period_end"]
    seconds = (_time(ends) - _time(now)).total_seconds() + 600
    moved = requests.post(local_run.url("/_local/clock"), json={"advance_seconds": seconds}, timeout=60)
    assert moved.status_code == 200, moved.text
    assert moved.json()["period_end"]["renewed"] >= 1, moved.json()
    again = requests.post(local_run.url("/_local/period-end/run"), timeout=60)
    assert again.status_code == 200 and again.json()["result"]["renewed"] == 0, again.text  # applied once

    after = local_run.call("GET", sub_path, tenant["id"]).json()
    assert (after["status"], after["seats"], after["current_period_start"], after["scheduled_reduction"]) == (
        "active", target, ends, None)
    newest = local_run.call("GET", "/invoices?limit=1", tenant["id"]).json()["items"][0]
    assert (newest["status"], newest["period_start"]) == ("paid", ends)

    wanted = {"subscription.term_started", "invoice.issued", "invoice.paid", "subscription.renewed"}
    if target < before["seats"]:
        wanted.add("subscription.reduction_applied")
    deadline = time.monotonic() + 10  # the stream is read every half second
    while True:
        events = requests.get(local_run.url("/_local/events"), timeout=10,
                              params={"tenant_id": tenant["id"], "limit": "200"}).json()["items"]
        landed = {e["detail-type"] for e in events if e["detail"]["occurred_at"] >= ends
                  and e["detail"]["actor"] == "system:period-end"}
        if wanted <= landed:
            break
        assert time.monotonic() < deadline, f"missing on the bus: {wanted - landed}"
        time.sleep(0.2)
    assert "EVENT" in local_run.output() and "PeriodEndFunction" in local_run.output()


def _time(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_demo_walks_every_journey(local_run: LocalRunProcess) -> None:
    # Twice against the same run: the demo leaves it so that it can run again (a term renews once: the
    # second time shows that refusal; seats can always be added).
    for attempt in (1, 2):
        demo = subprocess.run([sys.executable, "-m", "selfservice_local.demo", "--base-url", local_run.base_url],
                              cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
        assert demo.returncode == 0, f"run {attempt}:\n{demo.stdout}{demo.stderr}"
        assert "steps passed" in demo.stdout and "failed" not in demo.stdout
        for journey in ("Cards", "Renew and pay", "Add seats", "Invoices"):
            assert f"\n{journey}\n" in demo.stdout
        if attempt == 2:
            assert "already_renewed" in demo.stdout  # a term renews once: the first run (or the journey) did
        assert "Idempotency-Replayed: true" in demo.stdout and "%PDF-" in demo.stdout


def test_a_taken_port_is_a_clear_error(local_run: LocalRunProcess, tmp_path_factory: pytest.TempPathFactory) -> None:
    taken = local_run.base_url.rsplit(":", 1)[1]
    state_dir = tmp_path_factory.mktemp("second-run")
    process, _ready, log = start_local_run(state_dir, "--port", taken)
    try:
        process.wait(60)
    finally:
        stop(process)
    assert process.returncode == 1
    assert f"port {taken} on 127.0.0.1 is taken" in log.read_text()
