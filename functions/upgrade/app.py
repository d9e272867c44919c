"""POST /subscriptions/{id}/upgrade-request

Thin: the router in the layer (selfservice.http.routes.upgrade) parses, calls one service and presents."""

from typing import Any

from selfservice.coldstart import loading

with loading():  # no garbage collection while the function's modules load (selfservice/coldstart.py)
    from selfservice.http.app import build_resolver
    from selfservice.http.routes import upgrade

    app = build_resolver(upgrade.router)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
