"""The activity history (SPEC 2.14): the tenant's audit records, newest first, paginated."""

from __future__ import annotations

import base64
import json

import pytest
from selfservice.adapters.clock import ManualClock
from selfservice.domain.errors import InvalidInput
from selfservice.services import Caller, Deps
from selfservice.services import subscriptions as flows
from selfservice.services import users as user_flows
from selfservice.services.activity import list_activity

from .builders import SAO, Provision


@pytest.fixture
def history(deps: Deps, caller: Caller, clock: ManualClock, provision: Provision) -> list[str]:
    """Six records, one second apart, oldest first: provisioned, 3 users assigned, reduction, undo."""
    sub = provision(seats=10, users=0).subscription
    for i in range(3):
        clock.advance(1)
        user_flows.assign_user(deps, caller, f"user{i}@acme.example")
    clock.advance(1)
    flows.schedule_seat_reduction(deps, caller, sub.id, 5, acknowledged=True)
    clock.advance(1)
    flows.undo_seat_reduction(deps, caller, sub.id, acknowledged=True)
    return ["tenant.provisioned", "user.assigned", "user.assigned", "user.assigned",
            "subscription.reduction_scheduled", "subscription.reduction_undone"]


@pytest.mark.parametrize(
    ("limit", "pages"),
    [
        pytest.param(2, [2, 2, 2], id="pages-of-2-exact-fit"),    # 6 = 2 + 2 + 2, no empty last page
        pytest.param(4, [4, 2], id="pages-of-4"),
        pytest.param(5, [5, 1], id="pages-of-5"),
        pytest.param(6, [6], id="one-full-page"),
        pytest.param(100, [6], id="one-big-page"),
    ],
)
def test_pages_walk_newest_first_without_gaps_or_repeats(deps: Deps, caller: Caller, history: list[str],
                                                         limit: int, pages: list[int]) -> None:
    seen: list[str] = []
    sizes: list[int] = []
    cursor: str | None = None
    while True:
        page = list_activity(deps, caller, limit, cursor)
        sizes.append(len(page.items))
        seen += [event.type for event in page.items]
        times = [event.at for event in page.items]
        assert times == sorted(times, reverse=True)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sizes == pages
    assert seen == list(reversed(history))


def test_records_carry_actor_and_acknowledgement(deps: Deps, caller: Caller, history: list[str]) -> None:
    [undo, reduction] = list_activity(deps, caller, 2, None).items
    assert undo.actor == reduction.actor == SAO
    assert reduction.acknowledgement is not None
    assert reduction.acknowledgement.wording_version == "seat-reduction/2026-01"


def test_another_tenants_cursor_is_refused(deps: Deps, caller: Caller, provision: Provision,
                                           history: list[str]) -> None:
    provision(tenant_id="ten_other")
    cursor = list_activity(deps, caller, 2, None).next_cursor
    assert cursor is not None
    with pytest.raises(InvalidInput) as refused:
        list_activity(deps, Caller("ten_other", SAO), 2, cursor)
    assert refused.value.details == {"field": "cursor"}


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("not-a-cursor!", id="garbage"),
        pytest.param(base64.urlsafe_b64encode(b"[1, 2]").decode(), id="json-list"),
        pytest.param(base64.urlsafe_b64encode(b"\xff\xfe").decode(), id="not-utf8"),
        pytest.param(base64.urlsafe_b64encode(json.dumps({"t": "ten_acme"}).encode()).decode(), id="no-key"),
    ],
)
def test_malformed_cursor_is_refused(deps: Deps, caller: Caller, history: list[str], cursor: str) -> None:
    with pytest.raises(InvalidInput):
        list_activity(deps, caller, 2, cursor)


def test_unknown_tenant_has_no_activity(deps: Deps) -> None:
    page = list_activity(deps, Caller("ten_ghost", SAO), 10, None)
    assert (page.items, page.next_cursor) == ([], None)


def test_tenants_see_only_their_own_records(deps: Deps, caller: Caller, provision: Provision,
                                            history: list[str]) -> None:
    provision(tenant_id="ten_other")
    page = list_activity(deps, Caller("ten_other", SAO), 100, None)
    assert [e.type for e in page.items] == ["tenant.provisioned"]
    assert {e.tenant_id for e in page.items} == {"ten_other"}
