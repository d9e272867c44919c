"""DynamoDB's isolation for moto's in-process backend.

Real DynamoDB never lets two writers both pass a condition: a conditional PutItem, UpdateItem or
DeleteItem is atomic, and TransactWriteItems is serializable against every other write and against
GetItem (TransactGetItems sees a transaction whole or not at all). moto's `DynamoDBBackend` takes no
lock: it checks a condition, then writes, so two threads can both pass; `transact_write_items`
deep-copies each table it touches and, when one of its conditions fails, puts that copy back,
undoing what other threads wrote in between; and a Query or Scan iterating a table while another
thread inserts can fail with "dictionary changed size during iteration". A moto server
(`ThreadedMotoServer`) answers requests on many threads, so the local run, whose functions run
concurrently, would see races DynamoDB itself never allows, and lose writes it never loses.

`isolate_dynamodb()` runs every DynamoDB data operation of moto under one re-entrant lock:

- the backend's methods (`DynamoDBBackend`): put_item, update_item, delete_item, transact_write_items,
  batch_write_item, get_item, transact_get_items, batch_get_item, query, scan;
- the request handler's methods of the same operations (`DynamoHandler`), because moto builds an
  answer from its live items after the backend call returns (an UpdateItem changes an item in place),
  and implements BatchWriteItem, BatchGetItem and TransactGetItems there, item by item, calling the
  backend once per item: only a lock around the whole request makes a TransactGetItems one snapshot.

It is stronger than DynamoDB (one operation at a time for the whole emulated account, where the
service isolates per item), which only costs throughput: every interleaving it allows, DynamoDB allows.

The patch is process-wide (the classes, so every backend of every account and region, the server's
and `mock_aws`'s alike), idempotent and undoable: each call returns an undo callable, and the
originals are put back when the last caller has undone (`isolated_dynamodb()` is the same as a
context manager, for tests). The local run applies it when it starts its moto server
(`selfservice_local.aws.MotoEmulation`); the integration tests' `atomic_moto_transactions` fixtures
use it too, so there is one definition of the emulator's isolation."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

BACKEND_METHODS = (
    "put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item",
    "get_item", "transact_get_items", "batch_get_item", "query", "scan",
)
HANDLER_METHODS = BACKEND_METHODS

_LOCK = threading.RLock()  # the emulated service's isolation: one data operation at a time
_STATE_LOCK = threading.Lock()  # guards the patching itself
_users = 0
_originals: list[tuple[type, str, Any]] = []

_MARK = "__selfservice_local_isolated__"


def _targets() -> list[tuple[type, tuple[str, ...]]]:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    return [(DynamoDBBackend, BACKEND_METHODS), (DynamoHandler, HANDLER_METHODS)]


def _isolated(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def isolated(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return original(*args, **kwargs)

    setattr(isolated, _MARK, True)
    return isolated


def isolate_dynamodb() -> Callable[[], None]:
    """Give moto's DynamoDB the service's isolation (see the module docstring). Returns the undo: the
    originals come back once every caller has undone. Calling it again while applied only counts."""
    global _users
    with _STATE_LOCK:
        if _users == 0:
            for cls, names in _targets():
                for name in names:
                    original = cls.__dict__.get(name)
                    if original is None or getattr(original, _MARK, False):
                        continue  # not defined on this class in this moto version, or already wrapped
                    _originals.append((cls, name, original))
                    setattr(cls, name, _isolated(original))
        _users += 1
    done = False

    def undo() -> None:
        global _users
        nonlocal done
        with _STATE_LOCK:
            if done:
                return
            done = True
            _users -= 1
            if _users == 0:
                while _originals:
                    cls, name, original = _originals.pop()
                    setattr(cls, name, original)

    return undo


@contextmanager
def isolated_dynamodb() -> Iterator[None]:
    """`isolate_dynamodb()` for the duration of a `with` block (a pytest fixture's `yield`)."""
    undo = isolate_dynamodb()
    try:
        yield
    finally:
        undo()
