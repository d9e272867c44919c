"""The activity function: the tenant's audit history, newest first (SPEC 2.14)."""

from __future__ import annotations

from typing import Any

from selfservice import bootstrap
from selfservice.http import pages, presenters
from selfservice.http.auth import CurrentCaller
from selfservice.http.docs import responses
from selfservice.http.routes import new_router
from selfservice.http.schemas import ActivityListOut
from selfservice.services import activity

router = new_router()


@router.get(
    "/activity",
    summary="The audit history, newest first",
    tags=["activity"],
    responses=responses(ActivityListOut, errors=(401, 403, 422)),
    operation_id="list_activity",
)
def list_activity(
    caller: CurrentCaller,
    cursor: pages.Cursor = None,
    limit: pages.PageSize = pages.HISTORY_PAGE_SIZE,
) -> dict[str, Any]:
    return presenters.activity_page(activity.list_activity(bootstrap.deps(), caller, limit, cursor))
