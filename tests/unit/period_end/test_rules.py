"""The pure rules of the period end (domain/period_end.py): what is due when, the retry schedule, the
seats of a renewal, and the ids that make a second copy's work collapse into the first."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from selfservice.domain import period_end as rules
from selfservice.domain.ids import derived_id, new_id
from selfservice.domain.model import Acknowledgement, PendingPayment, ScheduledCancellation, ScheduledReduction
from selfservice.domain.terms import utc

from ..builders import NOW, TERM_END, TERM_START, make_subscription, make_user, make_users, prepaid

ACK = Acknowledgement("v1", "sao", NOW)
DAY = timedelta(days=1)


def reduction(seats: int) -> ScheduledReduction:
    return ScheduledReduction(seats, TERM_END, "sao", NOW, ACK)


def pending(started_at: object = NOW, key: str = rules.AUTOMATIC_PAYMENT) -> PendingPayment:
    return PendingPayment("pay_1", "invoice", key, "pm_1", started_at, "EUR", 100, 10)  # type: ignore[arg-type]


# --- what is due when -------------------------------------------------------------------------------

def test_an_active_subscription_is_due_at_the_end_of_its_term() -> None:
    sub = make_subscription()
    assert rules.due_at(sub) == TERM_END
    assert rules.next_step(sub, TERM_END - timedelta(seconds=1)) is None
    assert rules.next_step(sub, TERM_END) == "renew"


def test_a_past_due_subscription_is_due_at_its_retry() -> None:
    retry = TERM_START + DAY
    sub = make_subscription(status="past_due", next_retry_at=retry, open_invoice_id="inv_1")
    assert rules.due_at(sub) == retry
    assert rules.next_step(sub, retry - timedelta(seconds=1)) is None
    assert rules.next_step(sub, retry) == "retry"


def test_a_payment_under_way_is_due_once_it_had_time_to_finish_and_blocks_everything_else() -> None:
    started = TERM_START + DAY
    sub = make_subscription(pending_payment=pending(started))
    assert rules.due_at(sub) == started + rules.SETTLE_AFTER
    assert rules.next_step(sub, started + timedelta(seconds=119)) is None
    assert rules.next_step(sub, started + rules.SETTLE_AFTER) == "settle_payment"
    late = make_subscription(pending_payment=pending(TERM_END - timedelta(seconds=5)))
    assert rules.next_step(late, TERM_END) is None  # the term has ended, but the payment comes first
    assert rules.due_at(late) == TERM_END + timedelta(seconds=115)


@pytest.mark.parametrize("sub", [
    make_subscription(),
    make_subscription(status="past_due", next_retry_at=TERM_START + DAY),
    make_subscription(status="past_due", next_retry_at=TERM_END + DAY),  # even after the term's end
    make_subscription(pending_payment=pending(TERM_END - timedelta(seconds=5))),
    make_subscription(status="past_due", next_retry_at=TERM_START + DAY, pending_payment=pending(TERM_START)),
], ids=["active", "past-due", "retry-after-the-term", "paying-at-the-end", "past-due-paying"])
def test_the_due_time_is_exactly_when_there_is_something_to_do(sub: object) -> None:
    due = rules.due_at(sub)  # type: ignore[arg-type]
    assert rules.next_step(sub, due - timedelta(microseconds=1)) is None  # type: ignore[arg-type]
    assert rules.next_step(sub, due) is not None  # type: ignore[arg-type]


@pytest.mark.parametrize(("changes", "step"), [
    pytest.param({"cancellation": ScheduledCancellation(TERM_END, "sao", NOW, None, ACK)}, "end", id="cancelled"),
    pytest.param({"cancellation": ScheduledCancellation(utc(2026, 5, 1), "sao", NOW, None, ACK),
                  "renewal": prepaid(10)}, "roll_over_prepaid", id="cancelled-after-the-prepaid-term"),
    pytest.param({"renewal": prepaid(12)}, "roll_over_prepaid", id="prepaid"),
    pytest.param({"channel": "reseller"}, "roll_over_managed", id="reseller"),
    pytest.param({"scheduled_reduction": reduction(5)}, "renew", id="reduction"),
    pytest.param({}, "renew", id="plain"),
    pytest.param({"status": "ended"}, None, id="ended"),
])
def test_what_happens_at_the_end_of_the_term(changes: dict[str, object], step: str | None) -> None:
    assert rules.next_step(make_subscription(**changes), TERM_END) == step


def test_enterprise_rolls_over() -> None:
    assert rules.next_step(make_subscription("enterprise-annual-eur", 150, end=TERM_END), TERM_END) == \
        "roll_over_managed"


# --- transitions without a charge ----------------------------------------------------------------------

def test_a_cancellation_ends_the_subscription_at_the_end_of_the_term() -> None:
    sub = make_subscription(cancellation=ScheduledCancellation(TERM_END, "sao", NOW, "too pricey", ACK))
    ended = rules.end_cancelled(sub)
    assert (ended.status, ended.ended_at, ended.ended_reason, ended.version) == ("ended", TERM_END, "cancelled", 2)


def test_a_prepaid_term_starts_with_its_seats() -> None:
    rolled = rules.roll_over_prepaid(make_subscription(seats=10, renewal=prepaid(14)))
    assert (rolled.seats, rolled.current_period_start, rolled.current_period_end, rolled.renewal) == (
        14, TERM_END, utc(2026, 5, 1), None)


def test_terms_keep_the_anchor_day() -> None:
    sub = make_subscription(start=utc(2026, 1, 31), end=utc(2026, 2, 28))
    ends = []
    for _ in range(3):
        sub = rules.roll_over_managed(sub)
        ends.append(sub.current_period_end)
    assert ends == [utc(2026, 3, 31), utc(2026, 4, 30), utc(2026, 5, 31)]


# --- the renewal's seats ------------------------------------------------------------------------------

@pytest.mark.parametrize(("seats", "target", "active", "removed_ago", "expected", "clamped"), [
    pytest.param(10, None, 4, None, 10, False, id="no-reduction-keeps-the-seats"),
    pytest.param(10, 5, 4, None, 5, False, id="the-target"),
    pytest.param(10, 5, 5, None, 5, False, id="the-target-exactly-covers-the-users"),
    pytest.param(10, 5, 7, None, 7, True, id="never-below-the-active-users"),
    pytest.param(10, 5, 5, 60, 6, True, id="a-removal-60s-ago-still-counts"),
    pytest.param(10, 5, 5, 120, 5, False, id="a-removal-120s-ago-no-longer-counts"),
    pytest.param(10, 5, 12, None, 10, True, id="never-above-the-current-seats"),
])
def test_the_renewal_takes_the_reduction_target_never_below_the_active_users(
        seats: int, target: int | None, active: int, removed_ago: int | None, expected: int, clamped: bool) -> None:
    removed = (TERM_END - timedelta(seconds=removed_ago),) if removed_ago is not None else ()
    sub = make_subscription(seats=seats, scheduled_reduction=reduction(target) if target else None)
    result = rules.renewal_seats(sub, make_users(active, removed), TERM_END)
    assert (result.seats, result.clamped, result.requested) == (expected, clamped, target)


# --- failed payments and the retry schedule ---------------------------------------------------------------

def test_retries_come_one_three_and_five_days_after_the_term_ended() -> None:
    # After the renewal, the unpaid term is the current one: it started when the old one ended.
    sub = make_subscription(start=TERM_END, end=utc(2026, 5, 1), open_invoice_id="inv_1")
    now = TERM_END + timedelta(minutes=3)
    schedule = []
    for _ in range(4):
        sub = rules.payment_failed(sub.bump(pending_payment=pending(now)), now)
        schedule.append((sub.status, sub.payment_attempts, sub.next_retry_at))
        now = sub.next_retry_at + timedelta(minutes=2) if sub.next_retry_at else now
    assert schedule == [
        ("past_due", 1, TERM_END + DAY), ("past_due", 2, TERM_END + 3 * DAY), ("past_due", 3, TERM_END + 5 * DAY),
        ("ended", 4, None),
    ]
    assert (sub.ended_reason, sub.open_invoice_id, sub.pending_payment) == ("payment_failed", None, None)
    assert sub.ended_at == TERM_END + 5 * DAY + timedelta(minutes=2)


def test_an_extra_attempt_before_the_next_retry_keeps_the_schedule() -> None:
    sub = make_subscription(start=TERM_END, end=utc(2026, 5, 1), status="past_due", payment_attempts=2,
                            next_retry_at=TERM_END + 3 * DAY, open_invoice_id="inv_1")
    failed = rules.payment_failed(sub, TERM_END + 2 * DAY)
    assert (failed.status, failed.payment_attempts, failed.next_retry_at) == ("past_due", 3, TERM_END + 3 * DAY)


def test_missed_retries_are_skipped_not_made_up_in_a_burst() -> None:
    assert rules.next_retry(TERM_END, TERM_END + 2 * DAY) == TERM_END + 3 * DAY
    assert rules.next_retry(TERM_END, TERM_END + 5 * DAY) is None


# --- derived ids ----------------------------------------------------------------------------------------

def test_the_renewal_invoice_id_is_the_same_for_the_same_term_and_sorts_by_time() -> None:
    sub = make_subscription()
    assert rules.renewal_invoice_id(sub) == rules.renewal_invoice_id(replace(sub, version=7, seats=3))
    assert rules.renewal_invoice_id(sub) != rules.renewal_invoice_id(replace(sub, current_period_end=utc(2026, 5, 1)))
    assert rules.renewal_invoice_id(sub) != rules.renewal_invoice_id(replace(sub, id="sub_2"))
    earlier, later = new_id("inv", TERM_END - DAY), new_id("inv", TERM_END + DAY)
    assert earlier < rules.renewal_invoice_id(sub) < later
    assert len(derived_id("inv", NOW, "x")) == len(new_id("inv", NOW))
    assert rules.attempt_key("inv_1", 2) == "inv_1-attempt-2"


def test_a_user_removed_before_the_settling_period_does_not_count() -> None:
    users = (make_user("a@x.example"), make_user("b@x.example", removed_at=TERM_END - timedelta(seconds=121)))
    assert rules.renewal_seats(make_subscription(scheduled_reduction=reduction(1)), users, TERM_END).seats == 1
