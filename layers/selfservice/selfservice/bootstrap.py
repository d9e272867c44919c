"""The composition root: settings from the environment and the wiring of the real adapters.

Both are built on first use and kept for the life of the container (one Lambda execution environment
serves many invocations), so importing this module costs nothing and boto3 is imported only when a
function first touches the store. Tests and the in-process local run swap parts with `override()`
(e.g. a manual clock) or the whole `Deps` with `configure()`, and start over with `reset()`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from selfservice.domain.catalog import Catalog, load_catalog
from selfservice.ports import Clock, Repository
from selfservice.services import Deps

if TYPE_CHECKING:
    from boto3.session import Session

DEFAULT_TENANT_CLAIM = "tenant_id"
DEFAULT_ROLES_CLAIM = "roles"


class SettingsError(RuntimeError):
    """The environment lacks something the function needs: a deployment error, never the caller's."""


@dataclass(frozen=True, slots=True)
class Settings:
    table_name: str | None
    tenant_claim: str = DEFAULT_TENANT_CLAIM
    roles_claim: str = DEFAULT_ROLES_CLAIM
    idempotency_table_name: str | None = None
    invoice_bucket: str | None = None
    event_bus_name: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        def value(name: str) -> str | None:
            text = environ.get(name, "").strip()
            return text or None

        return cls(
            table_name=value("TABLE_NAME"),
            tenant_claim=value("TENANT_CLAIM") or DEFAULT_TENANT_CLAIM,
            roles_claim=value("ROLES_CLAIM") or DEFAULT_ROLES_CLAIM,
            idempotency_table_name=value("IDEMPOTENCY_TABLE_NAME"),
            invoice_bucket=value("INVOICE_BUCKET"),
            event_bus_name=value("EVENT_BUS_NAME"),
        )

    def require_table(self) -> str:
        if self.table_name is None:
            raise SettingsError("TABLE_NAME is not set: the function has no table to work on.")
        return self.table_name


_lock = threading.RLock()
_settings: Settings | None = None
_built: Deps | None = None  # the real adapters, built once per container
_configured: Deps | None = None  # a whole Deps put in place by configure()
_overrides: dict[str, object] = {}
_effective: Deps | None = None  # what deps() returns: built or configured, with the overrides applied
# The boto3 session outlives reset(): it holds only the service models it has read (slow to load, the
# same for every test and every restart of the in-process local run) and the environment's credentials.
_session: Session | None = None


def settings() -> Settings:
    global _settings
    if _settings is None:
        with _lock:
            if _settings is None:
                _settings = Settings.from_env(os.environ)
    return _settings


def deps() -> Deps:
    """The ports every service call gets. Built on first use; the same object for every later call."""
    global _effective
    current = _effective
    if current is not None:
        return current
    with _lock:
        if _effective is None:
            base = _configured if _configured is not None else _real_deps()
            _effective = replace(base, **_overrides) if _overrides else base  # type: ignore[arg-type]
        return _effective


def configure(whole: Deps | None) -> None:
    """Use `whole` instead of the real adapters (None: back to the real ones). Overrides still apply."""
    global _configured, _effective
    with _lock:
        _configured = whole
        _effective = None


def override(*, clock: Clock | None = None, repo: Repository | None = None, catalog: Catalog | None = None) -> None:
    """Replace single ports of whatever `deps()` is built from; the ones not named stay as they are."""
    global _effective
    given = {"clock": clock, "repo": repo, "catalog": catalog}
    with _lock:
        _overrides.update({name: port for name, port in given.items() if port is not None})
        _effective = None


def reset() -> None:
    """Forget settings, built adapters, configuration and overrides: the next call starts from the
    environment again (tests that change env vars between cases)."""
    global _settings, _built, _configured, _effective
    with _lock:
        _settings = None
        _built = None
        _configured = None
        _effective = None
        _overrides.clear()


def _real_deps() -> Deps:
    global _built
    if _built is None:
        # Imported here, not at module level: boto3 is the most expensive import of a cold start, and a
        # function that fails validation or authorisation never needs it.
        from botocore.config import Config

        from selfservice.adapters.clock import SystemClock
        from selfservice.adapters.dynamo import DynamoRepository

        table = settings().require_table()
        client = _boto3_session().client("dynamodb", config=Config(retries={"mode": "standard"}))
        _built = Deps(repo=DynamoRepository(table, client), clock=SystemClock(), catalog=load_catalog())
    return _built


def _boto3_session() -> Session:
    global _session
    if _session is None:
        import boto3

        _session = boto3.session.Session()
    return _session
