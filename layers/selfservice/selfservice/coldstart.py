"""A function's cold start, without the garbage collector running through it.

Loading a function's modules allocates some 150,000 long-lived objects (pydantic's validators,
Powertools, the domain's classes) and almost no garbage; the collector still runs dozens of
young-generation passes over them while they load. `loading()` pauses it for the import of the handler
module, then moves what was loaded to the permanent generation (`gc.freeze`), so that the collections
of warm invocations look only at what an invocation allocates. Worth about 4% of an HTTP function's
cold init (the account function from the source tree, 11 interleaved runs: median 415 -> 397 ms of
CPU); docs/benchmarks.md's "floor, collector paused" row shows what it is worth to boto3's own load.

The little garbage the imports leave (about a thousand objects, measured) is frozen with the rest:
collecting it once would cost a full pass over everything loaded, far more than it holds. Only for a
handler module's top level: a long-lived process (the local run, the tests) that loads many functions
gets the collector back after each of them."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def loading() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        gc.freeze()
