"""The benchmarks' AWS: a moto server (ThreadedMotoServer) in a process of its own, so that its CPU is not
the handlers' (no shared GIL), started by `start()` and stopped with the context manager.

One change to moto, for writes only: moto's TransactWriteItems deep-copies every table it touches,
once per action, as its rollback backup, so a transaction costs O(actions x table size) and gets slower
as a run fills the table (a 2-action write on a table of 20,000 items takes about a second). DynamoDB
costs nothing of the kind, and it would swamp both the flows and the floor. Here a transaction first
checks every condition against the current items without writing (DynamoDB's all-or-nothing: any
failure cancels it, nothing written, the same TransactionCanceledException with its reasons), and only
then lets moto apply it, with the backup skipped. Everything else is moto as is.

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


def serve() -> None:
    import logging

    from moto.server import ThreadedMotoServer

    _patch_transactions()
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
            proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    serve()
