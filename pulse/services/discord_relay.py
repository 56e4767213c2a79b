"""Discord activity relayed by our bot: stored once per team as weighted contributions.

The web tier has already checked the relay's Ed25519 signature and freshness (the view,
before parsing). Here: find the team whose install link brought the bot into that guild
(a guild merely typed in by a team is not enough), record the delivery (the idempotency
key: the event's `id` per team), weigh the activity (`omotenashi`) with a few indexed
queries for its context, and store it as a verified `Contribution` of the author's
contributor (or unclaimed, under the Discord id, until someone links it).

A reaction by the person a reply answered also marks that reply as an acknowledged answer
(its weight doubled, once).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from pulse.cache import teams_changed
from pulse.discord.payload import RelayEvent
from pulse.models import (
    Contribution,
    Contributor,
    DeliveryOutcome,
    Platform,
    Team,
    Verification,
    WebhookDelivery,
    WebhookSource,
)
from pulse.services.omotenashi import (
    DEFAULT_RULES,
    DiscordActivity,
    DiscordActivityKind,
    OmotenashiRules,
    omotenashi_acknowledged,
    omotenashi_weight,
)

# What a person writes (as opposed to reacting or joining): newcomers are counted by it.
_WRITTEN = [
    DiscordActivityKind.MESSAGE,
    DiscordActivityKind.REPLY,
    DiscordActivityKind.THREAD_MESSAGE,
]


class RelayOutcome(StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


@dataclass(frozen=True)
class RelayResult:
    outcome: RelayOutcome
    detail: str = ""
    contribution: Contribution | None = None
    acknowledged: Contribution | None = None


def discord_team_of_guild(*, guild_id: str) -> Team | None:
    """The team our bot was installed for in this guild (through its install link)."""
    return Team.objects.filter(
        discord_guild_id=guild_id,
        discord_guild_verified_at__isnull=False,
        discord_guild_lapsed_at__isnull=True,
    ).first()


def discord_relay_record(
    *, event: RelayEvent, rules: OmotenashiRules = DEFAULT_RULES
) -> RelayResult:
    """Store one relayed activity. A guild no team installed the bot for is ignored (and
    nothing is stored); a repeat of an event id changes nothing."""
    team = discord_team_of_guild(guild_id=event.guild_id)
    if team is None:
        return RelayResult(RelayOutcome.IGNORED, "This Discord server is linked to no team.")
    try:
        with transaction.atomic():
            return _record(team=team, event=event, rules=rules)
    except IntegrityError:
        # A concurrent copy of the same relay won the delivery's unique key.
        return RelayResult(RelayOutcome.DUPLICATE, "Already received.")


def _record(*, team: Team, event: RelayEvent, rules: OmotenashiRules) -> RelayResult:
    delivery, created = WebhookDelivery.objects.get_or_create(
        source=WebhookSource.DISCORD,
        team=team,
        delivery_id=event.id,
        defaults={
            "event": event.type.value,
            "payload": event.model_dump(mode="json", exclude_none=True),
            "outcome": DeliveryOutcome.PROCESSED,
            "processed_at": timezone.now(),
        },
    )
    if not created:
        return RelayResult(RelayOutcome.DUPLICATE, "Already received.")
    contributor = Contributor.objects.filter(team=team, discord_id=event.author_id).first()
    weight = omotenashi_weight(activity=_activity(team=team, event=event, rules=rules), rules=rules)
    metadata: dict[str, object] = {"channel_id": event.channel_id}
    for name in ("reply_to_author_id", "message_id", "content_length"):
        if (value := getattr(event, name)) is not None:
            metadata[name] = value
    contribution = Contribution.objects.create(
        team=team,
        contributor=contributor,
        platform=Platform.DISCORD,
        source_id=event.id,
        source_login=event.author_id,
        contribution_type=event.type.value,
        weight=weight,
        metadata=metadata,
        occurred_at=event.created_at,
        verification=Verification.VERIFIED,
        delivery=delivery,
    )
    if contributor is not None:
        Contributor.objects.filter(pk=contributor.pk).filter(
            Q(last_active_at__isnull=True) | Q(last_active_at__lt=event.created_at)
        ).update(last_active_at=event.created_at)
        teams_changed([team.pk])  # the leaderboard's "last active"
    acknowledged = _acknowledge(team=team, event=event, rules=rules)
    delivery.detail = f"{event.type.value} weighted {weight}" + (
        f"; acknowledged answer {acknowledged.source_id}" if acknowledged else ""
    )
    delivery.save(update_fields=["detail"])
    return RelayResult(RelayOutcome.STORED, delivery.detail, contribution, acknowledged)


def _activity(*, team: Team, event: RelayEvent, rules: OmotenashiRules) -> DiscordActivity:
    """The activity with its context: the author's earlier activity that UTC day, and
    whether it answers a newcomer."""
    day_start = event.created_at.replace(hour=0, minute=0, second=0, microsecond=0)
    earlier = (
        Contribution.objects.filter(
            team=team,
            platform=Platform.DISCORD,
            source_login=event.author_id,
            occurred_at__gte=day_start,
            occurred_at__lt=event.created_at,
        )
        .exclude(contribution_type=DiscordActivityKind.MEMBER_JOIN)
        .aggregate(count=Count("id"), latest=Max("occurred_at"))
    )
    latest: dt.datetime | None = earlier["latest"]
    target = event.reply_to_author_id
    return DiscordActivity(
        kind=event.type,
        content_length=event.content_length,
        self_directed=target is not None and target == event.author_id,
        to_newcomer=target is not None and _is_newcomer(team, target, event.created_at, rules),
        earlier_today=earlier["count"],
        seconds_since_previous=(event.created_at - latest).total_seconds() if latest else None,
    )


def _is_newcomer(team: Team, discord_id: str, at: dt.datetime, rules: OmotenashiRules) -> bool:
    """Joined within `newcomer_days`, or still among their first `newcomer_messages`."""
    theirs = Contribution.objects.filter(
        team=team, platform=Platform.DISCORD, source_login=discord_id, occurred_at__lte=at
    )
    joined_lately = theirs.filter(
        contribution_type=DiscordActivityKind.MEMBER_JOIN,
        occurred_at__gte=at - dt.timedelta(days=rules.newcomer_days),
    )
    if joined_lately.exists():
        return True
    written = theirs.filter(contribution_type__in=_WRITTEN)[: rules.newcomer_messages]
    return written.count() < rules.newcomer_messages


def _acknowledge(*, team: Team, event: RelayEvent, rules: OmotenashiRules) -> Contribution | None:
    """A reaction by the person a reply answered: that reply is an acknowledged answer."""
    if event.type is not DiscordActivityKind.REACTION or event.message_id is None:
        return None
    if event.reply_to_author_id == event.author_id:
        return None  # reacting to one's own reply acknowledges nothing
    answer = (
        Contribution.objects.select_for_update()
        .filter(
            team=team,
            platform=Platform.DISCORD,
            source_id=event.message_id,
            contribution_type__in=[DiscordActivityKind.REPLY, DiscordActivityKind.THREAD_MESSAGE],
            metadata__reply_to_author_id=event.author_id,
        )
        .exclude(metadata__has_key="acknowledged_by")
        .first()
    )
    if answer is None:
        return None
    answer.weight = omotenashi_acknowledged(weight=Decimal(answer.weight), rules=rules)
    answer.metadata = {**answer.metadata, "acknowledged_by": event.author_id}
    answer.save(update_fields=["weight", "metadata"])
    return answer
