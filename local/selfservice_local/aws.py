"""The AWS emulation of the local run: a moto server on 127.0.0.1 holding the template's resources,
and the environment that points every boto3 client at it."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

from moto.server import ThreadedMotoServer

from selfservice_local.atomic_dynamodb import isolate_dynamodb
from selfservice_local.resources import create_resources_from_template, environment_for
from selfservice_local.template import Template

HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 15


class EmulationError(RuntimeError):
    pass


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise EmulationError(f"port {port} on {host} is taken ({exc.strerror}); pick another with --moto-port") from None


class MotoEmulation:
    """A moto server in a thread of this process. Port 0 picks a free one.

    Its DynamoDB has the service's isolation (`atomic_dynamodb`): the server answers on many threads and
    the functions run concurrently, and moto alone would let two conditional writes or transactions both
    pass their conditions, which DynamoDB never does."""

    def __init__(self, port: int = 0, host: str = HOST) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._server: ThreadedMotoServer | None = None
        self._undo_isolation: Callable[[], None] | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        _check_port_free(self.host, self.port)
        # Werkzeug would log every AWS call; the terminal shows the product's requests only.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        if self._undo_isolation is None:
            self._undo_isolation = isolate_dynamodb()
        server = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        # ThreadedMotoServer.start() waits forever if its server thread fails to bind: wait from aside.
        starter = threading.Thread(target=server.start, daemon=True, name="moto-start")
        starter.start()
        starter.join(START_TIMEOUT_SECONDS)
        if starter.is_alive():
            raise EmulationError(f"the moto server did not start on {self.endpoint_url}")
        self._server = server

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._undo_isolation is not None:
            self._undo_isolation()
            self._undo_isolation = None


def aws_environment(endpoint_url: str, region: str) -> dict[str, str]:
    """What boto3 reads: where AWS is, and fake credentials (moto accepts any), so that a developer's
    real profile or keys are never picked up."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",  # moto accepts any credentials
        "AWS_SESSION_TOKEN": "local",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
    }


def function_environment(template: Template, resources: Mapping[str, str],
                         parameters: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """The union of every function's Environment.Variables (Globals included), resolved the way
    CloudFormation would for what the local run knows: plain values, !Ref to a parameter, !Ref to a
    created resource. Returns the variables and warnings for what could not be resolved or clashes
    between functions (all handlers share one process environment)."""
    merged: dict[str, str] = {}
    warnings: list[str] = []
    for function in template.functions.values():
        for name, raw in function.environment.items():
            value = _resolve(raw, resources, parameters)
            if value is None:
                warnings.append(f"{function.logical_id}: {name} is not resolvable locally; left unset")
                continue
            if name in merged and merged[name] != value:
                warnings.append(f"{name} differs between functions; the local run uses {merged[name]!r}")
                continue
            merged[name] = value
    merged.update(environment_for(resources))
    return merged, warnings


def _resolve(raw: Any, resources: Mapping[str, str], parameters: Mapping[str, str]) -> str | None:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, str | int | float):
        return str(raw)
    if isinstance(raw, dict) and set(raw) == {"Ref"}:
        ref = str(raw["Ref"])
        if ref in parameters:
            return parameters[ref]
        if ref in resources:
            return resources[ref]
    return None


def template_parameters(raw_parameters: Mapping[str, Any], given: Mapping[str, str]) -> dict[str, str]:
    """Parameter values: the given ones over the template's defaults."""
    values = {name: str(spec["Default"]) for name, spec in raw_parameters.items()
              if isinstance(spec, dict) and "Default" in spec}
    values.update(given)
    return values


def create_resources(template: Template, endpoint_url: str, region: str) -> dict[str, str]:
    return create_resources_from_template(template.path, endpoint_url=endpoint_url, region=region)


def apply_environment(values: Mapping[str, str], environ: MutableMapping[str, str] = os.environ) -> None:
    # A profile would make boto3 look for a developer's config; the local run never uses one.
    environ.pop("AWS_PROFILE", None)
    environ.update(values)
