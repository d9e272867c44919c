"""The authorization matrix, over HTTP against a local run of its own (the gateway's JWT check included):
every route of template.yaml, called with every identity that must not get the owner's data.

| identity | expected |
| --- | --- |
| no token | 401 from the gateway |
| an expired token of the owner's SAO | 401 from the gateway |
| a member of the owner's tenant without the SAO role | 403 `forbidden` |
| the SAO of another tenant, with the owner's real ids in path and body | 404 `not_found` (routes without an id: the caller's own data) |

Never a 5xx, never a byte of the owner's data. The routes come from the template (support.routes), so a new
route is in the matrix at once, and fails it until it has a sample request. A last pass sends every sample
as the owner: the ids are real and the requests valid, so each refusal above is the identity's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import requests
from selfservice_local.template import Route
from support.routes import NOT_TENANT_DATA, Ids, api_routes, concrete_path, path_parameters, sample

from .conftest import LocalRunProcess

pytestmark = pytest.mark.e2e

ROUTES = api_routes()
IDENTITIES = ("no token", "expired token", "member without the SAO role", "SAO of another tenant")
GATEWAY_401 = {"message": "Unauthorized"}
HOLDER = "Owner-Only Cardholder"  # the name on the owner's tokenised card: no one else may ever see it


@dataclass(frozen=True)
class World:
    run: LocalRunProcess
    owner: dict[str, Any]  # the seeded tenant whose objects are attacked
    ids: Ids
    tokens: dict[str, str | None]  # identity -> bearer token
    owner_token: str
    secrets: tuple[str, ...]  # what only the owner's data contains


@pytest.fixture(scope="module")
def world(hardening_run: LocalRunProcess) -> World:
    run = hardening_run
    tenants = {t["edition"] + "/" + t["channel"] + "/" + t["plan_id"]: t
               for t in requests.get(run.url("/_local/tenants"), timeout=10).json()["items"]}
    owner = next(t for key, t in tenants.items() if key.startswith("business/direct/business-monthly"))
    other = next(t for key, t in tenants.items() if key.startswith("enterprise/"))
    owner_token = run.token(owner["id"])
    sub_id = owner["subscription_ids"][0]
    # An invoice of the owner's: renew (for the current seats) and pay with the seeded default card.
    seats = run.call("GET", f"/subscriptions/{sub_id}", token=owner_token).json()["seats"]
    total = run.call("GET", f"/subscriptions/{sub_id}/quote", token=owner_token,
                     params={"change": "renewal", "seats": seats}).json()["total"]
    renewed = run.call("POST", f"/subscriptions/{sub_id}/renewal", token=owner_token,
                       json={"seats": seats, "expected_total": total}, headers={"Idempotency-Key": "matrix-setup"})
    assert renewed.status_code == 201, renewed.text
    users = run.call("GET", "/users", token=owner_token).json()["items"]
    user = next(u for u in users if u["status"] == "active" and u["email"] != owner["sao_email"])
    # A card token of the owner's (the tokeniser's answer to the owner's client): a credential for the card.
    tokenised = run.call("POST", "/sandbox/card-tokens", token=owner_token, json={
        "number": "5555 5555 5555 4444", "exp_month": 12, "exp_year": 2031, "cvc": "123", "name": HOLDER})
    assert tokenised.status_code == 201, tokenised.text
    ids = Ids(subscription_id=sub_id, user_id=user["id"], payment_method_id=owner["default_card"]["id"],
              invoice_id=renewed.json()["invoice"]["id"], card_token=tokenised.json()["token"])
    tokens: dict[str, str | None] = {
        "no token": None,
        "expired token": run.token(owner["id"], expires_in=-120),
        "member without the SAO role": run.token(owner["id"], sub="member-of-the-owner", roles=["member", "analyst"]),
        "SAO of another tenant": run.token(other["id"]),
    }
    secrets = (owner["id"], owner["name"], owner["sao_subject"], owner["sao_email"], user["email"], HOLDER,
               renewed.json()["invoice"]["number"], *(u["id"] for u in users))
    return World(run, owner, ids, tokens, owner_token, secrets)


def send(world: World, route: Route, token: str | None, *, key_suffix: str) -> requests.Response:
    request = sample(route, world.ids)
    headers = dict(request.headers)
    if "Idempotency-Key" in headers:
        headers["Idempotency-Key"] += f"-{key_suffix}"
    return world.run.call(route.method, concrete_path(route, world.ids), token=token, params=request.query or None,
                          json=request.body, headers=headers)


def error_code(response: requests.Response) -> str | None:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    return str(body["error"]["code"])


def leaked(world: World, response: requests.Response, route: Route) -> list[str]:
    """The owner's secrets in a response to someone else; the ids the request itself named do not count."""
    named = {world.ids.path_value(p) for p in path_parameters(route)} | {world.ids.payment_method_id,
                                                                          world.ids.card_token}
    return [secret for secret in world.secrets if secret not in named and secret in response.text]


@pytest.mark.parametrize("route", ROUTES, ids=[r.route_key for r in ROUTES])
def test_every_route_refuses_every_foreign_identity(world: World, route: Route, figures: dict[str, Any]) -> None:
    outcomes: dict[str, int] = {}
    for identity in IDENTITIES:
        response = send(world, route, world.tokens[identity], key_suffix=identity.replace(" ", "-"))
        outcomes[identity] = response.status_code
        assert response.status_code < 500, (identity, response.status_code, response.text)
        assert not leaked(world, response, route), (identity, response.text)
        if identity in ("no token", "expired token"):
            assert (response.status_code, response.json()) == (401, GATEWAY_401), (identity, response.text)
        elif route.route_key in NOT_TENANT_DATA:
            assert response.status_code == 200, (identity, response.text)  # any authenticated caller
        elif identity == "member without the SAO role":
            assert (response.status_code, error_code(response)) == (403, "forbidden"), response.text
        elif path_parameters(route):
            assert (response.status_code, error_code(response)) == (404, "not_found"), response.text
        else:
            # No id to steal: the other tenant acts on its own data, and sees nothing of the owner's.
            assert response.status_code not in (401, 403), response.text
    figures.setdefault("authorization matrix (routes x identities)", set()).update(
        (route.route_key, identity) for identity in outcomes)


def test_the_matrix_covers_every_route_of_the_template(world: World, figures: dict[str, Any]) -> None:
    covered = figures.get("authorization matrix (routes x identities)", set())
    assert {route for route, _ in covered} == {r.route_key for r in ROUTES}
    assert len(covered) == len(ROUTES) * len(IDENTITIES)


@pytest.mark.parametrize("route", ROUTES, ids=[r.route_key for r in ROUTES])
def test_the_samples_are_valid_requests_for_real_objects_of_the_owner(world: World, route: Route) -> None:
    """The control: as the owner's SAO, the same request is not refused as unknown, unauthenticated or
    forbidden (business rules may still say no: a renewal at a made-up total is 409 price_changed)."""
    response = send(world, route, world.owner_token, key_suffix="owner")

    assert response.status_code < 500, response.text
    assert response.status_code not in (401, 403, 404, 422), response.text
