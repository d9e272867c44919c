"""GET /payment-methods, POST /payment-methods, DELETE /payment-methods/{id}, POST /payment-methods/{id}/default

Thin: the router in the layer (selfservice.http.routes.payment_methods) parses, calls one service and presents."""

from typing import Any

from selfservice.coldstart import loading

with loading():  # no garbage collection while the function's modules load (selfservice/coldstart.py)
    from selfservice.http.app import build_resolver
    from selfservice.http.routes import payment_methods

    app = build_resolver(payment_methods.router)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
