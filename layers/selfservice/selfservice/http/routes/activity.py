"""The activity function: the tenant's audit history, newest first (SPEC 2.14)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query

from selfservice import bootstrap
from selfservice.http import presenters
from selfservice.http.auth import CurrentCaller
from selfservice.http.docs import responses
from selfservice.http.routes import new_router
from selfservice.http.schemas import ActivityListOut
from selfservice.services import activity

router = new_router()

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100


@router.get(
    "/activity",
    summary="The audit history, newest first",
    tags=["activity"],
    responses=responses(ActivityListOut, errors=(401, 403, 422)),
    operation_id="list_activity",
)
def list_activity(
    caller: CurrentCaller,
    cursor: Annotated[
        str | None, Query(min_length=1, max_length=512, description="next_cursor of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> dict[str, Any]:
    return presenters.activity_page(activity.list_activity(bootstrap.deps(), caller, limit, cursor))
