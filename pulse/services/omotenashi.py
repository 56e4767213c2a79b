"""Omotenashi weighting: on Discord, helping others counts more than talking.

A pure function of one relayed activity and what is known around it (no database here:
`pulse.services.discord_relay` gathers the context with a few indexed queries and stores the
result). The weight of one activity is

    base(kind) × quality × diminishing(earlier_today)

- **base** by kind: a reply (answering someone) 1.5, a thread message 1.2, a message 1.0, a
  reaction to someone else's message 0.25, a member join 0 (kept: it makes the joiner a
  newcomer for the replies that welcome them).
- **quality**, multiplied together:
  - a reply to a **newcomer** (someone who joined within `newcomer_days`, or who has
    written fewer than `newcomer_messages` messages so far) × 2: welcoming and answering
    a first question is the heart of it;
  - a **self-reply** (or a reaction to one's own message) × 0.1;
  - a **very short** message (`content_length` under `short_length` characters: "ok",
    "+1", an emoji) × 0.2;
  - a **flood**: the same author's previous activity less than `flood_seconds` ago × 0.2.
- **diminishing returns** per author and day: the n-th activity of an author's UTC day
  (n counted from 0) is multiplied by `daily_decay ** n`, never below `daily_floor`, so
  the 100th message of a day is worth 5 % of the first, not 100 times as much.

An **answer the asker reacts to** (the author of the message a reply answered adds a
reaction to that reply) is multiplied by `acknowledged_multiplier` (× 2) once, when the
reaction arrives: `omotenashi_acknowledged`.

Figures with the defaults: a 120-character reply welcoming a newcomer, first of the day:
1.5 × 2 = 3.0; acknowledged by them: 6.0. A 3-character message: 0.2. The 11th message of
the day, well spaced and long: 0.9^10 = 0.3487. A self-reply: 0.15.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum


class DiscordActivityKind(StrEnum):
    """The relay's event types (API.md)."""

    MESSAGE = "message"
    REPLY = "reply"
    REACTION = "reaction"
    THREAD_MESSAGE = "thread_message"
    MEMBER_JOIN = "member_join"


WEIGHT_PLACES = Decimal("0.0001")


def _default_base() -> dict[DiscordActivityKind, Decimal]:
    return {
        DiscordActivityKind.REPLY: Decimal("1.5"),
        DiscordActivityKind.THREAD_MESSAGE: Decimal("1.2"),
        DiscordActivityKind.MESSAGE: Decimal("1.0"),
        DiscordActivityKind.REACTION: Decimal("0.25"),
        DiscordActivityKind.MEMBER_JOIN: Decimal("0"),
    }


@dataclass(frozen=True)
class OmotenashiRules:
    """The tunables, with their documented defaults (module docstring)."""

    base: dict[DiscordActivityKind, Decimal] = field(default_factory=_default_base)
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
    """The weight of one Discord activity (four decimal places)."""
    if activity.kind is DiscordActivityKind.MEMBER_JOIN:
        return Decimal("0.0000")
    weight = (
        rules.base[activity.kind]
        * _quality(activity, rules)
        * omotenashi_diminishing(earlier_today=activity.earlier_today, rules=rules)
    )
    return weight.quantize(WEIGHT_PLACES, rounding=ROUND_HALF_UP)


def omotenashi_acknowledged(*, weight: Decimal, rules: OmotenashiRules = DEFAULT_RULES) -> Decimal:
    """The weight of an answer once the person it answered reacts to it."""
    return (weight * rules.acknowledged_multiplier).quantize(WEIGHT_PLACES, rounding=ROUND_HALF_UP)
