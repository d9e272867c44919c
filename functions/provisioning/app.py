"""Back-office provisioning (direct invoke): a tenant with its SAO, billing information, users and one
subscription. The payload shape is events/provisioning.json; bad input returns {"error": {...}}."""

from typing import Any

from selfservice.coldstart import loading

with loading():  # no garbage collection while the function's modules load (selfservice/coldstart.py)
    from selfservice.backoffice import provision


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    return provision(event)
