"""Packaging proof: every function of `sam build`'s output runs from the built artifacts alone
(its code plus the built layer), on its events/ fixture, against a moto server.

The built layer holds arm64 wheels; to run here, the layer's pinned requirements are also installed
for this machine's architecture and put ahead of it on the path. The layer's own code (selfservice)
comes only from the build, so a module or data file missing from the bundle fails this check."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cfnlint.decode.cfn_yaml import load as load_template
from selfservice_local.resources import create_resources_from_template, environment_for

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / ".aws-sam" / "build"
REQUIREMENTS = ROOT / "layers" / "selfservice" / "requirements.txt"
RUNNER = Path(__file__).with_name("runner.py")
# The Lambda python3.13 runtime ships boto3; pin a version close to the runtime's.
RUNTIME_PROVIDED = ["boto3==1.40.4", "botocore==1.40.4"]


def _built_template() -> dict:
    path = BUILD / "template.yaml"
    if not path.exists():
        pytest.fail("no sam build output: run `make build` (make package-check does) first")
    return load_template(str(path))


def _functions(template: dict) -> dict[str, dict]:
    return {
        name: res["Properties"] for name, res in template["Resources"].items()
        if res["Type"] == "AWS::Serverless::Function"
    }


@pytest.fixture(scope="session")
def native_requirements() -> Path:
    """The layer's pinned requirements (and the runtime's boto3) for this machine, cached by hash."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes() + " ".join(RUNTIME_PROVIDED).encode()).hexdigest()[:12]
    target = ROOT / ".aws-sam" / f"native-deps-{digest}"
    if not (target / ".complete").exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-compile", "--target", str(target),
             "-r", str(REQUIREMENTS), *RUNTIME_PROVIDED],
            check=True,
        )
        (target / ".complete").touch()
    return target


@pytest.fixture(scope="session")
def moto_server() -> object:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def aws_env(moto_server: str) -> dict[str, str]:
    env = {
        "AWS_ENDPOINT_URL": moto_server, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-north-1", "AWS_REGION": "eu-north-1",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        resources = create_resources_from_template(ROOT / "template.yaml", endpoint_url=moto_server)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return env | environment_for(resources) | {"POWERTOOLS_SERVICE_NAME": "selfservice"}


def _events_for(code_uri: str) -> list[Path]:
    flow = Path(code_uri).name
    events = sorted((ROOT / "events").glob(f"{flow}.json")) + sorted((ROOT / "events").glob(f"{flow}-*.json"))
    return events


def test_layer_holds_arm64_wheels() -> None:
    _built_template()
    layer = BUILD / "DomainLayer" / "python"
    assert (layer / "selfservice" / "domain" / "catalog.json").exists()
    for font in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "LICENSE"):  # the invoice PDFs' fonts
        assert (layer / "selfservice" / "fonts" / font).exists(), font
    compiled = [p.name for p in layer.rglob("*.so")]
    assert compiled, "expected compiled wheels (pydantic-core) in the layer"
    assert all("x86_64" not in name for name in compiled), compiled
    assert any("aarch64" in name for name in compiled), compiled
    for line in REQUIREMENTS.read_text().splitlines():
        if line and not line.startswith("#"):
            name = line.split("==")[0].replace("-", "_").lower()
            assert any(d.name.lower().startswith(name + "-") for d in layer.glob("*.dist-info")), name


def test_every_function_has_an_event() -> None:
    for name in _functions(_built_template()):
        assert _events_for(_source_code_uri(name)), f"{name} has no events/ fixture"


def _source_code_uri(function: str) -> str:
    source = load_template(str(ROOT / "template.yaml"))
    return str(source["Resources"][function]["Properties"]["CodeUri"])


def _cases() -> list[tuple[str, Path]]:
    if not (BUILD / "template.yaml").exists():
        return [("missing-build", ROOT / "missing")]
    cases = []
    for name in _functions(load_template(str(BUILD / "template.yaml"))):
        for event in _events_for(_source_code_uri(name)):
            cases.append((name, event))
    return cases


@pytest.mark.parametrize(("function", "event"), _cases(), ids=lambda v: getattr(v, "name", v))
def test_built_function_runs_on_its_event(function: str, event: Path, native_requirements: Path,
                                          aws_env: dict[str, str]) -> None:
    functions = _functions(_built_template())
    props = functions[function]
    module, handler = props["Handler"].rsplit(".", 1)
    code = BUILD / function
    layer = BUILD / "DomainLayer" / "python"
    path = os.pathsep.join([str(code), str(native_requirements), str(layer)])
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": path} | aws_env
    proc = subprocess.run(
        [sys.executable, "-S", "-s", str(RUNNER), module, handler, str(event)],
        env=env, capture_output=True, text=True, timeout=120, cwd=code,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    line = next(out for out in proc.stdout.splitlines() if out.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    if "statusCode" in result:
        assert result["statusCode"] < 500, result
        body = json.loads(result["body"]) if result.get("body") else None
        if result["statusCode"] >= 400:
            assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), body
    else:
        assert "error" not in result or result["error"]["code"] != "internal_error", result
