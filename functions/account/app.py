"""GET /account, GET and PUT /billing-info, GET /subscriptions, GET /subscriptions/{id},
GET /subscriptions/{id}/quote, and GET /openapi.json (the document of every function's routes).

Thin: the router in the layer (selfservice.http.routes.account) parses, calls one service and presents."""

from typing import Any

from selfservice.coldstart import loading

with loading():  # no garbage collection while the function's modules load (selfservice/coldstart.py)
    from selfservice.http.app import build_resolver
    from selfservice.http.routes import account

    app = build_resolver(account.router, serve_openapi=True)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
