"""POST /subscriptions/{id}/seats (add seats and pay), POST /subscriptions/{id}/seat-reduction,
POST /subscriptions/{id}/seat-reduction/undo

Thin: the router in the layer (selfservice.http.routes.seats) parses, calls one service and presents."""

from typing import Any

from selfservice.coldstart import loading

with loading():  # no garbage collection while the function's modules load (selfservice/coldstart.py)
    from selfservice.http.app import build_resolver
    from selfservice.http.routes import seats

    app = build_resolver(seats.router)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
