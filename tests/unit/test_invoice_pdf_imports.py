"""fpdf2 (with fontTools and Pillow, about 0.3 s of imports) is for the invoice PDF function only: no
other function's cold start imports it, nor does building the OpenAPI document of every route, nor
does the invoice PDF function itself before its first render."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PDF_MODULES = ("fpdf", "fontTools", "PIL")

_PROBE = """
import importlib.util, json, sys
from pathlib import Path

def heavy():
    return sorted({name.split(".")[0] for name in sys.modules} & set(PDF_MODULES))

seen = {}
for app in sorted(Path("functions").glob("*/app.py")):
    spec = importlib.util.spec_from_file_location(f"fn_{app.parent.name}", app)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    seen[app.parent.name] = heavy()

from selfservice.http.app import openapi_document
openapi_document()
seen["openapi_document"] = heavy()
print(json.dumps(seen))
"""


def test_no_cold_start_imports_the_pdf_library() -> None:
    probe = f"PDF_MODULES = {PDF_MODULES!r}\n{_PROBE}"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"PATH": "", "POWERTOOLS_SERVICE_NAME": "selfservice"})

    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert "invoice_pdf" in seen and "account" in seen
    assert all(modules == [] for modules in seen.values()), seen
