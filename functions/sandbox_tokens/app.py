"""POST /sandbox/card-tokens: the sandbox gateway's tokeniser (deployed only with the sandbox gateway).

Thin: the router in the layer (selfservice.http.routes.sandbox) parses, tokenises and presents. The
resolver is `sensitive`: its requests carry card numbers, so no debug setting ever prints an event."""

from typing import Any

from selfservice.coldstart import loading

with loading():  # no garbage collection while the function's modules load (selfservice/coldstart.py)
    from selfservice.http.app import build_resolver
    from selfservice.http.routes import sandbox

    app = build_resolver(sandbox.router, sensitive=True)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
