"""Changes in the minutes between a term's end and the applier's run, and volume pricing's free
upgrades across a cheaper tier."""

from __future__ import annotations

import pytest
from selfservice.domain import subscriptions as rules
from selfservice.domain.errors import PeriodClosing
from selfservice.domain.quotes import prorated_amount, quote_increase

from .builders import NOW, TERM_END, TERM_START, make_subscription, make_users, plan


def test_reduction_refused_once_the_term_has_ended() -> None:
    sub = make_subscription(seats=10)
    rules.check_reduction(sub, plan(sub.plan_id), 5, make_users(2), NOW)  # mid-term: fine
    with pytest.raises(PeriodClosing):
        rules.check_reduction(sub, plan(sub.plan_id), 5, make_users(2), TERM_END)


def test_cancellation_refused_once_the_term_has_ended() -> None:
    sub = make_subscription(seats=10)
    rules.check_cancellation(sub, NOW)
    with pytest.raises(PeriodClosing):
        rules.check_cancellation(sub, TERM_END)


def test_volume_increase_into_a_cheaper_tier_is_free_not_a_credit() -> None:
    sek = plan("business-monthly-sek")
    # 25 seats x 310.00 = 7750.00 per month; 26 seats x 285.00 = 7410.00: cheaper.
    assert sek.monthly_amount(26) < sek.monthly_amount(25)
    assert prorated_amount(sek, 25, 26, NOW, TERM_START, TERM_END) == 0
    quote = quote_increase(make_subscription("business-monthly-sek", seats=25), sek, 26, None, NOW)
    assert quote.amount_due == 0 and quote.total == 0
