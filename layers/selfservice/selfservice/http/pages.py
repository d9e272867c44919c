"""Pages of the lists that the account read returns whole (users, subscriptions, cards): every list of the
API takes `limit` (1-100) and `cursor`, so no response grows with the data (docs/security.md, API4).

The cursor is opaque to clients: unpadded URL-safe base64 of `{"t": <tenant id>, "k": <last key>}`, the
same form the repository's cursors have. A cursor of another tenant, or anything not issued here, is 422
`invalid_input` (field `cursor`)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from selfservice.domain.errors import InvalidInput

MAX_PAGE_SIZE = 100
HISTORY_PAGE_SIZE = 25  # the default of the lists that only grow (invoices, activity)
MAX_CURSOR_LENGTH = 512

PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Items per page, 1-{MAX_PAGE_SIZE}.")]
Cursor = Annotated[
    str | None, Query(min_length=1, max_length=MAX_CURSOR_LENGTH, description="next_cursor of the previous page")
]


def encode_cursor(tenant_id: str, key: str) -> str:
    raw = json.dumps({"t": tenant_id, "k": key}, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, tenant_id: str) -> str:
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, dict) or raw.get("t") != tenant_id or not isinstance(raw.get("k"), str):
            raise ValueError
        key: str = raw["k"]
        return key
    except (ValueError, binascii.Error):
        raise InvalidInput("The cursor is not valid.", field="cursor") from None


def page_of[T](items: Sequence[T], *, key: Callable[[T], str], limit: int, cursor: str | None,
               tenant_id: str) -> tuple[list[T], str | None]:
    """The page of `items` (sorted by `key`) after the cursor's key, and the cursor of the next page (None
    when nothing follows)."""
    after = decode_cursor(cursor, tenant_id) if cursor is not None else None
    rest = [item for item in items if after is None or key(item) > after]
    page = rest[:limit]
    return page, encode_cursor(tenant_id, key(page[-1])) if len(rest) > limit else None
