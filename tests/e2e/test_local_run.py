"""The local run over real HTTP: the gateway's JWT check, the routes read from template.yaml, the
handlers behind them, the local-only routes, and the demo script. Tokens come from /_local/tokens."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import boto3
import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

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
    assert types[:8] == [
        "subscription.upgrade_requested", "user.removed", "user.assigned", "subscription.cancellation_undone",
        "subscription.cancellation_scheduled", "subscription.reduction_undone", "subscription.reduction_scheduled",
        "tenant.provisioned",
    ]


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


def test_the_demo_walks_every_journey(local_run: LocalRunProcess) -> None:
    demo = subprocess.run([sys.executable, "-m", "selfservice_local.demo", "--base-url", local_run.base_url],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "steps passed" in demo.stdout and "failed" not in demo.stdout


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
