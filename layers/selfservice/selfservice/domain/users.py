"""Licence assignments (SPEC 2.1): assigning a user needs a free seat, now, in the prepaid next term and
in the scheduled reduction; removing one frees the seat after the 120-second settling period."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from selfservice.domain.errors import NoFreeSeats, SeatReductionPending, UserAlreadyRemoved, UserExists
from selfservice.domain.licences import active_users_at
from selfservice.domain.model import Subscription, User


def normalise_email(email: str) -> str:
    return email.strip().lower()


def assign_user(users: tuple[User, ...], sub: Subscription, email: str, user_id: str, now: datetime) -> User:
    """A new assignment, or the reactivation of a removed user with the same e-mail."""
    email = normalise_email(email)
    existing = next((u for u in users if u.email == email), None)
    if existing is not None and existing.status == "active":
        raise UserExists(f"{email} already has a licence.", user_id=existing.id)
    active = active_users_at(users, now)
    # A removed user who is still settling already counts; reactivating them takes no new seat.
    takes_seat = existing is None or active_users_at([existing], now) == 0
    needed = active + (1 if takes_seat else 0)
    if needed > sub.seats:
        raise NoFreeSeats(
            f"All {sub.seats} seats are taken; add seats or remove a user first.",
            seats=sub.seats, active_users=active,
        )
    # The prepaid next term's seats are a seat count too (SPEC 2.1): its term would start below the users.
    if sub.renewal is not None and needed > sub.renewal.seats:
        raise NoFreeSeats(
            f"The next term, already paid for, has {sub.renewal.seats} seats and all are taken; add seats "
            "(they are added to the next term too) or remove a user first.",
            seats=sub.renewal.seats, active_users=active, renewal_seats=sub.renewal.seats,
        )
    if sub.scheduled_reduction is not None and needed > sub.scheduled_reduction.seats:
        raise SeatReductionPending(
            f"A reduction to {sub.scheduled_reduction.seats} seats is scheduled; undo it to add more users.",
            scheduled_seats=sub.scheduled_reduction.seats, active_users=active,
        )
    if existing is not None:
        return replace(existing, status="active", removed_at=None, assigned_at=now, version=existing.version + 1)
    return User(sub.tenant_id, user_id, email, "active", now)


def remove_user(user: User, now: datetime) -> User:
    if user.status == "removed":
        raise UserAlreadyRemoved("The user's licence is already removed.", user_id=user.id)
    return replace(user, status="removed", removed_at=now, version=user.version + 1)
