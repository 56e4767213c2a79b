"""Omotenashi weighting: on Discord, helping others counts more than talking.

A pure function of one relayed activity and what is known around it (no database here:
`pulse.services.discord_relay` gathers the context with a few indexed queries and stores
the result as the contribution's `weight`). The score multiplies it by the operator's
weight of the activity's type (`ContributionWeight`: a reply 1.00, a thread message 0.75,
a message 0.50, a reaction 0.20, a join 0), so answering already counts twice a message;
this weight says how much *this* activity helped:

    weight = quality × diminishing(earlier_today), at least 0.01 (two decimals)

- **quality**, multiplied together:
  - a reply or thread message to a **newcomer** (someone who joined within
    `newcomer_days`, or who has written fewer than `newcomer_messages` messages so far)
    × 2: welcoming and answering a first question is the heart of it;
  - a **self-reply** (or a reaction to one's own message) × 0.1;
  - a **very short** message (`content_length` under `short_length` characters: "ok",
    "+1", an emoji) × 0.2;
  - a **flood**: the same author's previous activity less than `flood_seconds` ago × 0.2.
- **diminishing returns** per author and day: the n-th activity of an author's UTC day
  (n counted from 0) is multiplied by `daily_decay ** n`, never below `daily_floor`, so
  the 100th message of a day is worth 5 % of the first, not as much.

An **answer the asker reacts to** (the author of the message a reply answered adds a
reaction to that reply) has its weight multiplied by `acknowledged_multiplier` (× 2) once,
when the reaction arrives (`omotenashi_acknowledged`).

A member join weighs 1 (neutral: its type's weight decides) and starts the joiner's
newcomer period.

Figures with the defaults: a 120-character reply welcoming a newcomer, first of the day:
2.00 (× the reply's 1.00 = 2 points, four times a message's 0.50); acknowledged by them:
4.00. A 3-character message: 0.20. The 11th long, well-spaced message of the day: 0.35.
A self-reply: 0.10. A flood of short self-replies: 0.01.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum


class DiscordActivityKind(StrEnum):
    """The relay's event types (API.md)."""

    MESSAGE = "message"
    REPLY = "reply"
    REACTION = "reaction"
    THREAD_MESSAGE = "thread_message"
    MEMBER_JOIN = "member_join"


# Contribution.weight's precision, and the least an activity counts.
WEIGHT_PLACES = Decimal("0.01")
MINIMUM_WEIGHT = Decimal("0.01")


@dataclass(frozen=True)
class OmotenashiRules:
    """The tunables, with their documented defaults (module docstring)."""

    newcomer_multiplier: Decimal = Decimal("2")
    newcomer_days: int = 14
    newcomer_messages: int = 3
    self_reply_multiplier: Decimal = Decimal("0.1")
    short_length: int = 10
    short_multiplier: Decimal = Decimal("0.2")
    flood_seconds: int = 10
    flood_multiplier: Decimal = Decimal("0.2")
    daily_decay: Decimal = Decimal("0.9")
    daily_floor: Decimal = Decimal("0.05")
    acknowledged_multiplier: Decimal = Decimal("2")


DEFAULT_RULES = OmotenashiRules()


@dataclass(frozen=True)
class DiscordActivity:
    """One relayed activity and its context.

    `to_newcomer`: it replies to (or reacts to) a newcomer; `self_directed`: it replies or
    reacts to the author's own message; `earlier_today`: how many activities the author
    already has on this UTC day; `seconds_since_previous`: since the author's previous
    activity (None: none before).
    """

    kind: DiscordActivityKind
    content_length: int | None = None
    to_newcomer: bool = False
    self_directed: bool = False
    earlier_today: int = 0
    seconds_since_previous: float | None = None


def _quality(activity: DiscordActivity, rules: OmotenashiRules) -> Decimal:
    multiplier = Decimal(1)
    if activity.self_directed:
        multiplier *= rules.self_reply_multiplier
    elif activity.to_newcomer and activity.kind in {
        DiscordActivityKind.REPLY,
        DiscordActivityKind.THREAD_MESSAGE,
    }:
        multiplier *= rules.newcomer_multiplier
    if activity.content_length is not None and activity.content_length < rules.short_length:
        multiplier *= rules.short_multiplier
    if (
        activity.seconds_since_previous is not None
        and activity.seconds_since_previous < rules.flood_seconds
    ):
        multiplier *= rules.flood_multiplier
    return multiplier


def omotenashi_diminishing(
    *, earlier_today: int, rules: OmotenashiRules = DEFAULT_RULES
) -> Decimal:
    """The factor of an author's activity after `earlier_today` others on the same day."""
    return max(rules.daily_decay ** max(earlier_today, 0), rules.daily_floor)


def omotenashi_weight(
    *, activity: DiscordActivity, rules: OmotenashiRules = DEFAULT_RULES
) -> Decimal:
    """The weight of one Discord activity (two decimal places, at least 0.01)."""
    if activity.kind is DiscordActivityKind.MEMBER_JOIN:
        return Decimal("1.00")
    weight = _quality(activity, rules) * omotenashi_diminishing(
        earlier_today=activity.earlier_today, rules=rules
    )
    return max(weight.quantize(WEIGHT_PLACES, rounding=ROUND_HALF_UP), MINIMUM_WEIGHT)


def omotenashi_acknowledged(*, weight: Decimal, rules: OmotenashiRules = DEFAULT_RULES) -> Decimal:
    """The weight of an answer once the person it answered reacts to it."""
    return (weight * rules.acknowledged_multiplier).quantize(WEIGHT_PLACES, rounding=ROUND_HALF_UP)
