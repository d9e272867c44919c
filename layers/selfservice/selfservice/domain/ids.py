"""Identifiers that sort by creation time (a ULID-like layout: 48-bit milliseconds, 80 random bits),
so that invoices and activity sort newest-first by key alone."""

from __future__ import annotations

import hashlib
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


def derived_id(prefix: str, at: datetime, *parts: str) -> str:
    """An id in the layout of `new_id` (so it sorts by `at` among the others) whose other 80 bits come
    from a hash of `parts` instead of chance: whoever makes the same thing makes the same id. Two copies
    of a job that issue the same invoice therefore write the same item, and the second write collides
    with the first instead of duplicating it."""
    millis = int(at.timestamp() * 1000)
    digest = int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest()[:10], "big")
    return f"{prefix}_{_encode(millis, 10)}{_encode(digest, 16)}".lower()
