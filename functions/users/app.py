"""GET /users, POST /users, DELETE /users/{id}

Thin: the router in the layer (selfservice.http.routes.users) parses, calls one service and presents."""

from typing import Any

from selfservice.coldstart import loading

with loading():  # no garbage collection while the function's modules load (selfservice/coldstart.py)
    from selfservice.http.app import build_resolver
    from selfservice.http.routes import users

    app = build_resolver(users.router)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
