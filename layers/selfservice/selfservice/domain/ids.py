"""Identifiers that sort by creation time (a ULID-like layout: 48-bit milliseconds, 80 random bits),
so that invoices and activity sort newest-first by key alone."""

from __future__ import annotations

import secrets
from datetime import datetime

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def new_id(prefix: str, at: datetime) -> str:
    millis = int(at.timestamp() * 1000)
    return f"{prefix}_{_encode(millis, 10)}{_encode(secrets.randbits(80), 16)}".lower()
