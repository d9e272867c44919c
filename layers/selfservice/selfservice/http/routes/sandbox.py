"""The sandbox gateway's tokeniser (SPEC 2.11): card details in, a token out. The only route that ever
receives a card number: it goes to the tokeniser and nowhere else (never a store, never a log line;
the function's resolver is built `sensitive`, and the body's number and CVC are left out of its repr).

It exists only while the sandbox is the configured gateway: the template deploys the function under the
`SandboxGateway` condition, and the route answers 404 if the settings name another gateway."""

from __future__ import annotations

from typing import Any

from selfservice import bootstrap
from selfservice.domain.errors import NotFound
from selfservice.http import presenters
from selfservice.http.auth import CurrentCaller
from selfservice.http.docs import responses
from selfservice.http.routes import new_router
from selfservice.http.schemas import CardTokenBody, CardTokenOut
from selfservice.ports import CardTokeniser

router = new_router()


@router.post(
    "/sandbox/card-tokens",
    status_code=201,
    summary="Tokenise card details at the sandbox gateway (test cards of SPEC 2.11)",
    tags=["sandbox"],
    responses=responses(CardTokenOut, status=201, description="Tokenised", errors=(400, 401, 402, 403, 404, 422)),
    operation_id="create_card_token",
)
def create_card_token(body: CardTokenBody, caller: CurrentCaller) -> dict[str, Any]:
    details = _tokeniser().tokenise(number=body.number, exp_month=body.exp_month, exp_year=body.exp_year,
                                    cvc=body.cvc, name=body.name, owner=caller.tenant_id)
    return presenters.card_token(details)


def _tokeniser() -> CardTokeniser:
    tokeniser = bootstrap.deps().tokeniser if bootstrap.settings().sandbox_gateway else None
    if tokeniser is None:
        raise NotFound("No such route.")
    return tokeniser
