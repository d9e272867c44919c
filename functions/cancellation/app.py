"""POST /subscriptions/{id}/cancellation, POST /subscriptions/{id}/cancellation/undo

Thin: the router in the layer (selfservice.http.routes.cancellation) parses, calls one service and presents."""

from typing import Any

from selfservice.coldstart import loading

with loading():  # no garbage collection while the function's modules load (selfservice/coldstart.py)
    from selfservice.http.app import build_resolver
    from selfservice.http.routes import cancellation

    app = build_resolver(cancellation.router)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
