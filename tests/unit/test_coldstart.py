"""selfservice.coldstart.loading: the collector is paused while a handler module loads and comes back
after it (also when the import fails), and what was loaded is moved out of the collector's sight."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from selfservice.coldstart import loading


@pytest.fixture(autouse=True)
def _collector_as_it_was() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if enabled:
        gc.enable()
    else:
        gc.disable()


def test_the_collector_is_paused_while_loading_and_back_after() -> None:
    gc.enable()
    gc.unfreeze()
    with loading():
        assert not gc.isenabled()
        loaded = [object() for _ in range(10)]
    assert gc.isenabled()
    assert gc.get_freeze_count() >= len(loaded)


def test_the_collector_comes_back_when_loading_fails() -> None:
    gc.enable()
    with pytest.raises(ImportError), loading():
        raise ImportError("a handler module that does not load")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with loading():
        pass
    assert not gc.isenabled()
