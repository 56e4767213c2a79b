"""The Omotenashi weighting, in figures (pulse/services/omotenashi.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pulse.services.omotenashi import (
    DiscordActivity,
    DiscordActivityKind,
    OmotenashiRules,
    omotenashi_acknowledged,
    omotenashi_diminishing,
    omotenashi_weight,
)

K = DiscordActivityKind


def weight(**activity) -> Decimal:
    return omotenashi_weight(activity=DiscordActivity(**activity))


def test_helping_counts_more_than_talking():
    message = weight(kind=K.MESSAGE, content_length=120)
    reply = weight(kind=K.REPLY, content_length=120)
    welcome = weight(kind=K.REPLY, content_length=120, to_newcomer=True)
    # The type's own weight (a reply 1.00, a message 0.50) is the scores'; this is the
    # quality of the one activity.
    assert (message, reply, welcome) == (Decimal("1.00"), Decimal("1.00"), Decimal("2.00"))
    assert omotenashi_acknowledged(weight=welcome) == Decimal("4.00")
    assert omotenashi_acknowledged(weight=reply) == Decimal("2.00")


def test_thread_messages_and_reactions():
    assert weight(kind=K.THREAD_MESSAGE, content_length=80) == Decimal("1.00")
    assert weight(kind=K.THREAD_MESSAGE, content_length=80, to_newcomer=True) == Decimal("2.00")
    assert weight(kind=K.REACTION) == Decimal("1.00")
    # A reaction has no text: to a newcomer or not, it is the same small gesture.
    assert weight(kind=K.REACTION, to_newcomer=True) == Decimal("1.00")
    assert weight(kind=K.REACTION, self_directed=True) == Decimal("0.10")
    # A join is neutral (its type weighs 0 by default) and never diminished.
    assert weight(kind=K.MEMBER_JOIN, earlier_today=30) == Decimal("1.00")


def test_short_messages_self_replies_and_floods_count_little():
    assert weight(kind=K.MESSAGE, content_length=3) == Decimal("0.20")
    assert weight(kind=K.MESSAGE, content_length=10) == Decimal("1.00")  # 10 is not short
    assert weight(kind=K.REPLY, content_length=200, self_directed=True) == Decimal("0.10")
    # A self-reply is never a welcome, even to oneself as a newcomer.
    assert weight(kind=K.REPLY, content_length=200, self_directed=True, to_newcomer=True) == (
        Decimal("0.10")
    )
    assert weight(kind=K.MESSAGE, content_length=50, seconds_since_previous=4) == Decimal("0.20")
    assert weight(kind=K.MESSAGE, content_length=50, seconds_since_previous=10) == Decimal("1.00")
    # All three at once: 0.1 × 0.2 × 0.2 = 0.004, counted as the least, 0.01.
    flooded_short_self_reply = weight(
        kind=K.REPLY, content_length=2, self_directed=True, seconds_since_previous=1
    )
    assert flooded_short_self_reply == Decimal("0.01")


@pytest.mark.parametrize(
    ("earlier_today", "factor"),
    [
        (0, "1"),
        (1, "0.9"),
        (2, "0.81"),
        (10, "0.3486784401"),
        (28, "0.0523347633027360537213511521"),
        (29, "0.05"),
        (500, "0.05"),
    ],
)
def test_diminishing_returns_per_author_and_day(earlier_today, factor):
    assert omotenashi_diminishing(earlier_today=earlier_today) == Decimal(factor)


def test_a_day_of_messages_adds_up_to_a_bounded_total():
    day = [weight(kind=K.MESSAGE, content_length=40, earlier_today=n) for n in range(100)]
    assert day[0] == Decimal("1.00")
    assert day[10] == Decimal("0.35")
    assert day[99] == Decimal("0.05")
    # A hundred messages weigh about 13, not 100: (1 - 0.9^29)/0.1 + 71 × 0.05, each rounded.
    assert sum(day) == Decimal("13.09")


def test_rules_are_tunable():
    rules = OmotenashiRules(newcomer_multiplier=Decimal("3"), daily_decay=Decimal("0.5"))
    activity = DiscordActivity(kind=K.REPLY, content_length=50, to_newcomer=True, earlier_today=1)
    assert omotenashi_weight(activity=activity, rules=rules) == Decimal("1.50")
