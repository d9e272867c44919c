"""The users function: the tenant's licence assignments (SPEC 2.1)."""

from __future__ import annotations

from typing import Any

from selfservice import bootstrap
from selfservice.domain.model import User
from selfservice.http import pages, presenters
from selfservice.http.auth import CurrentCaller
from selfservice.http.docs import responses
from selfservice.http.params import UserId
from selfservice.http.routes import new_router
from selfservice.http.schemas import AssignUserBody, UserListOut, UserOut
from selfservice.services import users

router = new_router()


@router.get(
    "/users",
    summary="Every licence assignment, active and removed, by e-mail address (paginated)",
    tags=["users"],
    responses=responses(UserListOut, errors=(401, 403, 404, 422)),
    operation_id="list_users",
)
def list_users(caller: CurrentCaller, cursor: pages.Cursor = None,
               limit: pages.PageSize = pages.MAX_PAGE_SIZE) -> dict[str, Any]:
    everyone = sorted(users.list_users(bootstrap.deps(), caller), key=_user_key)
    page, next_cursor = pages.page_of(everyone, key=_user_key, limit=limit, cursor=cursor, tenant_id=caller.tenant_id)
    return presenters.user_list(page, next_cursor)


def _user_key(user: User) -> str:
    return f"{user.email}\x00{user.id}"  # e-mail order; the id tells apart a removed and a new assignment


@router.post(
    "/users",
    status_code=201,
    summary="Assign a licence to a user",
    tags=["users"],
    responses=responses(UserOut, status=201, description="Assigned", errors=(400, 401, 403, 404, 409, 422)),
    operation_id="assign_user",
)
def assign_user(body: AssignUserBody, caller: CurrentCaller) -> dict[str, Any]:
    return presenters.user(users.assign_user(bootstrap.deps(), caller, str(body.email)))


@router.delete(
    "/users/<user_id>",
    summary="Remove a user's licence (it frees after two minutes)",
    tags=["users"],
    responses=responses(UserOut, errors=(401, 403, 404, 409)),
    operation_id="remove_user",
)
def remove_user(user_id: UserId, caller: CurrentCaller) -> dict[str, Any]:
    return presenters.user(users.remove_user(bootstrap.deps(), caller, user_id))
