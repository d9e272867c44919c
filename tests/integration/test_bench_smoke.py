"""The benchmark harness (benchmarks/, `make bench`) runs end to end at tiny sizes and writes its report
with every function of template.yaml in it. Nothing here asserts a time: timings belong to the report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from selfservice_local.template import load_template

ROOT = Path(__file__).resolve().parents[2]


def test_the_harness_writes_the_report_with_every_function(tmp_path: Path) -> None:
    out = tmp_path / "benchmarks.md"
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, done.stderr[-4000:]
    report = out.read_text(encoding="utf-8")
    sections = ("## Targets", "## Cold init", "## Warm latency", "## Period-end applier", "## Invoice PDF",
                "## Package sizes")
    assert all(section in report for section in sections), report[:2000]
    assert "date:" in report and "nproc" in report and "Python:" in report
    cold = report.split("## Cold init", 1)[1].split("## Warm latency", 1)[0]
    packages = report.split("## Package sizes", 1)[1]
    assert "| **floor**" in cold
    for function in load_template(ROOT / "template.yaml").functions:
        assert f"| {function} |" in cold, function
        assert f"| {function} | function |" in packages, function
    assert "| DomainLayer | layer |" in packages
    flows = report.split("## Warm latency", 1)[1].split("## Period-end", 1)[0]
    for flow in ("account view", "billing information", "add seats and pay", "renew and pay"):
        assert f"| {flow} |" in flows, flow
    applier = report.split("## Period-end applier", 1)[1].split("## Invoice PDF", 1)[0]
    assert "| end or roll over (no charge) |" in applier or "not yet built" in applier
