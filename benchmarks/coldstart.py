"""Cold init of every function of template.yaml against the floor (a fresh interpreter that imports boto3
and creates one DynamoDB client), in the same run, interleaved: each round runs the floor and every
function once, in a fresh interpreter each, so that load on the machine hits all of them alike.

    python -m benchmarks.coldstart                    # a quick table
    python -m benchmarks.coldstart --importtime AccountFunction   # the costliest imports of one function
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.machine import ROOT, TEMPLATE, fake_aws_environment

PROBE = Path(__file__).with_name("init_probe.py")
FLOOR = "floor"
# Names for the settings the functions read; nothing is called, so nothing needs to exist.
SETTINGS = {"TABLE_NAME": "bench-table", "IDEMPOTENCY_TABLE_NAME": "bench-idempotency",
            "INVOICE_BUCKET": "bench-invoices", "EVENT_BUS_NAME": "bench-events", "PAYMENT_GATEWAY": "sandbox"}


@dataclass
class InitSamples:
    name: str
    ms: list[float] = field(default_factory=list)
    peak_mib: list[float] = field(default_factory=list)
    built: list[str] = field(default_factory=list)
    heavy: list[str] = field(default_factory=list)
    modules: int = 0

    @property
    def median_ms(self) -> float:
        return statistics.median(self.ms)

    @property
    def peak(self) -> float:
        return max(self.peak_mib)


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str


def template_functions(template: Path = TEMPLATE) -> list[FunctionSpec]:
    """Every AWS::Serverless::Function of the template, found by reading it."""
    from selfservice_local.template import load_template

    return [FunctionSpec(f.logical_id, f.code_dir, f.handler) for f in load_template(template).functions.values()]


def probe_environment() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AWS_", "POWERTOOLS_")) and key not in SETTINGS}
    return env | fake_aws_environment() | SETTINGS


def _run_probe(args: list[str], env: dict[str, str], cwd: Path, python_flags: tuple[str, ...] = ()) -> dict:
    proc = subprocess.run([sys.executable, *python_flags, str(PROBE), *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"cold init of {args} failed:\n{proc.stderr[-3000:]}")
    line = next(out for out in proc.stdout.splitlines() if out.startswith("INIT "))
    result: dict = json.loads(line.removeprefix("INIT "))
    if python_flags:
        result["stderr"] = proc.stderr
    return result


def measure(functions: list[FunctionSpec], runs: int) -> tuple[InitSamples, list[InitSamples]]:
    env = probe_environment()
    floor = InitSamples(FLOOR)
    samples = {f.logical_id: InitSamples(f.logical_id) for f in functions}
    for _ in range(runs):
        for spec in [None, *functions]:
            if spec is None:
                target, result = floor, _run_probe([FLOOR], env, ROOT)
            else:
                target = samples[spec.logical_id]
                result = _run_probe([str(spec.code_dir), spec.handler], env, spec.code_dir)
            target.ms.append(result["ms"])
            target.peak_mib.append(result["peak_mib"])
            target.built, target.heavy, target.modules = result["built"], result["heavy"], result["modules"]
    return floor, [samples[f.logical_id] for f in functions]


def import_profile(spec: FunctionSpec, top: int = 25) -> str:
    """`python -X importtime` of one cold init: the modules with the largest own import time."""
    result = _run_probe([str(spec.code_dir), spec.handler], probe_environment(), spec.code_dir, ("-X", "importtime"))
    rows = []
    for line in result["stderr"].splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        own, cumulative, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
        if own.isdigit():
            rows.append((int(own), int(cumulative), name))
    rows.sort(reverse=True)
    lines = [f"{spec.logical_id}: {result['ms']:.0f} ms init, {len(rows)} modules imported"]
    lines += [f"{own / 1000:8.1f} ms own {cumulative / 1000:8.1f} ms cumulative  {name}" for own, cumulative, name in rows[:top]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--importtime", metavar="FUNCTION", help="logical id, or 'all'")
    args = parser.parse_args()
    functions = template_functions()
    if args.importtime:
        for spec in functions:
            if args.importtime in ("all", spec.logical_id):
                print(import_profile(spec), end="\n\n")
        return
    floor, results = measure(functions, args.runs)
    print(f"{'floor':<28} {floor.median_ms:7.1f} ms  {floor.peak:5.1f} MiB")
    for sample in results:
        print(f"{sample.name:<28} {sample.median_ms:7.1f} ms  {sample.median_ms / floor.median_ms:5.2f}x  "
              f"{sample.peak:5.1f} MiB  {', '.join(sample.heavy)}")


if __name__ == "__main__":
    main()
