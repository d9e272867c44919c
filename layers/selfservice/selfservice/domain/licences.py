"""The licence floor (SPEC 2.1).

Active users are the assigned users that are not removed, plus those removed less than 120 seconds ago:
the licence count takes two minutes to catch up, as the product documentation tells SAOs ("remove users
first and wait at least two minutes"). No seat count may be set below the active users."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from selfservice.domain.errors import BelowActiveUsers
from selfservice.domain.model import User
from selfservice.domain.terms import iso

SETTLING_PERIOD = timedelta(seconds=120)


def occupies_seat(user: User, now: datetime) -> bool:
    if user.status == "active":
        return True
    return user.removed_at is not None and now < user.removed_at + SETTLING_PERIOD


def active_users_at(users: Iterable[User], now: datetime) -> int:
    return sum(1 for user in users if occupies_seat(user, now))


def settling_until(users: Iterable[User], now: datetime) -> list[datetime]:
    """When each still-settling removal stops counting, earliest first."""
    return sorted(
        u.removed_at + SETTLING_PERIOD
        for u in users
        if u.status == "removed" and u.removed_at is not None and now < u.removed_at + SETTLING_PERIOD
    )


def require_seats_cover_users(seats: int, users: Iterable[User], now: datetime) -> None:
    """Refuse `seats` below the active users, saying when the count will have dropped enough
    (`retry_after`) if settling removals alone will bring it down to `seats`."""
    users = list(users)
    active = active_users_at(users, now)
    if seats >= active:
        return
    excess = active - seats
    settling = settling_until(users, now)
    details: dict[str, object] = {"active_users": active, "requested_seats": seats}
    message = (
        f"{active} users are active; remove users first so that at most {seats} remain, "
        "then wait two minutes for the licence count to catch up."
    )
    if len(settling) >= excess:
        retry_after = settling[excess - 1]
        details["retry_after"] = iso(retry_after)
        message = (
            f"{active} users still count as active while recent removals settle; "
            f"try again after {iso(retry_after)}."
        )
    raise BelowActiveUsers(message, **details)
