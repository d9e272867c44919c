"""GET /invoices, GET /invoices/{id}, POST /invoices/{id}/pay

Thin: the router in the layer (selfservice.http.routes.invoices) parses, calls one service and presents."""

from typing import Any

from selfservice.coldstart import loading

with loading():  # no garbage collection while the function's modules load (selfservice/coldstart.py)
    from selfservice.http.app import build_resolver
    from selfservice.http.routes import invoices

    app = build_resolver(invoices.router)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
