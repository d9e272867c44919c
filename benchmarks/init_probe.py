"""One cold init in this fresh interpreter, printed as one JSON line (run by coldstart.py, never imported).

    python init_probe.py floor
    python init_probe.py edge-floor
    python init_probe.py pydantic-floor
    python init_probe.py paused-floor
    python init_probe.py <code dir> <module.handler>

`floor`: import boto3 and create one DynamoDB client, the least any function that touches the table does.
Otherwise: put the function's code directory first on the path (as Lambda does with /var/task), import
the handler's module and build what its first invocation builds before any business logic, the
composition root's clients (see `prime`). Time runs from this script's first line (the interpreter's
own start-up is the same for both and not counted), as wall time and as this process's CPU time (the
work is single-threaded and reads only cached files, so the two are equal on an idle machine, and CPU
time is what stays put when other processes compete for the CPUs); peak memory is the process's peak
resident set."""

import time

STARTED = time.perf_counter()
STARTED_CPU = time.process_time()

import importlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

# Libraries a function should import only if it uses them (reported per function).
HEAVY = ("aws_xray_sdk", "fpdf", "PIL", "fontTools", "email_validator", "pydantic",
         "aws_lambda_powertools.utilities.idempotency", "aws_lambda_powertools.event_handler",
         "aws_lambda_powertools.logging", "aws_lambda_powertools.metrics", "boto3.dynamodb")


def floor() -> list[str]:
    import boto3

    boto3.client("dynamodb")
    return ["boto3.client('dynamodb')"]


def paused_floor() -> list[str]:
    """The floor with the garbage collector paused while it loads, as the functions load
    (selfservice/coldstart.py): shows what pausing it is worth to the floor itself."""
    import gc

    gc.disable()
    built = floor()
    gc.enable()
    gc.freeze()
    return [*built, "collector paused"]


def pydantic_floor() -> list[str]:
    """The floor plus pydantic's BaseModel: what a function that validates with pydantic cannot avoid.
    Loaded with the collector paused, as the functions load."""
    import gc

    gc.disable()
    built = floor()
    from pydantic import BaseModel  # noqa: F401

    gc.enable()
    gc.freeze()
    return [*built, "pydantic.BaseModel"]


def edge_floor() -> list[str]:
    """The floor plus the HTTP edge's libraries as the HTTP functions use them, and nothing of ours:
    Powertools' resolver with request validation (its OpenAPI parameter models) and pydantic. Loaded
    with the collector paused, as the functions load."""
    import gc

    gc.disable()
    built = floor()
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
    from aws_lambda_powertools.event_handler.openapi import params  # noqa: F401
    from pydantic import BaseModel  # noqa: F401

    APIGatewayHttpResolver(enable_validation=True)
    gc.enable()
    gc.freeze()
    return [*built, "APIGatewayHttpResolver(enable_validation=True)", "pydantic.BaseModel"]


def prime(source: str) -> list[str]:
    """What the first invocation builds before its business logic, judged from what the handler
    imported: the composition root's Deps (the table's client, the gateway, the catalog), or the bus
    client of the outbox publisher; plus the idempotency store of the paying routes and the S3 store of
    the invoice PDF route. Nothing here makes a network call."""
    built: list[str] = []
    if "selfservice.bootstrap" not in sys.modules:
        return built
    from selfservice import bootstrap

    if "bootstrap.event_publisher(" in source:
        bootstrap.event_publisher()
        built.append("bootstrap.event_publisher()")
    else:
        deps = bootstrap.deps()
        built.append("bootstrap.deps()")
        if "selfservice.http.routes.invoice_pdf" in sys.modules:
            deps.documents._built()  # type: ignore[attr-defined]  # the S3 client of the PDF route
            built.append("documents (S3 client)")
    if "selfservice.http.idempotency" in sys.modules:
        from selfservice.http import idempotency

        idempotency._idempotent_execute(None)  # the idempotency table's store
        built.append("idempotency store")
    return built


def peak_rss_kib() -> int:
    """Peak resident memory of this process image. Linux's ru_maxrss survives execve (it would report
    the parent's peak if that was larger), so VmHWM of /proc/self/status is read where it exists."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KiB on Linux


def main(argv: list[str]) -> None:
    if argv[0] == "floor":
        built = floor()
    elif argv[0] == "edge-floor":
        built = edge_floor()
    elif argv[0] == "pydantic-floor":
        built = pydantic_floor()
    elif argv[0] == "paused-floor":
        built = paused_floor()
    else:
        code_dir, handler = Path(argv[0]), argv[1]
        module_name, _, function_name = handler.rpartition(".")
        sys.path.insert(0, str(code_dir))
        module = importlib.import_module(module_name)
        if not callable(getattr(module, function_name, None)):
            raise SystemExit(f"{handler} is not callable in {code_dir}")
        source = (code_dir / (module_name.replace(".", "/") + ".py")).read_text(encoding="utf-8")
        built = prime(source)
    elapsed_ms = (time.perf_counter() - STARTED) * 1000
    cpu_ms = (time.process_time() - STARTED_CPU) * 1000
    peak_kib = peak_rss_kib()
    heavy = sorted(name for name in HEAVY if name in sys.modules)
    result = {"ms": elapsed_ms, "cpu_ms": cpu_ms, "peak_mib": peak_kib / 1024, "built": built,
              "modules": len(sys.modules), "heavy": heavy}
    if os.environ.get("BENCH_PROBE_MODULES") == "1":  # every module imported (tests of what is imported)
        result["module_names"] = sorted(sys.modules)
    print("INIT " + json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
