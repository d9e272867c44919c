"""The local stand-in for the HttpApi's JWT authorizer, and the token issuer behind /_local/tokens.

An RS256 key pair is generated on the first run into the state directory (.local/, kept out of git)
and reused, so tokens stay valid across restarts. The check does what API Gateway's JWT authorizer
does: signature by a key of the issuer's JWKS (matched by `kid`), `iss`, `aud`, `exp`, `nbf`, `iat`,
and the route's scopes if it has any. It uses real time, not the local test clock: the gateway is
not part of the product's clock."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

KEY_FILE = "jwt-signing-key.pem"
DEFAULT_AUDIENCE = "selfservice-local"
DEFAULT_TOKEN_LIFETIME = 3600
MAX_TOKEN_LIFETIME = 7 * 24 * 3600


class Unauthorized(Exception):
    """No token, or one the authorizer refuses: the gateway answers 401 before any function runs."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Forbidden(Exception):
    """A valid token without one of the route's authorization scopes: 403 from the gateway."""


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass(frozen=True, slots=True)
class SigningKey:
    private_key: rsa.RSAPrivateKey
    kid: str

    @classmethod
    def load_or_create(cls, state_dir: Path) -> SigningKey:
        """The key of earlier runs if there is one; otherwise a new one, written with owner-only access."""
        path = state_dir / KEY_FILE
        if not path.exists():
            state_dir.mkdir(parents=True, exist_ok=True)
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
            # Write then rename: two runs starting at once end up sharing one complete key file.
            tmp = state_dir / f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(pem)
            if path.exists():
                tmp.unlink()
            else:
                tmp.replace(path)
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(loaded, rsa.RSAPrivateKey):
            raise ValueError(f"{path} does not hold an RSA private key; delete it to get a new one")
        return cls(loaded, _thumbprint(loaded.public_key()))

    def public_jwk(self) -> dict[str, str]:
        numbers = self.private_key.public_key().public_numbers()
        return {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
                "n": _b64url_uint(numbers.n), "e": _b64url_uint(numbers.e)}


def _thumbprint(public_key: rsa.RSAPublicKey) -> str:
    """RFC 7638 JWK thumbprint: a stable kid for the key."""
    numbers = public_key.public_numbers()
    canonical = json.dumps({"e": _b64url_uint(numbers.e), "kty": "RSA", "n": _b64url_uint(numbers.n)},
                           separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).decode().rstrip("=")


@dataclass(frozen=True, slots=True)
class JwtAuthority:
    """Issuer and verifier of the local bearer tokens."""

    key: SigningKey
    issuer: str
    audience: str = DEFAULT_AUDIENCE
    tenant_claim: str = "tenant_id"
    roles_claim: str = "roles"

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.public_jwk()]}

    def openid_configuration(self) -> dict[str, Any]:
        return {"issuer": self.issuer, "jwks_uri": f"{self.issuer}/.well-known/jwks.json",
                "id_token_signing_alg_values_supported": ["RS256"]}

    def mint(self, tenant_id: str, subject: str, roles: list[str],
             expires_in: int = DEFAULT_TOKEN_LIFETIME, now: float | None = None) -> tuple[str, int]:
        """A signed token and its expiry (epoch seconds). A negative `expires_in` gives a token that has
        already expired, to try a client's handling of the 401."""
        issued = int(now if now is not None else time.time())
        expires_at = issued + expires_in
        claims: dict[str, Any] = {
            "iss": self.issuer, "aud": self.audience, "sub": subject,
            self.tenant_claim: tenant_id, self.roles_claim: roles,
            "iat": min(issued, expires_at), "exp": expires_at, "jti": secrets.token_hex(8),
        }
        token = jwt.encode(claims, self.key.private_key, algorithm="RS256", headers={"kid": self.key.kid})
        return token, expires_at

    def verify(self, header_value: str | None, scopes: tuple[str, ...] = ()) -> dict[str, Any]:
        """The token's claims, or Unauthorized/Forbidden as the gateway would answer."""
        token = (header_value or "").strip()
        if token[:7].lower() == "bearer " or token.lower() == "bearer":
            token = token[6:].strip()
        if not token:
            raise Unauthorized("no token")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise Unauthorized("the token is not a JWT") from None
        if header.get("kid") != self.key.kid:
            raise Unauthorized("the token was not signed by a key of the issuer")
        try:
            claims: dict[str, Any] = jwt.decode(
                token, self.key.private_key.public_key(), algorithms=["RS256"], audience=self.audience,
                issuer=self.issuer, options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("the token has expired") from None
        except jwt.InvalidAudienceError:
            raise Unauthorized("the token's audience is not accepted") from None
        except jwt.InvalidIssuerError:
            raise Unauthorized("the token's issuer is not accepted") from None
        except jwt.ImmatureSignatureError:
            raise Unauthorized("the token is not valid yet") from None
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(f"the token is not valid ({exc})") from None
        if scopes:
            granted = set(str(claims.get("scope", "")).split()) | set(_as_list(claims.get("scp")))
            if not granted.intersection(scopes):
                raise Forbidden("the token has none of the route's scopes")
        return claims


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return str(value).split()


def gateway_claims(claims: dict[str, Any]) -> dict[str, str]:
    """Claims as API Gateway's JWT authorizer hands them to the function: every value a string, arrays
    in Go's print format "[a b]" (not JSON), objects as "map[k:v]"."""
    return {name: _gateway_string(value) for name, value in claims.items()}


def _gateway_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(_gateway_string(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_gateway_string(v)}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def gateway_scopes(claims: dict[str, Any]) -> list[str] | None:
    scopes = str(claims.get("scope", "")).split() + _as_list(claims.get("scp"))
    return scopes or None
