"""The template's functions, imported in-process from their CodeUri and invoked the way Lambda does
(event, context with a time budget). The layer's package is the installed `selfservice`, the very
code the layer bundles.

Each function module is imported by file path under its own module name, so that every `app.py`
stays a separate module, as in its own Lambda container.

Concurrency: one warm container per function. A container serves one request at a time, so requests to
the same function queue (one lock per function); different functions run at the same time, as they do in
their own containers in the cloud. What the handlers share in this one process is safe for that: the
composition root's clients (boto3 clients are thread-safe; `bootstrap` builds them under its lock), the
clock the local run installs (shared on purpose), and module state of the layer that each function
keeps to itself (a Powertools router is bound to the one resolver of the function that includes it; the
idempotency wiring is per function). Powertools' Logger keys are process-wide per service, so a log
line's Lambda-context keys may name another function running at that moment: logs only."""

from __future__ import annotations

import importlib.util
import re
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from selfservice_local.gateway import LambdaContext
from selfservice_local.template import Function, Template

Handler = Callable[[dict[str, Any], Any], Any]


class FunctionLoadError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class Invocation:
    result: Any
    elapsed_ms: float
    timed_out: bool  # ran longer than the function's Timeout: Lambda would have stopped it


class LocalFunctions:
    def __init__(self, template: Template, stack_name: str, region: str) -> None:
        self.template = template
        self.stack_name = stack_name
        self.region = region
        self._handlers: dict[str, Handler] = {}
        # One per function: its one warm container serves one request at a time.
        self._locks: dict[str, threading.Lock] = {logical_id: threading.Lock() for logical_id in template.functions}
        self._import_lock = threading.Lock()

    def load_all(self) -> None:
        """Import every function now, so that a broken one fails the start, not a later request."""
        for function in self.template.functions.values():
            self._handlers[function.logical_id] = _import_handler(function)

    def has(self, logical_id: str) -> bool:
        return logical_id in self.template.functions

    def physical_name(self, logical_id: str) -> str:
        return f"{self.stack_name}-{logical_id}"

    def invoke(self, logical_id: str, event: Any) -> Invocation:
        function = self.template.functions[logical_id]
        handler = self._handlers.get(logical_id)
        if handler is None:
            with self._import_lock:
                handler = self._handlers.get(logical_id)
                if handler is None:
                    handler = self._handlers[logical_id] = _import_handler(function)
        with self._locks[logical_id]:
            # Created once the container takes the request: the time budget starts then, not while queued.
            context = LambdaContext(self.physical_name(logical_id), function.timeout_seconds, function.memory_mb,
                                    self.region)
            started = time.perf_counter()
            result = handler(event, context)
            elapsed = (time.perf_counter() - started) * 1000
        return Invocation(result, elapsed, elapsed > function.timeout_seconds * 1000)


def _module_name(function: Function) -> str:
    return "selfservice_local_fn_" + re.sub(r"\W", "_", function.logical_id)


def _import_handler(function: Function) -> Handler:
    path = function.module_file
    if not path.is_file():
        raise FunctionLoadError(f"{function.logical_id}: {path} does not exist (CodeUri + Handler of the template)")
    name = _module_name(function)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise FunctionLoadError(f"{function.logical_id}: cannot import {path}")
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise FunctionLoadError(f"{function.logical_id}: importing {path} failed: {exc!r}") from exc
    handler = getattr(module, function.handler_name, None)
    if not callable(handler):
        raise FunctionLoadError(f"{function.logical_id}: {path} has no callable {function.handler_name}")
    return handler  # type: ignore[no-any-return]
