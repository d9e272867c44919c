"""Counting the AWS calls a flow makes, with botocore's event hooks (`before-call.*.*`: once per API call,
whatever its retries), each classified by what it touches: the tenant's data (the single table), the
sandbox payment gateway's items (the same table, keys SANDBOX#...: a real gateway is one HTTP call),
the idempotency table, the abuse limits' attempt counters, or another service."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

STORE = "store"
GATEWAY = "gateway"
IDEMPOTENCY = "idempotency"
LIMIT = "limit"  # the abuse limits' attempt counters (SK LIMIT#...), in the tenant's partition
OTHER = "other"
ORDER = (STORE, GATEWAY, IDEMPOTENCY, LIMIT, OTHER)


class CallCounter:
    def __init__(self, idempotency_table: str | None = None) -> None:
        self.idempotency_table = idempotency_table
        self.calls: Counter[tuple[str, str]] = Counter()  # (kind, operation) -> count
        self.enabled = True

    def attach(self, events: Any) -> None:
        """Register on a session's (or a client's) event emitter. A client copies its session's
        handlers when it is created: attach to the session before the clients are built."""
        events.register("before-call.*.*", self._before_call, unique_id="benchmarks-call-counter")

    def reset(self) -> None:
        self.calls.clear()

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def by_kind(self) -> dict[str, int]:
        out: Counter[str] = Counter()
        for (kind, _operation), count in self.calls.items():
            out[kind] += count
        return dict(out)

    def of(self, kind: str) -> int:
        return self.by_kind().get(kind, 0)

    def describe(self) -> str:
        """'store: Query 1, TransactWriteItems 1; gateway: GetItem 2' (operations in call order)."""
        parts = []
        for kind in ORDER:
            ops = [f"{op} {n}" for (k, op), n in self.calls.items() if k == kind]
            if ops:
                parts.append(f"{kind}: {', '.join(ops)}")
        return "; ".join(parts) or "none"

    def _before_call(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        if self.enabled:
            self.calls[(self._kind(model, params), model.name)] += 1

    def _kind(self, model: Any, params: dict[str, Any]) -> str:
        if model.service_model.service_name != "dynamodb":
            return OTHER
        try:
            request = json.loads(params.get("body") or b"{}")
        except ValueError:
            return STORE
        tables, keys, sort_keys = set(), [], []
        for action in request.get("TransactItems", [request]):
            body = next(iter(action.values())) if "TransactItems" in request else action
            tables.add(body.get("TableName"))
            key = body.get("Key") or body.get("Item") or {}
            keys.append(str((key.get("PK") or {}).get("S", "")))
            sort_keys.append(str((key.get("SK") or {}).get("S", "")))
            keys.extend(str(v.get("S", "")) for v in (body.get("ExpressionAttributeValues") or {}).values()
                        if isinstance(v, dict) and str(v.get("S", "")).startswith("SANDBOX#"))
        if self.idempotency_table and tables == {self.idempotency_table}:
            return IDEMPOTENCY
        if sort_keys and all(sk.startswith("LIMIT#") for sk in sort_keys):
            return LIMIT
        if keys and all(key.startswith("SANDBOX#") for key in keys if key) and any(keys):
            return GATEWAY
        return STORE
