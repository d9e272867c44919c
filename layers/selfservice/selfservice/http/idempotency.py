"""Idempotency of the requests that charge money (SPEC 3), in one place: POST /subscriptions/{id}/renewal,
POST /subscriptions/{id}/seats and POST /invoices/{id}/pay. Imported only by the functions that serve
them.

Every such request carries an `Idempotency-Key` header (1-100 visible ASCII characters). Powertools'
idempotency utility (DynamoDB persistence on IDEMPOTENCY_TABLE_NAME) keeps, per key, the first
successful response, status and body:

- a replay of the key with the same body returns that response (marked `Idempotency-Replayed: true`)
  and runs nothing, so nothing is charged again;
- the same key with a different body: 422 `idempotency_key_reused`;
- the same key while its first request still runs: 409 `request_in_progress`. The Lambda context is
  registered, so the in-progress record of an invocation that crashed expires when that invocation's
  time would have run out, and the retry then runs;
- the key is scoped by tenant, operation, the resource in the path and the header, so two tenants (or
  two subscriptions) never share a record.

An error response is not stored (Powertools deletes the record when the work raises): a retry runs
again. That is safe for money because the payment engine resumes its pending payment under the same
gateway key (services/payments.py), so the gateway returns its first outcome instead of charging twice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Header

from selfservice import bootstrap
from selfservice.domain.errors import IdempotencyKeyRequired, IdempotencyKeyReused, RequestInProgress
from selfservice.services import Caller

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotency-Replayed"
MAX_KEY_LENGTH = 100
# How long a key's first response is kept: longer than any client retries a payment.
EXPIRES_AFTER_SECONDS = 24 * 60 * 60
# The records' key prefix: stable across functions and deployments, so the scope alone tells them apart.
KEY_PREFIX = "selfservice-money"

# The route parameter: documented in the OpenAPI document, checked by `require_key` (so that a missing or
# malformed key gets its own error code rather than a generic validation error).
IdempotencyKeyHeader = Annotated[
    str | None,
    Header(alias=HEADER, description=f"Required. 1-{MAX_KEY_LENGTH} visible ASCII characters; a new one per "
                                     "payment, the same one for every retry of it."),
]

# What the idempotent work returns and the store keeps: {"status": int, "body": JSON}.
Outcome = dict[str, Any]
Work = Callable[[], tuple[int, Any]]


def require_key(value: str | None) -> str:
    key = (value or "").strip()
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not all("!" <= char <= "~" for char in key):
        raise IdempotencyKeyRequired(
            f"This request charges money: send an {HEADER} header of 1-{MAX_KEY_LENGTH} visible ASCII "
            "characters, new for each payment and the same for every retry of it.",
            header=HEADER, max_length=MAX_KEY_LENGTH,
        )
    return key


def run_once(*, caller: Caller, operation: str, resource_id: str, key: str, body: Mapping[str, Any], work: Work,
             lambda_context: LambdaContext | None) -> Response[Any]:
    """Run `work` (which returns status and JSON body) once per key, or return the key's first response."""
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    execute = _idempotent_execute(lambda_context)
    request = {"scope": f"{caller.tenant_id}|{operation}|{resource_id}|{key}", "body": dict(body)}
    try:
        outcome: Outcome = execute(request=request, work=work)
    except IdempotencyValidationError:
        raise IdempotencyKeyReused(
            f"This {HEADER} was used for a request with a different body; use a new key for a new request.",
            header=HEADER,
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise RequestInProgress(
            f"The first request with this {HEADER} is still being processed; retry with the same key shortly.",
            header=HEADER,
        ) from None
    headers = {REPLAYED_HEADER: "true"} if outcome.get("replayed") else None
    return Response(status_code=int(outcome["status"]), content_type=content_types.APPLICATION_JSON,
                    body=outcome["body"], headers=headers)


# --- wiring: built once per container (again after bootstrap.reset(), as the tests do) ----------------
# Keyed by the function's name: a container runs one function, so in Lambda there is one entry; where
# several functions share a process and run at the same time (the local run, tests), each keeps its own
# config (the Lambda context registered on it is that function's invocation) and its own store.

_lock = threading.Lock()
_built: dict[str | None, tuple[bootstrap.Settings, Any, Any]] = {}  # function -> settings, config, function


def _mark_replayed(response: Any, idempotent_data: DataRecord) -> Any:
    return {**response, "replayed": True} if isinstance(response, dict) else response


def _idempotent_execute(lambda_context: LambdaContext | None) -> Callable[..., Outcome]:
    function_name: str | None = getattr(lambda_context, "function_name", None)
    current = bootstrap.settings()
    built = _built.get(function_name)
    if built is None or built[0] is not current:
        with _lock:
            built = _built.get(function_name)
            if built is None or built[0] is not current:
                built = _build(current)
                _built[function_name] = built
    _settings, config, execute = built
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)
    return execute  # type: ignore[no-any-return]


def _build(current: bootstrap.Settings) -> tuple[bootstrap.Settings, Any, Any]:
    # Imported here: Powertools' DynamoDB persistence imports boto3, which only a money request needs.
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )
    from botocore.config import Config

    if current.idempotency_table_name is None:
        raise bootstrap.SettingsError("IDEMPOTENCY_TABLE_NAME is not set: a request that charges needs it.")
    client = bootstrap.aws_client("dynamodb", config=Config(retries={"mode": "standard"}))
    store = DynamoDBPersistenceLayer(table_name=current.idempotency_table_name, boto3_client=client)
    config = IdempotencyConfig(
        event_key_jmespath="scope",
        payload_validation_jmespath="body",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=EXPIRES_AFTER_SECONDS,
        response_hook=_mark_replayed,
    )
    # Configured now, before anyone can see it: Powertools configures a store on each call and marks it
    # configured before it has set it up, so a first call running beside another could use it half done.
    store.configure(config, key_prefix=KEY_PREFIX)

    def execute(*, request: dict[str, Any], work: Work) -> Outcome:
        status, body = work()
        return {"status": status, "body": body}

    wrapped = idempotent_function(execute, data_keyword_argument="request", persistence_store=store,
                                  config=config, key_prefix=KEY_PREFIX)
    return current, config, wrapped
