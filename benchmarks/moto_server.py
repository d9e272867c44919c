"""The benchmarks' AWS: a moto server (ThreadedMotoServer) in a process of its own, so that its CPU is not
the handlers' (no shared GIL), started by `start()` and stopped with the context manager.

Two changes to moto, where its cost grows with the size of the table (DynamoDB's does not), which would
swamp both what is measured and its floor as a run fills the table:

- TransactWriteItems: moto deep-copies every table it touches, once per action, as its rollback backup
  (a 2-action write on a table of 20,000 items takes about a second). Here a transaction first checks
  every condition against the current items without writing (DynamoDB's all-or-nothing: any failure
  cancels it, nothing written, the same TransactionCanceledException with its reasons), and only then
  lets moto apply it, with the backup skipped.
- Query: moto sorts every item of the table on every Query, then filters. Here it is handed only the
  candidates: the partition's items for a table Query; for an index Query, the items whose index hash
  key matches, from a map kept up to date by every write; moto then filters, sorts and pages them as
  before.
- Responses that carry items (Query, GetItem ...): moto walks every attribute of every item through its
  generic, shape-driven serializer (about 2 ms per item of 30 attributes). Those results are already
  DynamoDB JSON, so they are written with json.dumps: the same body.

Everything else is moto as is.

    python -m benchmarks.moto_server    # prints "READY <endpoint>", serves until stdin closes
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def _patch_transactions() -> None:
    from moto.dynamodb import models
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
    )
    from moto.dynamodb.models.table import Table

    class _NoTableCopy:
        """`copy` for moto's models module: a Table is not deep-copied (the backup), anything else is."""

        def __getattr__(self, name: str) -> Any:
            import copy

            return getattr(copy, name)

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            import copy

            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        if len(transact_items) > 100:
            raise TooManyTransactionsException()
        seen: set[tuple[str, str]] = set()
        errors: list[tuple[Any, Any, Any]] = []
        for action in transact_items:
            op_type, op = next(iter(action.items()))
            table_name = op.get("TableName")
            table = self.get_table(table_name)
            if op_type == "Put":
                attrs = op["Item"]
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]
            marker = (str(table_name), str(dict(sorted(key.items()))))
            if marker in seen:
                raise MultipleTransactionsException()
            seen.add(marker)
            condition = op.get("ConditionExpression")
            if condition is None:
                errors.append((None, None, None))
                continue
            current = self.get_item(table_name, key)
            check = get_filter_expression(condition, op.get("ExpressionAttributeNames"),
                                          op.get("ExpressionAttributeValues"))
            if check.expr(current):
                errors.append((None, None, None))
            else:
                old = current.to_json()["Attributes"] \
                    if current and op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" else None
                errors.append(("ConditionalCheckFailed", ConditionalCheckFailed().message, old))
        if any(code is not None for code, _, _ in errors):
            raise TransactionCanceledException(errors)
        original(self, transact_items)

    models.copy = _NoTableCopy()  # type: ignore[assignment]
    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def _patch_queries() -> None:
    import threading
    from collections import defaultdict

    from moto.dynamodb import models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    local = threading.local()  # the candidates of the Query this thread is running
    all_items, query = Table.all_items, Table.query
    put_item, delete_item, update_item = Table.put_item, Table.delete_item, models.DynamoDBBackend.update_item
    # Per table, built on its first index Query and kept up to date by every write after it:
    # (index hash attribute, value) -> the keys of the items that carry it.
    index_of: dict[int, dict[tuple[str, Any], set[tuple[Any, Any]]]] = {}

    def _equal(found: Any, value: Any) -> bool:
        return found is not None and bool(found == value)

    def hash_attributes(table: Any) -> list[str]:
        return sorted({key["AttributeName"] for index in table.all_indexes() for key in index.schema
                       if key["KeyType"] == "HASH"})

    def entries(table: Any, item: Any) -> list[tuple[str, Any]]:
        return [(name, item.attrs[name]) for name in hash_attributes(table) if name in item.attrs]

    def forget(table: Any, item: Any) -> None:
        index = index_of.get(id(table))
        if index is not None and item is not None:
            for entry in entries(table, item):
                index[entry].discard((item.hash_key, item.range_key))

    def remember(table: Any, item: Any) -> None:
        index = index_of.get(id(table))
        if index is not None and item is not None:
            for entry in entries(table, item):
                index[entry].add((item.hash_key, item.range_key))

    def index_for(table: Any) -> dict[tuple[str, Any], set[tuple[Any, Any]]]:
        index = index_of.get(id(table))
        if index is None:
            index = index_of[id(table)] = defaultdict(set)
            for partition in table.items.values():
                for item in partition.values():
                    remember(table, item)
        return index

    def candidate_items(self: Any) -> Any:
        override = getattr(local, "candidates", None)
        if override is not None and override[0] is self:
            return override[1]
        return all_items(self)

    def fast_query(self: Any, hash_key: Any, range_comparison: Any, range_objs: Any, limit: Any,
                   exclusive_start_key: Any, scan_index_forward: Any, projection_expressions: Any,
                   index_name: str | None = None, consistent_read: bool = False, filter_expression: Any = None,
                   hash_key_conditions: list[tuple[str, Any]] | None = None, **kwargs: Any) -> Any:
        candidates: list[Any] | None = None
        if index_name is None and hash_key is not None and self.range_key_attr:
            candidates = list(self.items.get(hash_key, {}).values())
        elif index_name is not None and hash_key_conditions and self.range_key_attr:
            keys = index_for(self).get(hash_key_conditions[0], set())
            candidates = [item for item in (self.items.get(h, {}).get(r) for h, r in keys)
                          if item is not None
                          and all(_equal(item.attrs.get(name), value) for name, value in hash_key_conditions)]
        local.candidates = (self, candidates) if candidates is not None else None
        try:
            return query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
                         scan_index_forward, projection_expressions, index_name, consistent_read,
                         filter_expression, hash_key_conditions=hash_key_conditions, **kwargs)
        finally:
            local.candidates = None

    def indexed_put_item(self: Any, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        old = None
        if id(self) in index_of and self.range_key_attr and self.hash_key_attr in item_attrs \
                and self.range_key_attr in item_attrs:
            old = self.items.get(DynamoType(item_attrs[self.hash_key_attr]), {}).get(
                DynamoType(item_attrs[self.range_key_attr]))
        item = put_item(self, item_attrs, *args, **kwargs)
        forget(self, old)
        remember(self, item)
        return item

    def indexed_delete_item(self: Any, hash_key: Any, range_key: Any) -> Any:
        item = delete_item(self, hash_key, range_key)
        forget(self, item)
        return item

    def indexed_update_item(self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        item = update_item(self, table_name, key, *args, **kwargs)  # changed in place: its old entries stay,
        remember(self.get_table(table_name), item)  # and the Query filters them out (the attributes decide)
        return item

    Table.all_items = candidate_items  # type: ignore[method-assign]
    Table.query = fast_query  # type: ignore[method-assign]
    Table.put_item = indexed_put_item  # type: ignore[method-assign]
    Table.delete_item = indexed_delete_item  # type: ignore[method-assign]
    models.DynamoDBBackend.update_item = indexed_update_item  # type: ignore[method-assign]


# The operations whose results are plain DynamoDB JSON (no timestamps, which the generic serializer
# formats): written directly unless they hold binary values.
_PLAIN_JSON_OPERATIONS = frozenset({"Query", "Scan", "GetItem", "BatchGetItem", "TransactGetItems", "PutItem",
                                    "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})


def _patch_item_responses() -> None:
    import json

    from moto.dynamodb.responses import DynamoResult

    execute_result = DynamoResult.execute_result

    def has_bytes(value: Any) -> bool:
        if isinstance(value, bytes | bytearray):
            return True
        if isinstance(value, dict):
            return any(has_bytes(v) for v in value.values())
        if isinstance(value, list):
            return any(has_bytes(v) for v in value)
        return False

    def fast_execute_result(self: Any, context: Any) -> Any:
        result = self.result
        if str(context.operation_model.name) in _PLAIN_JSON_OPERATIONS and isinstance(result, dict) \
                and not has_bytes(result):
            members = context.operation_model.output_shape.members  # what the shape-driven serializer keeps
            body = {key: value for key, value in result.items() if key in members}
            return 200, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(body)
        return execute_result(self, context)

    DynamoResult.execute_result = fast_execute_result  # type: ignore[method-assign]


def serve() -> None:
    import logging

    from moto.server import ThreadedMotoServer

    _patch_transactions()
    _patch_queries()
    _patch_item_responses()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    print(f"READY http://{host}:{port}", flush=True)
    sys.stdin.read()  # until the parent closes it (or exits)
    server.stop()


@contextmanager
def start() -> Iterator[str]:
    """A moto server process; yields its endpoint URL."""
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.moto_server"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("READY "):
            raise RuntimeError(f"the moto server did not start: {line!r}")
        yield line.split()[1]
    finally:
        if proc.stdin:
            proc.stdin.close()  # the server stops; it holds nothing worth a slow goodbye
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    serve()
