"""A card token is a credential for one tenant's card (found by the authorization matrix: another tenant
could save it, and see the holder's name, and charge the card). The sandbox's tokeniser records the tenant
it tokenised for, and adding a card refuses another tenant's token exactly like an unknown one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from support.functions import HttpResult

from .conftest import Tenant

Request = Callable[..., HttpResult]
CARD = {"number": "5555 5555 5555 4444", "exp_month": 12, "exp_year": 2031, "cvc": "123", "name": "Only Owner"}


def test_another_tenants_card_token_is_refused_like_an_unknown_one(business: Tenant, provision: Any,
                                                                   request_as: Request) -> None:
    other = provision()
    token = request_as(business, "sandbox_tokens", "sandbox_tokens", body=CARD).body["token"]

    stolen = request_as(other, "payment_methods", "payment_methods-add", body={"token": token})
    unknown = request_as(other, "payment_methods", "payment_methods-add", body={"token": "tok_" + "0" * 26})
    own = request_as(business, "payment_methods", "payment_methods-add", body={"token": token})

    assert (stolen.status, stolen.error_code) == (unknown.status, unknown.error_code) == (422, "invalid_input")
    assert stolen.body["error"] == unknown.body["error"]
    assert "Only Owner" not in str(stolen.body)
    listed = request_as(other, "payment_methods", "payment_methods-list").body["items"]
    assert all(card["name"] != "Only Owner" for card in listed)
    assert (own.status, own.body["name"]) == (201, "Only Owner")
