"""Cold init of every function of template.yaml against the floor (a fresh interpreter that imports boto3
and creates one DynamoDB client), in the same run, interleaved: each round runs the floor and every
function once, in a fresh interpreter each, so that load on the machine hits all of them alike.

Two ways to run a function:

- as deployed (`deployed_sandbox`): from `sam build`'s output, the way Lambda runs it. The function's
  directory (/var/task), the built layer (/opt/python) with its arm64 compiled extensions swapped for
  this machine's builds of the same versions, and the runtime's boto3; `python -S`, and nothing written
  at run time (PYTHONDONTWRITEBYTECODE: /var/task and /opt are read-only in Lambda), so a module the
  build ships without bytecode is compiled on every cold start, as it is there;
- from the source tree (`SOURCE`): functions/<flow> and the installed `selfservice` in the dev venv.

    python -m benchmarks.coldstart                    # a quick table (both ways if there is a build)
    python -m benchmarks.coldstart --importtime AccountFunction   # the costliest imports of one function
"""

from __future__ import annotations

import argparse
import compileall
import importlib.metadata
import json
import os
import py_compile
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.machine import ROOT, TEMPLATE, fake_aws_environment

PROBE = Path(__file__).with_name("init_probe.py")
FLOOR = "floor"
EDGE_FLOOR = "edge-floor"
PYDANTIC_FLOOR = "pydantic-floor"
PAUSED_FLOOR = "paused-floor"
BUILD = ROOT / ".aws-sam" / "build"
# Names for the settings the functions read; nothing is called, so nothing needs to exist.
SETTINGS = {"TABLE_NAME": "bench-table", "IDEMPOTENCY_TABLE_NAME": "bench-idempotency",
            "INVOICE_BUCKET": "bench-invoices", "EVENT_BUS_NAME": "bench-events", "PAYMENT_GATEWAY": "sandbox"}
# What the Lambda python3.13 runtime provides besides the standard library (boto3 and its dependencies).
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six.py", "urllib3")


@dataclass
class InitSamples:
    name: str
    ms: list[float] = field(default_factory=list)  # CPU time of the init (see init_probe.py)
    wall_ms: list[float] = field(default_factory=list)
    peak_mib: list[float] = field(default_factory=list)
    built: list[str] = field(default_factory=list)
    heavy: list[str] = field(default_factory=list)
    modules: int = 0

    @property
    def median_ms(self) -> float:
        return statistics.median(self.ms)

    @property
    def median_wall_ms(self) -> float:
        return statistics.median(self.wall_ms)

    @property
    def peak(self) -> float:
        return max(self.peak_mib)


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str


@dataclass(frozen=True)
class Mode:
    """How probes run: extra environment, interpreter flags, and where each function's code is."""

    name: str
    env: dict[str, str] = field(default_factory=dict)
    flags: tuple[str, ...] = ()
    build: Path | None = None  # deployed: the function's code is build/<logical id>
    bytecode: bool = True  # deployed: whether the build ships compiled bytecode

    def code_dir(self, spec: FunctionSpec) -> Path:
        return self.build / spec.logical_id if self.build is not None else spec.code_dir


SOURCE = Mode("source tree")


@dataclass
class ColdReport:
    mode: Mode
    floor: InitSamples
    functions: list[InitSamples]
    edge_floor: InitSamples  # the floor + Powertools' validating resolver + pydantic: what no HTTP function avoids
    pydantic_floor: InitSamples  # the floor + pydantic's BaseModel
    paused_floor: InitSamples  # the floor with the collector paused while it loads, as the functions load
    round_floor: list[float] = field(default_factory=list)  # per round: the mean of its first and last floor

    def ratio(self, sample: InitSamples, to: InitSamples | None = None) -> float:
        """The median over the rounds of sample / floor (or / `to`) in the same round: pairs measured
        seconds apart, so that a machine whose speed drifts during the run does not skew the ratio."""
        if to is None:
            return statistics.median(a / b for a, b in zip(sample.ms, self.round_floor, strict=True))
        return statistics.median(a / b for a, b in zip(sample.ms, to.ms, strict=True))


def template_functions(template: Path = TEMPLATE) -> list[FunctionSpec]:
    """Every AWS::Serverless::Function of the template, found by reading it."""
    from selfservice_local.template import load_template

    return [FunctionSpec(f.logical_id, f.code_dir, f.handler) for f in load_template(template).functions.values()]


def probe_environment() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AWS_", "POWERTOOLS_", "PYTHON")) and key not in SETTINGS}
    return env | fake_aws_environment() | SETTINGS


def _run_probe(args: list[str], env: dict[str, str], cwd: Path, python_flags: tuple[str, ...] = ()) -> dict:
    proc = subprocess.run([sys.executable, *python_flags, str(PROBE), *args], env=env, cwd=cwd,  # noqa: S603
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"cold init of {args} failed:\n{proc.stderr[-3000:]}")
    line = next(out for out in proc.stdout.splitlines() if out.startswith("INIT "))
    result: dict = json.loads(line.removeprefix("INIT "))
    result["stderr"] = proc.stderr
    return result


def measure(functions: list[FunctionSpec], runs: int, jobs: int = 1, mode: Mode = SOURCE) -> ColdReport:
    """`runs` rounds; in each, the floor and every function once. `jobs` > 1 runs probes side by side
    (faster, and only fit for checking the harness: they compete for the CPUs)."""
    from concurrent.futures import ThreadPoolExecutor

    env = probe_environment() | mode.env
    floor, edge, pyd = InitSamples(FLOOR), InitSamples(EDGE_FLOOR), InitSamples(PYDANTIC_FLOOR)
    paused = InitSamples(PAUSED_FLOOR)
    references = {FLOOR: floor, EDGE_FLOOR: edge, PYDANTIC_FLOOR: pyd, PAUSED_FLOOR: paused}
    samples = {f.logical_id: InitSamples(f.logical_id) for f in functions}

    def one(spec: FunctionSpec | str) -> tuple[InitSamples, dict]:
        if isinstance(spec, str):
            return references[spec], _run_probe([spec], env, ROOT, mode.flags)
        code = mode.code_dir(spec)
        return samples[spec.logical_id], _run_probe([str(code), spec.handler], env, code, mode.flags)

    round_floor: list[float] = []
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for _ in range(runs):
            # The floor opens and closes each round; the round's floor is the mean of the two.
            for target, result in pool.map(one, [FLOOR, *functions, EDGE_FLOOR, PYDANTIC_FLOOR, PAUSED_FLOOR, FLOOR]):
                target.ms.append(result["cpu_ms"])
                target.wall_ms.append(result["ms"])
                target.peak_mib.append(result["peak_mib"])
                target.built, target.heavy, target.modules = result["built"], result["heavy"], result["modules"]
            round_floor.append((floor.ms[-2] + floor.ms[-1]) / 2)
    return ColdReport(mode, floor, [samples[f.logical_id] for f in functions], edge, pyd, paused, round_floor)


# --- as deployed -------------------------------------------------------------------------------------

def _site_packages() -> Path:
    return Path(sysconfig.get_paths()["purelib"])


def _native_top_levels(dist: str) -> list[str]:
    """The top-level entries (packages, modules, .libs dirs) of an installed distribution."""
    files = importlib.metadata.distribution(dist).files or []
    tops = {Path(str(f)).parts[0] for f in files}
    return sorted(t for t in tops if not t.endswith((".dist-info", ".data")) and t != "..")


def _compiled_distributions(layer: Path) -> dict[str, str]:
    """Distribution name -> version of the layer's packages that carry compiled extensions."""
    found = {}
    for info in layer.glob("*.dist-info"):
        record = info / "RECORD"
        if record.exists() and any(line.split(",")[0].endswith(".so") for line in record.read_text().splitlines()):
            name, _, version = info.name.removesuffix(".dist-info").rpartition("-")
            found[name] = version
    return found


@contextmanager
def deployed_sandbox(build: Path = BUILD, *, enabled: bool = True) -> Iterator[Mode | None]:
    """A copy of the built layer runnable here, or None without a build. The compiled distributions
    (pydantic-core, Pillow, fontTools) are replaced by this machine's install of the same version; if
    the build ships bytecode, they are compiled the same way (checked-hash), else they stay source."""
    layer = build / "DomainLayer" / "python"
    if not enabled or not layer.is_dir() or not (build / "template.yaml").exists():
        yield None
        return
    tmp = Path(tempfile.mkdtemp(prefix="bench-deployed-"))
    try:
        opt = tmp / "opt" / "python"
        shutil.copytree(layer, opt, symlinks=True)
        bytecode = any((opt / "selfservice").rglob("*.pyc"))
        site = _site_packages()
        for dist, version in _compiled_distributions(layer).items():
            installed = importlib.metadata.version(dist)
            if installed != version:
                raise RuntimeError(f"{dist} {version} is in the layer but {installed} here: `make venv`/`pip install "
                                   f"{dist}=={version}` to measure the build")
            for top in _native_top_levels(dist):
                target = opt / top
                if target.is_dir():
                    shutil.rmtree(target)
                elif target.exists():
                    target.unlink()
                source = site / top
                if source.is_dir():
                    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
                    if bytecode:
                        compileall.compile_dir(str(target), quiet=2, stripdir=str(opt), prependdir="/opt/python",
                                               invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
                elif source.exists():
                    shutil.copy2(source, target)
        runtime = tmp / "runtime"
        runtime.mkdir()
        for name in RUNTIME_PROVIDED:
            if (site / name).exists():
                (runtime / name).symlink_to(site / name)
        env = {"PYTHONPATH": os.pathsep.join([str(opt), str(runtime)]), "PYTHONDONTWRITEBYTECODE": "1"}
        yield Mode("as deployed", env, ("-S", "-s"), build, bytecode)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --- -X importtime ----------------------------------------------------------------------------------

def import_profile(spec: FunctionSpec, mode: Mode = SOURCE, top: int = 25) -> str:
    """`python -X importtime` of one cold init: the modules with the largest own import time."""
    code = mode.code_dir(spec)
    result = _run_probe([str(code), spec.handler], probe_environment() | mode.env, code,
                        (*mode.flags, "-X", "importtime"))
    rows = []
    for line in result["stderr"].splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        own, cumulative, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
        if own.isdigit():
            rows.append((int(own), int(cumulative), name))
    rows.sort(reverse=True)
    lines = [f"{spec.logical_id} ({mode.name}): {result['ms']:.0f} ms init, {len(rows)} modules imported"]
    lines += [f"{own / 1000:8.1f} ms own {cumulative / 1000:8.1f} ms cumulative  {name}" for own, cumulative, name in rows[:top]]
    return "\n".join(lines)


def _print(report: ColdReport) -> None:
    floor = report.floor
    print(f"-- {report.mode.name}")
    print(f"{'floor':<28} {floor.median_ms:7.1f} ms         {floor.peak:5.1f} MiB")
    edge = report.edge_floor
    print(f"{'edge floor':<28} {edge.median_ms:7.1f} ms  {report.ratio(edge):5.2f}x  {edge.peak:5.1f} MiB")
    pyd = report.pydantic_floor
    print(f"{'pydantic floor':<28} {pyd.median_ms:7.1f} ms  {report.ratio(pyd):5.2f}x  {pyd.peak:5.1f} MiB")
    paused = report.paused_floor
    print(f"{'floor, collector paused':<28} {paused.median_ms:7.1f} ms  {report.ratio(paused):5.2f}x  "
          f"{paused.peak:5.1f} MiB")
    for sample in report.functions:
        print(f"{sample.name:<28} {sample.median_ms:7.1f} ms  {report.ratio(sample):5.2f}x  "
              f"{sample.peak:5.1f} MiB  {', '.join(sample.heavy)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--importtime", metavar="FUNCTION", help="logical id, or 'all'")
    parser.add_argument("--source-only", action="store_true", help="only from the source tree")
    parser.add_argument("--deployed-only", action="store_true", help="only as deployed (needs make build)")
    args = parser.parse_args()
    functions = template_functions()
    with deployed_sandbox() as deployed:
        modes = [m for m in (SOURCE if not args.deployed_only else None,
                             deployed if not args.source_only else None) if m is not None]
        if args.importtime:
            for mode in modes:
                for spec in functions:
                    if args.importtime in ("all", spec.logical_id):
                        print(import_profile(spec, mode), end="\n\n")
            return
        for mode in modes:
            _print(measure(functions, args.runs, mode=mode))


if __name__ == "__main__":
    main()
