"""Load a function's handler from functions/<flow>/app.py (functions are not a package: each is its own
Lambda code root, as in the deployment) and invoke it like Lambda does."""

from __future__ import annotations

import importlib.util
import json
import sys
import uuid
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"


@dataclass
class LambdaContext:
    """What the Lambda runtime passes as `context` (the parts Powertools reads)."""

    function_name: str = "test-function"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-north-1:123456789012:function:test-function"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/test-function"
    log_stream_name: str = "test"

    def get_remaining_time_in_millis(self) -> int:
        return 15_000


@cache
def load_function(flow: str) -> ModuleType:
    """functions/<flow>/app.py as a module, loaded once per test session (like a warm container)."""
    path = FUNCTIONS_DIR / flow / "app.py"
    name = f"selfservice_functions_{flow}_app"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def invoke(flow: str, event: Any) -> Any:
    handler = load_function(flow).lambda_handler
    return handler(event, LambdaContext(function_name=f"{flow}-function"))


@dataclass(frozen=True)
class HttpResult:
    status: int
    headers: dict[str, str]
    body: Any
    raw: dict[str, Any]

    @property
    def error_code(self) -> str | None:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return str(self.body["error"].get("code"))
        return None


def call(flow: str, event: dict[str, Any]) -> HttpResult:
    """Invoke an HTTP function and decode its API Gateway (v2) response."""
    response = invoke(flow, event)
    text = response.get("body") or ""
    return HttpResult(
        status=int(response["statusCode"]),
        headers=dict(response.get("headers") or {}),
        body=json.loads(text) if text else None,
        raw=response,
    )
