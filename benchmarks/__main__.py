"""`make bench`: every benchmark, then docs/benchmarks.md.

    python -m benchmarks                    # the full run (cold init 9 runs, 50 calls per flow, 2,000 due)
    BENCH_LARGE=1 python -m benchmarks      # the applier with 20,000 due subscriptions
    python -m benchmarks --quick --out /tmp/bench.md   # tiny sizes (the smoke test)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from benchmarks import applier, coldstart, flows, packages, pdf
from benchmarks.machine import ROOT, describe
from benchmarks.report import Results, render, targets

FULL = {"cold_runs": 9, "calls": 50, "applier": 2000, "applier_charged": 200, "pdf_renders": 20, "jobs": 1}
LARGE = {"applier": 20000, "applier_charged": 2000}
QUICK = {"cold_runs": 1, "calls": 2, "applier": 20, "applier_charged": 1, "pdf_renders": 2, "jobs": 2}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the harness, measures nothing")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)
    sizes = dict(QUICK if args.quick else FULL)
    if os.environ.get("BENCH_LARGE") == "1" and not args.quick:
        sizes |= LARGE
    machine = describe()

    def step(name: str) -> None:
        print(f"[bench] {time.strftime('%H:%M:%S')} {name}", file=sys.stderr, flush=True)

    functions = coldstart.template_functions()
    cold: list[coldstart.ColdReport] = []
    # --quick: from the source tree only (the as-deployed copy of the build is the slow part to set up).
    with coldstart.deployed_sandbox(enabled=not args.quick) as deployed:
        modes = [m for m in (deployed, coldstart.SOURCE) if m is not None]
        for mode in modes:
            step(f"cold init ({mode.name}): the floors and {len(functions)} functions x {sizes['cold_runs']}")
            cold.append(coldstart.measure(functions, sizes["cold_runs"], jobs=sizes["jobs"], mode=mode))
    with flows.aws_emulation() as settings:
        handlers = flows.Handlers(settings)
        step(f"warm flows: {sizes['calls']} calls each")
        flow_report = flows.measure(sizes["calls"], handlers)
        step(f"applier: {sizes['applier']} due (+ {sizes['applier_charged']} renewals that charge)")
        applier_report = applier.measure(handlers, sizes["applier"], sizes["applier_charged"])
    step("invoice PDF")
    pdf_report = pdf.measure(sizes["pdf_renders"])
    step("package sizes")
    package_sizes = packages.measure([f.logical_id for f in functions], fast=args.quick)
    note = None
    if all(size.zipped is None for size in package_sizes):
        note = "No `sam build` output: run `make build` (`make bench` does) for the package sizes."
    elif packages.build_is_stale():
        note = "Note: the build is older than some source file; `make build` refreshes it."
    results = Results(machine, sizes, cold, flow_report, applier_report, pdf_report, package_sizes, note)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(results), encoding="utf-8")
    step(f"written {args.out}")
    for name, measured, ok in targets(results):
        print(f"{'met    ' if ok else 'NOT MET'}  {name}: {measured}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
