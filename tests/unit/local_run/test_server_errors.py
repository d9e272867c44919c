"""The local run's HTTP server: a client that hangs up is not an error of the run (no traceback in its
terminal, which the e2e and browser tests read for tracebacks); any other failure still is."""

from __future__ import annotations

import pytest
from selfservice_local.server import LocalHTTPServer

CLIENT = ("127.0.0.1", 50000)


def _server() -> LocalHTTPServer:
    return LocalHTTPServer.__new__(LocalHTTPServer)  # no socket: handle_error needs none


@pytest.mark.parametrize("hang_up", [ConnectionResetError(104, "Connection reset by peer"),
                                     BrokenPipeError(32, "Broken pipe"),
                                     ConnectionAbortedError(103, "Software caused connection abort")])
def test_a_client_that_hangs_up_prints_nothing(hang_up: OSError, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        raise hang_up
    except OSError:
        _server().handle_error(None, CLIENT)
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "")


def test_any_other_failure_is_still_printed(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        raise ValueError("a bug in the run")
    except ValueError:
        _server().handle_error(None, CLIENT)
    err = capsys.readouterr().err
    assert "Traceback" in err and "ValueError: a bug in the run" in err
