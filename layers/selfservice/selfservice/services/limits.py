"""Abuse limits of the actions that charge money (docs/security.md).

A stolen or scripted session could otherwise use the paying routes to try card after card (card
testing) or to hammer the gateway: every renewal, seat increase and invoice payment that the payment
engine starts counts as one attempt on its subscription, and so does the immediate retry of a past_due
subscription's open invoice that making a card the default sets off (services/payment_methods.py). At
most CHARGE_ATTEMPTS_PER_HOUR are accepted per subscription per clock hour of the product's clock. Above
that: `RateLimited` (429 with Retry-After), before anything is priced or charged.

What does not count: a replay of an Idempotency-Key (Powertools answers it without running the engine),
and a retry that resumes the same client request's pending payment (it cannot charge twice: the gateway
key is the payment's). Requests refused by the schema or by authorisation never reach the engine.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from selfservice.domain.errors import RateLimited
from selfservice.domain.terms import iso
from selfservice.services import Deps

CHARGE_ATTEMPTS_PER_HOUR = 10
CHARGE_WINDOW = timedelta(hours=1)


def hour_window(now: datetime) -> tuple[datetime, datetime]:
    start = now.replace(minute=0, second=0, microsecond=0)
    return start, start + CHARGE_WINDOW


def count_charge_attempt(deps: Deps, tenant_id: str, subscription_id: str) -> None:
    """Count one attempt to charge for `subscription_id`; RateLimited if the hour's attempts are used up."""
    if deps.attempts is None:
        return
    now = deps.clock.now()
    start, end = hour_window(now)
    if deps.attempts.count(tenant_id, f"charge#{subscription_id}", start, end, CHARGE_ATTEMPTS_PER_HOUR):
        return
    raise RateLimited(
        f"Too many payment attempts for this subscription: at most {CHARGE_ATTEMPTS_PER_HOUR} an hour. "
        "Try again after the time in retry_after.",
        subscription_id=subscription_id, limit=CHARGE_ATTEMPTS_PER_HOUR,
        window_seconds=int(CHARGE_WINDOW.total_seconds()), retry_after=iso(end),
        retry_after_seconds=max(1, math.ceil((end - now).total_seconds())),
    )
