"""The users function: the tenant's licence assignments (SPEC 2.1)."""

from __future__ import annotations

from typing import Any

from selfservice import bootstrap
from selfservice.http import presenters
from selfservice.http.auth import CurrentCaller
from selfservice.http.docs import responses
from selfservice.http.params import UserId
from selfservice.http.routes import new_router
from selfservice.http.schemas import AssignUserBody, UserListOut, UserOut
from selfservice.services import users

router = new_router()


@router.get(
    "/users",
    summary="Every licence assignment, active and removed",
    tags=["users"],
    responses=responses(UserListOut, errors=(401, 403, 404)),
    operation_id="list_users",
)
def list_users(caller: CurrentCaller) -> dict[str, Any]:
    return presenters.user_list(users.list_users(bootstrap.deps(), caller))


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
