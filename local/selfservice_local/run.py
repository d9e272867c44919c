"""The local run, start to stop: moto server with the template's resources, the environment that
points the handlers at it, the shared test clock, the handlers imported from their CodeUri, demo data
through the provisioning function, the table's stream feeding the outbox publisher, and the HTTP
server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from selfservice import bootstrap

from selfservice_local.auth import DEFAULT_AUDIENCE, JwtAuthority, SigningKey
from selfservice_local.aws import (
    HOST,
    MotoEmulation,
    apply_environment,
    aws_environment,
    create_resources,
    function_environment,
    template_parameters,
)
from selfservice_local.bus_tap import BusTap
from selfservice_local.clock import OffsetClock
from selfservice_local.functions import Invocation, LocalFunctions
from selfservice_local.local_routes import LocalRoutes
from selfservice_local.portal import PortalFiles
from selfservice_local.resources import shared_session
from selfservice_local.schedule import Schedule, Scheduler, rate_seconds, scheduled_event
from selfservice_local.seed import SeededTenant, seed_demo_tenants
from selfservice_local.server import LocalHTTPServer, RequestLog
from selfservice_local.stream import Delivery, StreamPoller, build_feeds
from selfservice_local.template import RouteTable, Template, load_template

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def default_template() -> Path:
    here = Path.cwd() / "template.yaml"
    return here if here.is_file() else PROJECT_ROOT / "template.yaml"


@dataclass(frozen=True, slots=True)
class Options:
    port: int = 3000  # 0: a free port
    moto_port: int = 0  # 0: a free port (5000, moto's usual one, is taken by AirPlay on macOS)
    template: Path = field(default_factory=default_template)
    state_dir: Path | None = None  # default: .local/ next to the template
    region: str = "eu-north-1"
    stack_name: str = "selfservice-local"
    audience: str = DEFAULT_AUDIENCE
    seed: bool = True
    schedules: bool = True  # run rate() schedules (the period-end applier) in the background
    verbose: bool = False  # keep the handlers' own (Powertools) logs in the terminal


class StartError(RuntimeError):
    """The local run cannot start; the message says why and what to do."""


class LocalRun:
    def __init__(self, options: Options, out: TextIO = sys.stdout) -> None:
        self.options = options
        self.out = out
        self.host = HOST
        self.region = options.region
        self.template: Template = load_template(options.template)
        self.routes = RouteTable(self.template.routes)
        self.state_dir = options.state_dir or self.template.path.parent / ".local"
        self.aws = MotoEmulation(options.moto_port, HOST)
        self.clock = OffsetClock()
        self.functions = LocalFunctions(self.template, options.stack_name, options.region)
        self.resources: dict[str, str] = {}
        self.seeded: list[SeededTenant] = []
        self.warnings: list[str] = []
        self.log = RequestLog(out, out.isatty())
        # The schedules run on the local clock: moving it past a term end runs the applier.
        self.scheduler = Scheduler(self._rate_schedules(), self.invoke_scheduled, self._report_scheduled,
                                   now=self.clock.now)
        self.stream: StreamPoller | None = None  # the table's stream -> the publisher, from start()
        self.bus_tap: BusTap | None = None  # a consumer's view of the bus, for GET /_local/events
        self._http: LocalHTTPServer | None = None
        self._serving: threading.Thread | None = None
        self._authority: JwtAuthority | None = None
        self.local_routes = LocalRoutes(self)
        self.portal = PortalFiles(self.template.path.parent / "portal")

    # -- what the routes read --------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._http is None:
            raise RuntimeError("not started")
        return int(self._http.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def authority(self) -> JwtAuthority:
        if self._authority is None:
            raise RuntimeError("not started")
        return self._authority

    @property
    def period_end_function(self) -> str | None:
        """The applier: the template's scheduled function (SPEC 2.9), once it exists."""
        scheduled = self.template.scheduled_functions()
        if not scheduled:
            return None
        named = [f for f in scheduled if "period" in f.logical_id.lower() or "period" in f.code_dir.name]
        return (named or scheduled)[0].logical_id

    def invoke_scheduled(self, logical_id: str) -> Invocation:
        """Invoke a scheduled function as its EventBridge schedule does, at the local clock's time."""
        event = scheduled_event(self.functions.physical_name(logical_id), self.region, self.clock.now())
        return self.functions.invoke(logical_id, event)

    def run_period_end_now(self, why: str) -> Invocation | None:
        """Run the applier at once, as its schedule would (its interval starts again); None without one."""
        logical_id = self.period_end_function
        if logical_id is None:
            return None
        invocation = self.scheduler.run_now(logical_id)
        self.log.line("EVENT", why, 200, invocation.elapsed_ms, logical_id, _summary_note(invocation.result))
        return invocation

    def _rate_schedules(self) -> list[Schedule]:
        found = []
        for function in self.template.scheduled_functions():
            for expression in function.schedules:
                seconds = rate_seconds(expression)
                if seconds is None:
                    self.warnings.append(f"{function.logical_id}: {expression} runs only on demand locally "
                                         "(POST /_local/period-end/run)")
                else:
                    found.append(Schedule(function.logical_id, expression, seconds))
        return found

    def _report_scheduled(self, schedule: Schedule, invocation: Invocation | None, ms: float) -> None:
        status = 500 if invocation is None else 200
        self.log.line("EVENT", schedule.expression, status, ms, schedule.function,
                      _summary_note(invocation.result) if invocation else "it raised")

    def _report_delivery(self, delivery: Delivery) -> None:
        trigger = delivery.feed.trigger
        self.log.line("STREAM", f"{trigger.table} stream", 500 if delivery.failed else 200, delivery.ms,
                      delivery.feed.function.logical_id, delivery.note)

    def _connect_streams(self) -> None:
        """The stream triggers of the template, and a rule + queue on the bus that records what it carries."""
        session, endpoint, region = shared_session(), self.aws.endpoint_url, self.region
        sqs = session.client("sqs", endpoint_url=endpoint, region_name=region)
        bus = self.resources.get("EventBus")
        if bus is not None:
            self.bus_tap = BusTap(session.client("events", endpoint_url=endpoint, region_name=region), sqs, bus)
            self.bus_tap.install()
        functions = self.template.stream_functions()
        if functions:
            streams = session.client("dynamodbstreams", endpoint_url=endpoint, region_name=region)
            feeds = build_feeds(functions, self.resources,
                                session.client("dynamodb", endpoint_url=endpoint, region_name=region), streams, sqs)
            self.stream = StreamPoller(feeds, streams, sqs, region, self.functions.invoke, self._report_delivery)

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Everything but serving: on return the port is bound and the demo data is in."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        self.aws.start()
        parameters = template_parameters(self.template.parameters, {})
        # Bind first: the issuer names the port, and port 0 means "tell me which".
        try:
            self._http = LocalHTTPServer((self.host, self.options.port), self, self.log)
        except OSError as exc:
            raise StartError(f"port {self.options.port} on {self.host} is taken ({exc.strerror}): "
                             "choose another with --port or PORT") from None
        parameters.update({"JwtIssuer": f"{self.base_url}/_local", "JwtAudience": self.options.audience})
        # The environment comes before the first handler import: the composition root reads it once.
        apply_environment(aws_environment(self.aws.endpoint_url, self.region))
        self.resources = create_resources(self.template, self.aws.endpoint_url, self.region)
        variables, warnings = function_environment(self.template, self.resources, parameters)
        self.warnings.extend(warnings)
        if not self.options.verbose:
            variables["POWERTOOLS_LOG_LEVEL"] = "WARNING"
        variables.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
        variables.setdefault("POWERTOOLS_METRICS_NAMESPACE", "selfservice-local")
        apply_environment(variables)
        self._authority = JwtAuthority(
            SigningKey.load_or_create(self.state_dir), parameters["JwtIssuer"], self.options.audience,
            tenant_claim=os.environ.get("TENANT_CLAIM") or "tenant_id",
            roles_claim=os.environ.get("ROLES_CLAIM") or "roles",
        )
        bootstrap.reset()  # settings and clients are read on first use, from the environment set above
        bootstrap.override(clock=self.clock)
        self.functions.load_all()
        self._connect_streams()
        if self.options.seed:
            self.seeded = seed_demo_tenants(self)

    def serve_in_background(self) -> None:
        if self._http is None:
            raise RuntimeError("start() first")
        self._serving = threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.1},
                                         name="local-http", daemon=True)
        self._serving.start()
        if self.options.schedules:
            self.scheduler.start()
        if self.stream is not None:
            self.stream.start()

    def stop(self) -> None:
        self.scheduler.stop()
        if self.stream is not None:
            self.stream.stop()
        if self._http is not None:
            if self._serving is not None:
                self._http.shutdown()
                self._serving.join(5)
            self._http.server_close()
            self._http = None
            self._serving = None
        self.aws.stop()

    def write_ready_file(self, path: Path) -> None:
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps({"base_url": self.base_url, "aws_endpoint_url": self.aws.endpoint_url,
                                   "pid": os.getpid()}))
        tmp.replace(path)


def _summary_note(result: object) -> str:
    """The applier's summary in a few words for the terminal line: what it did, nothing when idle."""
    if not isinstance(result, dict):
        return ""
    done = [f"{result[key]} {key.replace('_', ' ')}" for key in (
        "renewed", "rolled_over", "ended", "past_due", "retried", "reactivated", "reconciled", "payment_pending",
        "failed") if isinstance(result.get(key), int) and result[key]]
    if result.get("remaining"):
        done.append("more left for the next run")
    return ", ".join(done)
