from __future__ import annotations

from selfservice.domain.model import AuditEvent
from selfservice.ports import Page
from selfservice.services import Caller, Deps


def list_activity(deps: Deps, caller: Caller, limit: int, cursor: str | None) -> Page[AuditEvent]:
    """One Query on the tenant's audit records; an unknown tenant simply has none."""
    return deps.repo.list_activity(caller.tenant_id, limit, cursor)
