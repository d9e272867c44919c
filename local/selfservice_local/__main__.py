"""`python -m selfservice_local`: the whole product on 127.0.0.1, without Docker. Ctrl-C stops it."""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TextIO

from selfservice_local.aws import EmulationError
from selfservice_local.functions import FunctionLoadError
from selfservice_local.run import LocalRun, Options, StartError, default_template
from selfservice_local.seed import SeedError
from selfservice_local.template import TemplateError

START_ERRORS = (StartError, EmulationError, FunctionLoadError, SeedError, TemplateError)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m selfservice_local",
        description="Run the self-service API locally: moto for AWS, the template's routes on 127.0.0.1.",
    )
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")),
                        help="HTTP port of the API (default: $PORT or 3000; 0 picks a free one)")
    parser.add_argument("--moto-port", type=int, default=int(os.environ.get("MOTO_PORT", "0")),
                        help="port of the moto server (default: $MOTO_PORT or a free one)")
    parser.add_argument("--host", choices=["127.0.0.1"], default="127.0.0.1",
                        help="always 127.0.0.1: the local run is never reachable from the network")
    parser.add_argument("--template", type=Path, default=default_template(), help="the SAM template")
    parser.add_argument("--state-dir", type=Path, default=None,
                        help="where the JWT signing key is kept (default: .local/ next to the template)")
    parser.add_argument("--no-seed", action="store_true", help="start without the demo tenants")
    parser.add_argument("--no-schedules", action="store_true",
                        help="do not run the template's rate() schedules; POST /_local/period-end/run still works")
    parser.add_argument("--verbose", action="store_true", help="show the handlers' own logs as well")
    parser.add_argument("--ready-file", type=Path, default=None,
                        help="write {base_url, aws_endpoint_url, pid} as JSON here once serving (for scripts)")
    return parser.parse_args(argv)


def banner(run: LocalRun, out: TextIO) -> None:
    base = run.base_url
    lines = [
        "",
        "Self-service API, running locally (moto for AWS, no Docker)",
        "",
        *([f"  Portal         {base}/  (open it in a browser; sign in as a demo tenant)"] if run.portal.available else []),
        f"  API            {base}",
        f"  Local routes   {base}/_local  (health, tenants, tokens, clock, period-end/run, events)",
    ]
    if any(r.path == "/openapi.json" for r in run.template.routes):
        lines.append(f"  OpenAPI        {base}/openapi.json")
    resources = ", ".join(f"{logical} {name}" for logical, name in run.resources.items())
    lines += [
        f"  AWS (moto)     {run.aws.endpoint_url}  ({resources})",
        f"  JWT            issuer {run.authority.issuer}, audience {run.authority.audience}, "
        f"key in {run.state_dir}",
        f"  Clock          {run.clock.now():%Y-%m-%d %H:%M:%S} UTC  (POST {base}/_local/clock to move it)",
    ]
    for schedule in run.scheduler.schedules if run.options.schedules else ():
        lines.append(f"  Schedule       {schedule.function} every {schedule.expression}")
    for feed in run.stream.feeds if run.stream else ():
        lines.append(f"  Stream         {feed.trigger.table} -> {feed.function.logical_id}, "
                     f"what the bus carried: GET {base}/_local/events")
    for warning in run.warnings:
        lines.append(f"  warning: {warning}")
    if run.seeded:
        lines += ["", "Demo tenants"]
        for tenant in run.seeded:
            via = f", via {tenant.managed_by['name']}" if tenant.managed_by and tenant.channel == "reseller" else ""
            lines.append(f"  {tenant.tenant_id:<28} {tenant.edition:<10} {tenant.plan_id:<22} "
                         f"SAO {tenant.sao_subject:<22} {tenant.name}{via}")
        first = next((t for t in run.seeded if t.edition == "business" and t.channel == "direct"), run.seeded[0])
        token, _ = run.authority.mint(first.tenant_id, first.sao_subject, ["service_account_owner"])
        token_request = shlex.quote(f'{{"tenant_id": "{first.tenant_id}"}}')
        lines += [
            "",
            f"Try it (a token for the SAO of {first.name}, valid for one hour):",
            f'  curl -s {base}/account -H "Authorization: Bearer {token}"',
            "",
            "A fresh token any time:",
            f"  TOKEN=$(curl -s -X POST {base}/_local/tokens -d {token_request} "
            "| python3 -c 'import json,sys; print(json.load(sys.stdin)[\"token\"])')",
            f'  curl -s {base}/account -H "Authorization: Bearer $TOKEN"',
            "",
            f"The demo journeys: python -m selfservice_local.demo --base-url {base}",
        ]
    lines += ["", "Ctrl-C stops everything.", ""]
    out.write("\n".join(lines) + "\n")
    out.flush()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    options = Options(port=args.port, moto_port=args.moto_port, template=args.template, state_dir=args.state_dir,
                      seed=not args.no_seed, schedules=not args.no_schedules, verbose=args.verbose)
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    print("Starting the local run ...", flush=True)
    try:
        run = LocalRun(options)
        run.start()
    except START_ERRORS as exc:
        print(f"Cannot start: {exc}", file=sys.stderr)
        return 1
    run.serve_in_background()
    banner(run, sys.stdout)
    if args.ready_file is not None:
        run.write_ready_file(args.ready_file)
    while not stop.wait(0.5):
        pass
    # A second Ctrl-C while stopping ends the process at once.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    print("\nStopping ...", flush=True)
    run.stop()
    print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything is stopped and every port closed by now. Skip the interpreter's teardown: freeing
    # moto's in-memory AWS object by object takes seconds, which is all the user would see of it.
    os._exit(code)
