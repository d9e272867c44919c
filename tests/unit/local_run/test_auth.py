"""The local JWT check: what API Gateway's JWT authorizer accepts and refuses, and how it passes claims."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest
from selfservice_local.auth import (
    Forbidden,
    JwtAuthority,
    SigningKey,
    Unauthorized,
    gateway_claims,
    gateway_scopes,
)

ISSUER = "http://127.0.0.1:3000/_local"


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> SigningKey:
    return SigningKey.load_or_create(tmp_path_factory.mktemp("state"))


@pytest.fixture
def authority(key: SigningKey) -> JwtAuthority:
    return JwtAuthority(key, ISSUER)


def test_the_key_is_made_once_and_reused(tmp_path: Path) -> None:
    first = SigningKey.load_or_create(tmp_path)
    second = SigningKey.load_or_create(tmp_path)
    assert first.kid == second.kid
    assert (tmp_path / "jwt-signing-key.pem").stat().st_mode & 0o777 == 0o600


def test_a_minted_token_passes_with_or_without_the_bearer_prefix(authority: JwtAuthority) -> None:
    token, expires_at = authority.mint("ten_1", "sao-1", ["service_account_owner"])
    for header in (f"Bearer {token}", f"bearer {token}", token):
        claims = authority.verify(header)
        assert (claims["sub"], claims["tenant_id"], claims["roles"]) == ("sao-1", "ten_1", ["service_account_owner"])
    assert expires_at - time.time() == pytest.approx(3600, abs=5)


def refusal(authority: JwtAuthority, header: str | None) -> str:
    with pytest.raises(Unauthorized) as caught:
        authority.verify(header)
    return caught.value.reason


def test_refusals(authority: JwtAuthority, key: SigningKey, tmp_path: Path) -> None:
    assert refusal(authority, None) == "no token"
    assert refusal(authority, "Bearer ") == "no token"
    assert refusal(authority, "Bearer not-a-jwt") == "the token is not a JWT"
    expired, _ = authority.mint("ten_1", "sao-1", [], expires_in=-60)
    assert refusal(authority, expired) == "the token has expired"
    other_audience, _ = JwtAuthority(key, ISSUER, audience="someone-else").mint("ten_1", "sao-1", [])
    assert refusal(authority, other_audience) == "the token's audience is not accepted"
    other_issuer, _ = JwtAuthority(key, "https://evil.example").mint("ten_1", "sao-1", [])
    assert refusal(authority, other_issuer) == "the token's issuer is not accepted"
    foreign_key = SigningKey.load_or_create(tmp_path)
    foreign, _ = JwtAuthority(foreign_key, ISSUER).mint("ten_1", "sao-1", [])
    assert refusal(authority, foreign) == "the token was not signed by a key of the issuer"
    # Right kid, wrong signature: a forged token.
    forged = jwt.encode({"iss": ISSUER, "aud": "selfservice-local", "sub": "x", "exp": int(time.time()) + 60},
                        foreign_key.private_key, algorithm="RS256", headers={"kid": key.kid})
    assert refusal(authority, forged).startswith("the token is not valid")
    unsigned = jwt.encode({"iss": ISSUER, "aud": "selfservice-local", "exp": int(time.time()) + 60}, "secret-key-of-32-bytes-or-more!!",
                          algorithm="HS256", headers={"kid": key.kid})
    assert refusal(authority, unsigned).startswith("the token is not valid")


def test_route_scopes(authority: JwtAuthority) -> None:
    token, _ = authority.mint("ten_1", "sao-1", [])
    with pytest.raises(Forbidden):
        authority.verify(token, scopes=("billing:write",))


def test_claims_reach_the_function_as_the_gateway_formats_them() -> None:
    claims = {"sub": "u1", "roles": ["service_account_owner", "viewer"], "exp": 1767225600, "admin": False,
              "org": {"b": 2, "a": "x"}, "empty": []}
    assert gateway_claims(claims) == {"sub": "u1", "roles": "[service_account_owner viewer]", "exp": "1767225600",
                                      "admin": "false", "org": "map[a:x b:2]", "empty": "[]"}
    assert gateway_scopes({"scope": "a b"}) == ["a", "b"]
    assert gateway_scopes({}) is None


def test_the_jwks_publishes_the_verifying_key(authority: JwtAuthority) -> None:
    token, _ = authority.mint("ten_1", "sao-1", [])
    jwk = authority.jwks()["keys"][0]
    public = jwt.PyJWK(jwk).key
    assert jwt.decode(token, public, algorithms=["RS256"], audience="selfservice-local")["sub"] == "sao-1"
    assert authority.openid_configuration()["jwks_uri"] == f"{ISSUER}/.well-known/jwks.json"
