"""docs/benchmarks.md: the tables, the targets and whether each is met."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from benchmarks.applier import ApplierReport
    from benchmarks.coldstart import ColdReport
    from benchmarks.flows import FlowsReport
    from benchmarks.packages import PackageSize
    from benchmarks.pdf import PdfReport

COLD_TARGET = 1.3
APPLIER_TARGET = 1.5
# The PDF renderer is exempt from the cold-init target (its library is the point of the function).
COLD_EXEMPT = frozenset({"InvoicePdfFunction"})


@dataclass
class Results:
    machine: dict[str, str]
    sizes: dict[str, int]
    cold: list[ColdReport]  # as deployed (if there is a build) first, then from the source tree
    flows: FlowsReport
    applier: ApplierReport
    pdf: PdfReport
    packages: list[PackageSize]
    build_note: str | None = None


def _yes(ok: bool) -> str:
    return "yes" if ok else "**no**"


def _mib(size: int | None) -> str:
    if size is None:
        return "-"
    return f"{size / 1024:.1f} KiB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.2f} MiB"


def _edge_range(report: ColdReport) -> str:
    ratios = [report.ratio(s, report.edge_floor) for s in report.functions
              if "aws_lambda_powertools.event_handler" in s.heavy and s.name not in COLD_EXEMPT]
    return f"{min(ratios):.2f}-{max(ratios):.2f}x" if ratios else "-"


def targets(r: Results) -> list[tuple[str, str, bool]]:
    rows: list[tuple[str, str, bool]] = []
    primary = r.cold[0]
    floor = primary.floor.median_ms
    judged = [s for s in primary.functions if s.name not in COLD_EXEMPT]
    over = [s for s in judged if primary.ratio(s) > COLD_TARGET]
    worst = max(judged, key=primary.ratio)
    measured = f"{primary.mode.name}: worst {primary.ratio(worst):.2f}x ({worst.name}); floor {floor:.0f} ms"
    if over:
        measured += f"; over: {len(over)} of {len(judged)} ({', '.join(s.name for s in over)})"
        edge = primary.ratio(primary.edge_floor)
        pyd = primary.ratio(primary.pydantic_floor)
        if any("aws_lambda_powertools.event_handler" in s.heavy for s in over) and edge > COLD_TARGET:
            measured += (f". Why: the edge floor alone (boto3 + Powertools' validating resolver + pydantic, "
                         f"none of our code) is {edge:.2f}x; the HTTP functions add "
                         f"{_edge_range(primary)} on top of it")
        if any("pydantic" in s.heavy and "aws_lambda_powertools.event_handler" not in s.heavy for s in over):
            measured += f"; the pydantic floor (boto3 + pydantic's BaseModel) is {pyd:.2f}x"
    rows.append((f"cold init of every function except the PDF renderer <= {COLD_TARGET}x the floor", measured,
                 not over))
    flows = {f.name: f for f in r.flows.flows}
    view = flows.get("account view")
    if view is not None:
        rows.append(("account view: one Query", view.calls.describe() if view.calls else "-",
                     view.store == 1 and view.total_calls == 1))
    changes = [f for f in r.flows.flows if f.minimum.store == 2 and f.minimum.total == 2]
    over = [f for f in changes if not f.calls_met]
    rows.append(("each change: one read + one transaction",
                 f"{len(changes) - len(over)} of {len(changes)} flows at 1 Query + 1 TransactWriteItems"
                 + (f"; over: {', '.join(f.name for f in over)}" if over else ""), not over))
    money = [f for f in r.flows.flows if f.minimum.gateway]
    if money:
        over = [f for f in money if not f.calls_met]
        rows.append(("money flows: a change + the gateway + what paying needs (see the minimum below)",
                     "; ".join(f"{f.name}: {f.against_minimum()}" for f in money),
                     not over))
    if r.applier.missing:
        rows.append((f"period-end applier <= {APPLIER_TARGET}x its floor", r.applier.missing, False))
    elif r.applier.runs:
        main = r.applier.runs[0]
        rows.append((f"period-end applier <= {APPLIER_TARGET}x its floor ({main.scenario})",
                     f"{main.ratio:.2f}x, {main.calls_per_subscription:.2f} AWS calls per subscription",
                     main.ratio <= APPLIER_TARGET))
    return rows


def render(r: Results) -> str:
    m = r.machine
    out: list[str] = []
    add = out.append
    add("# Benchmarks")
    add("")
    add("Written by `make bench` (`python -m benchmarks`, the harness in `benchmarks/`). Every number is "
        "measured against its floor, the least any implementation could do on the same machine, in the same "
        "run: ratios are what to compare between runs, absolute times depend on the machine and its load.")
    add("")
    add(f"- date: {m['date']}")
    add(f"- machine: {m['nproc']} CPUs (nproc), {m['cpu']}, {m['platform']}; load average at start {m['load']}")
    add(f"- Python: {m['python']}")
    add("- sizes: " + ", ".join(f"{k} {v}" for k, v in r.sizes.items()))
    add("")
    add("## Targets")
    add("")
    add("| target | measured | met |")
    add("| --- | --- | --- |")
    for name, measured, ok in targets(r):
        add(f"| {name} | {measured} | {_yes(ok)} |")
    add("")

    add("## Cold init")
    add("")
    add("A fresh interpreter per run, in rounds: the floor, every function, the three reference floors, the floor "
        "again; a ratio is the median over the rounds of the time over that round's floor (the mean of its "
        "two), so that drift in the machine's speed during the run cancels out. Each run: import the handler's module and build what the first invocation builds before its "
        "business logic (the composition root's clients; nothing is called). Time from the probe's first "
        "line (`benchmarks/init_probe.py`); the interpreter's own start-up is the same for all and not "
        "counted. Peak memory: the process's peak RSS (VmHWM). The floor: `import boto3; "
        "boto3.client('dynamodb')`. The edge floor: the floor plus what every HTTP function's edge is made "
        "of and none of ours, Powertools' `APIGatewayHttpResolver(enable_validation=True)` with its OpenAPI "
        "parameter models, and pydantic. The pydantic floor: the floor plus pydantic's `BaseModel` (the "
        "provisioning function validates its payload with it). Every function loads its modules with the "
        "garbage collector paused (`selfservice/coldstart.py`: the collector would otherwise make dozens of "
        "passes over the objects being loaded, none of them garbage), and so do the edge and pydantic floors, "
        "which stand for parts of the functions; the floor itself is measured as defined, and once more with "
        "the collector paused, to show how little pausing is worth to it. Times are the probe process's CPU time "
        "(equal to wall time on an idle machine for this single-threaded work, and steadier when other "
        "processes compete for the CPUs); the wall-time medians are in the last column.")
    add("")
    for report in r.cold:
        floor, edge = report.floor, report.edge_floor
        if report.mode.build is not None:
            add(f"### As deployed (from `.aws-sam/build`{', with its bytecode' if report.mode.bytecode else ', no bytecode'})")
            add("")
            add("The function's directory, the built layer (its arm64 compiled extensions swapped for this "
                "machine's build of the same version) and the runtime's boto3, `python -S`, nothing written at "
                "run time (Lambda's /var/task and /opt are read-only: a module shipped without bytecode is "
                "compiled on every cold start).")
        else:
            add("### From the source tree (the dev venv)")
        add("")
        add(f"| function | CPU ms (median) | ratio | ratio to the edge floor | peak MiB | builds | heavy imports "
            f"| <= {COLD_TARGET}x | wall ms |")
        add("| --- | ---: | ---: | ---: | ---: | --- | --- | --- | ---: |")
        pyd = report.pydantic_floor
        references = [("**floor** (boto3 + one DynamoDB client)", floor, "-"),
                      ("**edge floor** (+ Powertools resolver with validation + pydantic)", edge, "1.00"),
                      ("**pydantic floor** (+ pydantic's BaseModel)", pyd, "-"),
                      ("*reference: the floor, collector paused*", report.paused_floor, "-")]
        for label, ref, edge_ratio in references:
            ratio = "1.00" if ref is floor else f"{report.ratio(ref):.2f}"
            add(f"| {label} | {ref.median_ms:.0f} | {ratio} | {edge_ratio} | "
                f"{ref.peak:.1f} | {', '.join(ref.built)} | {', '.join(ref.heavy) or '-'} | - | "
                f"{ref.median_wall_ms:.0f} |")
        for s in report.functions:
            ratio = report.ratio(s)
            target = "exempt" if s.name in COLD_EXEMPT else _yes(ratio <= COLD_TARGET)
            edge_ratio = f"{report.ratio(s, edge):.2f}" if "aws_lambda_powertools.event_handler" in s.heavy else "-"
            add(f"| {s.name} | {s.median_ms:.0f} | {ratio:.2f} | {edge_ratio} | {s.peak:.1f} | "
                f"{', '.join(s.built) or '-'} | {', '.join(s.heavy) or '-'} | {target} | {s.median_wall_ms:.0f} |")
        add("")

    f = r.flows
    add("## Warm latency and AWS calls of the HTTP flows")
    add("")
    add(f"Each flow through its function's `lambda_handler` (warm: one untimed call first), {r.sizes.get('calls', 0)} "
        "timed calls, against a moto server in its own process (`benchmarks/moto_server.py`, which says what "
        "it changes in moto and why). The floor: one bare consistent GetItem on the same server; for "
        "reference, the bare Query the account view makes (a read flow's time above it is the handler's "
        "own: routing, validation, the service and the presenters). AWS calls are counted with botocore's `before-call` "
        "hook and classified: the tenant's data (store), the sandbox gateway's items (a real gateway is one "
        "HTTP call), the idempotency table, the abuse limits' attempt counter.")
    add("")
    add("| flow | route | median ms | p95 ms | ratio (median) | AWS calls | minimum | at minimum |")
    add("| --- | --- | ---: | ---: | ---: | --- | --- | --- |")
    add(f"| **floor** (one GetItem) | - | {f.floor_median:.1f} | {f.floor_p95:.1f} | 1.0 | 1 | - | - |")
    if f.query_ms:
        add(f"| *reference: the account view's Query, bare* | - | {f.query_median:.1f} | {f.query_p95:.1f} | "
            f"{f.query_median / f.floor_median:.1f} | 1 | - | - |")
    for flow in f.flows:
        calls = flow.calls.describe() if flow.calls else "-"
        add(f"| {flow.name} | `{flow.route}` | {flow.median_ms:.1f} | {flow.p95_ms:.1f} | "
            f"{flow.median_ms / f.floor_median:.1f} | {flow.total_calls}: {calls} | {flow.minimum.total}: "
            f"{flow.minimum.why} | {_yes(flow.calls_met)} |")
    add("")
    add("The minimum of a paying flow is more than one read and one transaction, and each part is needed: "
        "the pending payment is written before the card is charged (the lock against a second payment and "
        "the resume point: a crash between charge and commit must leave a trace, or the money is lost); the "
        "invoice number is read because the gapless number is taken inside the transaction conditioned on "
        "the last one; the gateway is one charge (the sandbox gateway, on the same table, spends three "
        "DynamoDB calls on it: the replay check, the token, the charge record); Powertools writes the "
        "idempotency record before the work (in progress, the guard against a concurrent duplicate) and "
        "after it (the response to replay); the abuse limit counts the attempt (one conditional update).")
    add("")

    add("## Period-end applier")
    add("")
    if r.applier.missing:
        add(f"Not measured: {r.applier.missing}.")
    else:
        add("The PeriodEndFunction's handler works through the due-work index (16 shards, pages of 100) and "
            "takes each due subscription one step. The floor: the same number of bare TransactWriteItems of "
            "the same shape (two conditional Puts, a subscription item and an audit record), half before and "
            "half after the applier on the same server.")
        add("")
        add(f"| scenario | subscriptions | seconds | subscriptions/s | floor transactions/s | ratio | "
            f"AWS calls per subscription | calls | <= {APPLIER_TARGET}x |")
        add("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
        for i, run in enumerate(r.applier.runs):
            target = _yes(run.ratio <= APPLIER_TARGET) if i == 0 else "no target"
            add(f"| {run.scenario} | {run.subscriptions} | {run.seconds:.2f} | {run.per_second:.0f} | "
                f"{run.floor_per_second:.0f} | {run.ratio:.2f} | {run.calls_per_subscription:.2f} | "
                f"{run.calls.describe()} | {target} |")
        add("")
        add("A renewal that charges needs, per subscription: the tenant's Query (users for the seat floor, the "
            "default card, billing information), the invoice number (GetItem), one transaction issuing the "
            "invoice with its first charge under way, the gateway's charge (the sandbox: three calls), and one "
            "transaction recording the payment; no target applies to it.")
    add("")

    p = r.pdf
    add("## Invoice PDF")
    add("")
    add("| render, median of warm renders | first render in a fresh interpreter (fpdf2 import + fonts + render) | size |")
    add("| ---: | ---: | ---: |")
    add(f"| {p.median_ms:.1f} ms ({p.renders} renders) | {p.first_ms:.0f} ms | {p.size_bytes / 1024:.1f} KiB |")
    add("")

    add("## Package sizes")
    add("")
    if r.build_note:
        add(r.build_note)
        add("")
    add("From `.aws-sam/build` (`make build`), with the bytecode it compiles; zipped with deflate as `sam deploy` "
        "uploads them. Lambda allows 250 MiB unzipped for a function and its layers together. Every function "
        "is its handler module only: the code is in the layer, which every function loads.")
    add("")
    add("| package | kind | zipped | unzipped | files |")
    add("| --- | --- | ---: | ---: | ---: |")
    for size in r.packages:
        if size.zipped is None:
            add(f"| {size.name} | {size.kind} | not built | - | - |")
        else:
            add(f"| {size.name} | {size.kind} | {_mib(size.zipped)} | {_mib(size.unzipped)} | {size.files} |")
    add("")
    return "\n".join(out)
