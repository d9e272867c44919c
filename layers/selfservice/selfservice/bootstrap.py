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
from datetime import datetime
from typing import TYPE_CHECKING, Any

from selfservice.domain.catalog import Catalog, load_catalog
from selfservice.ports import (
    AttemptCounter,
    CardTokeniser,
    Clock,
    DocumentStore,
    EventPublisher,
    InvoiceRenderer,
    PaymentGateway,
    Repository,
)
from selfservice.services import Deps

if TYPE_CHECKING:
    from boto3.session import Session
    from botocore.config import Config
    from mypy_boto3_dynamodb import DynamoDBClient

    from selfservice.adapters.sandbox_gateway import SandboxGateway
    from selfservice.domain.invoices import Invoice

DEFAULT_TENANT_CLAIM = "tenant_id"
DEFAULT_ROLES_CLAIM = "roles"
SANDBOX_GATEWAY = "sandbox"
PAYMENT_GATEWAYS = frozenset({SANDBOX_GATEWAY})  # the adapters that exist


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
    payment_gateway: str = SANDBOX_GATEWAY
    # The sandbox's fingerprint key (SANDBOX_FINGERPRINT_SECRET); None: the sandbox's documented default.
    sandbox_fingerprint_secret: str | None = None

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
            payment_gateway=(value("PAYMENT_GATEWAY") or SANDBOX_GATEWAY).lower(),
            sandbox_fingerprint_secret=value("SANDBOX_FINGERPRINT_SECRET"),
        )

    @property
    def sandbox_gateway(self) -> bool:
        """Whether the sandbox gateway (and with it the tokeniser route) is the configured gateway."""
        return self.payment_gateway == SANDBOX_GATEWAY

    def require_table(self) -> str:
        if self.table_name is None:
            raise SettingsError("TABLE_NAME is not set: the function has no table to work on.")
        return self.table_name

    def require_event_bus(self) -> str:
        if self.event_bus_name is None:
            raise SettingsError("EVENT_BUS_NAME is not set: the outbox publisher has no bus to publish on.")
        return self.event_bus_name


_lock = threading.RLock()
_settings: Settings | None = None
_built: Deps | None = None  # the real adapters, built once per container
_configured: Deps | None = None  # a whole Deps put in place by configure()
_overrides: dict[str, object] = {}
_effective: Deps | None = None  # what deps() returns: built or configured, with the overrides applied
_publisher: EventPublisher | None = None  # the bus, built on first use by the outbox publisher only
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


def override(*, clock: Clock | None = None, repo: Repository | None = None, catalog: Catalog | None = None,
             gateway: PaymentGateway | None = None, tokeniser: CardTokeniser | None = None,
             documents: DocumentStore | None = None, render_invoice: InvoiceRenderer | None = None,
             attempts: AttemptCounter | None = None) -> None:
    """Replace single ports of whatever `deps()` is built from; the ones not named stay as they are."""
    global _effective
    given = {"clock": clock, "repo": repo, "catalog": catalog, "gateway": gateway, "tokeniser": tokeniser,
             "documents": documents, "render_invoice": render_invoice, "attempts": attempts}
    with _lock:
        _overrides.update({name: port for name, port in given.items() if port is not None})
        _effective = None


def reset() -> None:
    """Forget settings, built adapters, configuration and overrides: the next call starts from the
    environment again (tests that change env vars between cases)."""
    global _settings, _built, _configured, _effective, _publisher
    with _lock:
        _settings = None
        _built = None
        _configured = None
        _effective = None
        _publisher = None
        _overrides.clear()


def event_publisher() -> EventPublisher:
    """The bus of the outbox publisher (EVENT_BUS_NAME). Apart from `deps()`: that function needs
    neither the table nor the gateway, and the other functions never need the bus."""
    global _publisher
    current = _publisher
    if current is not None:
        return current
    with _lock:
        if _publisher is None:
            from botocore.config import Config

            from selfservice.adapters.eventbridge import EventBridgePublisher

            bus = settings().require_event_bus()
            # Short timeouts: a call that hangs would eat the time the publisher keeps for its retries.
            config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)
            _publisher = EventBridgePublisher(_boto3_session().client("events", config=config), bus)
        return _publisher


def _real_deps() -> Deps:
    global _built
    if _built is None:
        # Imported here, not at module level: boto3 is the most expensive import of a cold start, and a
        # function that fails validation or authorisation never needs it.
        from botocore.config import Config

        from selfservice.adapters.attempt_counters import DynamoAttemptCounter
        from selfservice.adapters.clock import SystemClock
        from selfservice.adapters.dynamo import DynamoRepository

        table = settings().require_table()
        client = _boto3_session().client("dynamodb", config=Config(retries={"mode": "standard"}))
        gateway = _sandbox_gateway(table, client)
        _built = Deps(repo=DynamoRepository(table, client), clock=SystemClock(), catalog=load_catalog(),
                      gateway=gateway, tokeniser=gateway, documents=_InvoiceDocuments(),
                      render_invoice=_render_invoice_pdf, attempts=DynamoAttemptCounter(table, client))
    return _built


class _CurrentClock:
    """The clock of whatever `deps()` currently holds (an override included): the gateway, built once,
    keeps time with the services that call it."""

    def now(self) -> datetime:
        return deps().clock.now()


def _sandbox_gateway(table: str, client: DynamoDBClient) -> SandboxGateway:
    """The sandbox gateway on the same table and client. Cheap: its store reads only when asked."""
    from selfservice.adapters.sandbox_gateway import DEFAULT_FINGERPRINT_SECRET, DynamoSandboxStore, SandboxGateway

    current = settings()
    if current.payment_gateway not in PAYMENT_GATEWAYS:
        raise SettingsError(f"PAYMENT_GATEWAY must be one of {sorted(PAYMENT_GATEWAYS)}, not {current.payment_gateway!r}.")
    return SandboxGateway(DynamoSandboxStore(table, client), _CurrentClock(),
                          secret=current.sandbox_fingerprint_secret or DEFAULT_FINGERPRINT_SECRET)


def aws_session() -> Session:
    """The container's boto3 session, for adapters wired outside `deps()` (the money functions'
    idempotency store): one session, so service models are read once."""
    return _boto3_session()


def aws_client(service_name: str, config: Config | None = None) -> Any:
    """A client of the container's session, for adapters wired outside `deps()`. Created under the
    composition root's lock, as every client here is: a boto3 Session is not thread-safe (its clients
    are), and where functions share a process (the local run) two may create clients at once."""
    with _lock:
        return _boto3_session().client(service_name, config=config)  # type: ignore[call-overload]


def _boto3_session() -> Session:
    global _session
    if _session is None:
        with _lock:
            if _session is None:
                import boto3

                _session = boto3.session.Session()
    return _session


class _InvoiceDocuments:
    """The invoice bucket (INVOICE_BUCKET) as a DocumentStore, built on first use: only the invoice PDF
    function ever creates an S3 client."""

    def __init__(self) -> None:
        self._store: DocumentStore | None = None

    def _built(self) -> DocumentStore:
        with _lock:
            if self._store is None:
                from botocore.config import Config

                from selfservice.adapters.s3_documents import S3DocumentStore

                bucket = settings().invoice_bucket
                if bucket is None:
                    raise SettingsError("INVOICE_BUCKET is not set: the function has nowhere to keep invoice PDFs.")
                # SigV4 and virtual-hosted addressing: presigned URLs on the bucket's regional endpoint
                # (botocore keeps path style for an IP endpoint, such as the local run's moto server).
                config = Config(signature_version="s3v4", s3={"addressing_style": "virtual"},
                                retries={"mode": "standard"})
                self._store = S3DocumentStore(bucket, _boto3_session().client("s3", config=config))
            return self._store

    def put_once(self, key: str, data: bytes, content_type: str) -> bool:
        return self._built().put_once(key, data, content_type)

    def exists(self, key: str) -> bool:
        return self._built().exists(key)

    def presigned_download(self, key: str, filename: str, expires_in: int) -> str:
        return self._built().presigned_download(key, filename, expires_in)


def _render_invoice_pdf(invoice: Invoice) -> bytes:
    # Imported on the first render: fpdf2 with fontTools and Pillow is about 0.3 s of imports, which
    # only the invoice PDF function pays.
    from selfservice.adapters.pdf_renderer import render_invoice_pdf

    return render_invoice_pdf(invoice)
