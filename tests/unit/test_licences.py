"""The licence floor (SPEC 2.1): removed users count for 120 seconds; no seat count below active users."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from selfservice.domain.errors import BelowActiveUsers
from selfservice.domain.licences import active_users_at, occupies_seat, require_seats_cover_users
from selfservice.domain.model import User
from selfservice.domain.terms import iso

from .builders import NOW, make_user, make_users


def s(seconds: int) -> timedelta:
    return timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("removed_ago", "counts"),
    [
        pytest.param(0, True, id="just-removed"),
        pytest.param(119, True, id="119s-still-counts"),
        pytest.param(120, False, id="120s-no-longer-counts"),
        pytest.param(121, False, id="121s"),
        pytest.param(-5, True, id="removal-in-the-future-of-now"),
    ],
)
def test_removed_user_counts_for_two_minutes(removed_ago: int, counts: bool) -> None:
    user = make_user("gone@acme.example", removed_at=NOW - s(removed_ago))
    assert occupies_seat(user, NOW) is counts
    assert active_users_at([make_user("a@acme.example"), user], NOW) == 1 + counts


def test_removed_without_timestamp_does_not_count() -> None:
    user = User("t", "u", "x@acme.example", "removed", NOW, None)
    assert active_users_at([user], NOW) == 0


def test_active_users_counts_active_and_settling() -> None:
    users = make_users(3, (NOW - s(10), NOW - s(119), NOW - s(120), NOW - s(3600)))
    assert active_users_at(users, NOW) == 5  # 3 active + removed 10 s and 119 s ago
    assert active_users_at(users, NOW + s(1)) == 4  # the 119-s one has now settled
    assert active_users_at(users, NOW + s(110)) == 3


# 3 active users plus removals settling at NOW+20s and NOW+90s: 5 count now.
SETTLING = (NOW - s(100), NOW - s(30))


@pytest.mark.parametrize(
    ("seats", "details"),
    [
        # 5 active, 4 seats: one removal must settle -> the first one, at NOW+20s
        pytest.param(4, {"active_users": 5, "requested_seats": 4, "retry_after": iso(NOW + s(20))},
                     id="one-short-first-settles"),
        # 5 active, 3 seats: both must settle -> the second one, at NOW+90s
        pytest.param(3, {"active_users": 5, "requested_seats": 3, "retry_after": iso(NOW + s(90))},
                     id="two-short-both-settle"),
        # 5 active, 2 seats: settling brings it to 3 only -> no retry_after, remove users first
        pytest.param(2, {"active_users": 5, "requested_seats": 2}, id="settling-not-enough"),
    ],
)
def test_below_active_users_details(seats: int, details: dict[str, object]) -> None:
    users = make_users(3, SETTLING)
    with pytest.raises(BelowActiveUsers) as refused:
        require_seats_cover_users(seats, users, NOW)
    assert refused.value.code == "below_active_users"
    assert refused.value.details == details
    if "retry_after" in details:
        assert str(details["retry_after"]) in refused.value.message
    else:
        assert "remove users first" in refused.value.message


@pytest.mark.parametrize(
    ("seats", "retry_at"),
    [pytest.param(4, NOW + s(20), id="4-seats"), pytest.param(3, NOW + s(90), id="3-seats")],
)
def test_retry_after_is_exactly_when_the_count_has_dropped(seats: int, retry_at: datetime) -> None:
    users = make_users(3, SETTLING)
    with pytest.raises(BelowActiveUsers):
        require_seats_cover_users(seats, users, retry_at - s(1))
    require_seats_cover_users(seats, users, retry_at)  # passes at that second, not one later


@pytest.mark.parametrize(
    ("active", "seats"),
    [pytest.param(5, 5, id="equal"), pytest.param(5, 6, id="above"), pytest.param(0, 1, id="no-users")],
)
def test_seats_covering_users_pass(active: int, seats: int) -> None:
    require_seats_cover_users(seats, make_users(active), NOW)


def test_no_settling_removals_no_retry_after() -> None:
    users = make_users(5, (NOW - s(500),))  # long settled
    with pytest.raises(BelowActiveUsers) as refused:
        require_seats_cover_users(4, users, NOW)
    assert refused.value.details == {"active_users": 5, "requested_seats": 4}
