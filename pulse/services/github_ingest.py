"""GitHub activity into contributions: the webhook's deliveries (recorded, then processed
by a task) and the rows both the webhook and the REST backfill write.

Trust: an event signed with the platform App's secret, or read back from GitHub's REST
API, is verified; one signed with a team's own secret is self-reported and written to that
team only, for repositories that team claims and no other team holds through the App.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from fabrknt.api.errors import InvalidInput
from fabrknt.chain.wire import PayloadError
from pulse.cache import teams_changed
from pulse.models import (
    DEFAULT_CONTRIBUTION_WEIGHTS,
    Contribution,
    ContributionWeight,
    Contributor,
    DeliveryOutcome,
    Platform,
    RepositoryClaim,
    Team,
    TeamRepository,
    Verification,
    WebhookDelivery,
    WebhookSource,
)
from pulse.services import github_app
from pulse.services.github_payloads import (
    CONTRIBUTION_EVENTS,
    INSTALLATION_EVENTS,
    GitHubActivity,
    contribution_event_parse,
)
from pulse.services.teams import repository_name_normalize, team_repositories_claim

logger = logging.getLogger("pulse.github")
# Deliveries still `received` this long after arriving lost their task (a broker outage):
# `pulse.github_deliveries_requeue` queues them again.
DELIVERY_REQUEUE_AFTER = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class DeliveryReceipt:
    delivery: WebhookDelivery
    created: bool


def github_delivery_record(
    *, team: Team | None, delivery_id: str, event: str, payload: Any
) -> DeliveryReceipt:
    """Record a delivery whose signature was checked (the App's when `team` is None, else
    that team's) and queue its processing after the commit; a repeat of its
    `X-GitHub-Delivery` changes nothing."""
    source = WebhookSource.GITHUB_REPOSITORY if team else WebhookSource.GITHUB_APP
    with transaction.atomic():
        delivery, created = WebhookDelivery.objects.get_or_create(
            source=source,
            team=team,
            delivery_id=delivery_id,
            defaults={"event": event, "payload": payload},
        )
        if created:
            _enqueue(delivery.pk)
    return DeliveryReceipt(delivery, created)


def _enqueue(delivery_pk: int) -> None:
    from pulse.tasks import github_delivery_process  # tasks import services, not the reverse

    # robust: the delivery is recorded whatever the queue does; the requeue sweep finds it.
    transaction.on_commit(lambda: github_delivery_process.delay(delivery_pk), robust=True)


def github_deliveries_requeue(*, older_than: dt.timedelta = DELIVERY_REQUEUE_AFTER) -> int:
    """Queue again the deliveries whose task was lost; how many."""
    stuck = list(
        WebhookDelivery.objects.filter(
            source__in=[WebhookSource.GITHUB_APP, WebhookSource.GITHUB_REPOSITORY],
            outcome=DeliveryOutcome.RECEIVED,
            received_at__lt=timezone.now() - older_than,
        ).values_list("pk", flat=True)[:1000]
    )
    for pk in stuck:
        _enqueue(pk)
    return len(stuck)


def github_delivery_process(*, delivery_pk: int) -> WebhookDelivery | None:
    """Turn a recorded delivery into contributions or claim changes, once: a delivery no
    longer `received` (processed by another run) is left alone. None when there is none."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("team")
            .filter(pk=delivery_pk, outcome=DeliveryOutcome.RECEIVED)
            .first()
        )
        if delivery is None:
            return None
        try:
            outcome, detail = _dispatch(delivery)
        except PayloadError as error:
            outcome, detail = (
                DeliveryOutcome.FAILED,
                f"not GitHub's documented shape: {error.fields}",
            )
        delivery.outcome = outcome
        delivery.detail = detail[:500]
        delivery.processed_at = timezone.now()
        delivery.save(update_fields=["outcome", "detail", "processed_at"])
    return delivery


def _dispatch(delivery: WebhookDelivery) -> tuple[str, str]:
    event = delivery.event
    if event == "ping":
        return DeliveryOutcome.PROCESSED, "ping"
    if event in INSTALLATION_EVENTS:
        if delivery.source != WebhookSource.GITHUB_APP:
            return DeliveryOutcome.IGNORED, "installation events count only from the GitHub App"
        return DeliveryOutcome.PROCESSED, github_app.installation_event_apply(
            event=event, payload=delivery.payload
        )
    if event not in CONTRIBUTION_EVENTS:
        return DeliveryOutcome.IGNORED, f"event {event!r} is not used"
    parsed = contribution_event_parse(event, delivery.payload)
    if parsed.repository is None:
        return DeliveryOutcome.IGNORED, "the payload names no repository"
    try:
        full_name = repository_name_normalize(full_name=parsed.repository.full_name)
    except InvalidInput:
        return DeliveryOutcome.IGNORED, "the payload's repository is not owner/repo"
    if delivery.source == WebhookSource.GITHUB_APP:
        claim = _app_claim(full_name)
        if claim is None:
            return DeliveryOutcome.IGNORED, f"{full_name} is linked to no team"
        verification = Verification.VERIFIED
    else:
        assert delivery.team is not None
        claim = _team_claim(delivery.team, full_name)
        if claim.lapsed_at is not None:
            return DeliveryOutcome.IGNORED, f"{full_name} is held by another team through the App"
        verification = Verification.SELF_REPORTED
    if claim.github_repository_id is None:
        TeamRepository.objects.filter(pk=claim.pk).update(github_repository_id=parsed.repository.id)
    result = github_activities_record(
        team=claim.team,
        repository=full_name,
        activities=parsed.activities,
        verification=verification,
        delivery=delivery,
    )
    return DeliveryOutcome.PROCESSED, f"{result.created} new, {result.confirmed} confirmed"


def _app_claim(full_name: str) -> TeamRepository | None:
    return (
        TeamRepository.objects.select_related("team")
        .filter(full_name=full_name, claim=RepositoryClaim.APP, lapsed_at__isnull=True)
        .first()
    )


def _team_claim(team: Team, full_name: str) -> TeamRepository:
    """The team's claim on the repository, made (self-reported) by its first delivery."""
    claim = (
        TeamRepository.objects.select_related("team").filter(team=team, full_name=full_name).first()
    )
    if claim is None:
        (claim,) = team_repositories_claim(team=team, full_names=[full_name])
    return claim


def contribution_weights() -> dict[str, Decimal]:
    """The operators' weights per contribution type, the documented defaults elsewhere."""
    weights = dict(DEFAULT_CONTRIBUTION_WEIGHTS)
    weights.update(ContributionWeight.objects.values_list("contribution_type", "weight"))
    return weights


@dataclass(frozen=True)
class RecordResult:
    created: int
    confirmed: int  # self-reported rows that this verified source confirmed


def github_activities_record(
    *,
    team: Team,
    repository: str,
    activities: Sequence[GitHubActivity],
    verification: str,
    delivery: WebhookDelivery | None = None,
) -> RecordResult:
    """Store the activities as the team's contributions, once each (team, platform,
    source id); a verified source confirms rows that were self-reported. Each row is
    attached to the contributor of the team who claims its login, if any."""
    activities = [a for a in activities if _plausible(a.occurred_at)]
    if not activities:
        return RecordResult(0, 0)
    weights = contribution_weights()
    logins = {activity.login for activity in activities}
    contributor_ids = dict(
        Contributor.objects.filter(team=team, github_login__in=logins).values_list(
            "github_login", "id"
        )
    )
    source_ids = [activity.source_id for activity in activities]
    with transaction.atomic():
        mine = Contribution.objects.filter(
            team=team, platform=Platform.GITHUB, source_id__in=source_ids
        )
        existing = set(mine.values_list("source_id", flat=True))
        new = [activity for activity in activities if activity.source_id not in existing]
        Contribution.objects.bulk_create(
            [
                Contribution(
                    team=team,
                    contributor_id=contributor_ids.get(activity.login),
                    platform=Platform.GITHUB,
                    source_id=activity.source_id,
                    source_login=activity.login,
                    contribution_type=activity.contribution_type,
                    weight=weights.get(activity.contribution_type, Decimal("0")),
                    metadata=activity.metadata,
                    occurred_at=activity.occurred_at,
                    verification=verification,
                    repository=repository,
                    delivery=delivery,
                )
                for activity in {a.source_id: a for a in new}.values()
            ],
            ignore_conflicts=True,
        )
        confirmed = 0
        if verification == Verification.VERIFIED:
            confirmed = mine.filter(verification=Verification.SELF_REPORTED).update(
                verification=Verification.VERIFIED
            )
        _last_active_update(team=team, source_ids=source_ids)
    return RecordResult(len({a.source_id for a in new}), confirmed)


# Git was born in 2005; author dates before it (or in the future) are made up or imported:
# not counted, and never a time a page cannot show.
_EARLIEST = dt.datetime(2005, 4, 7, tzinfo=dt.UTC)
_CLOCK_SKEW = dt.timedelta(days=1)


def _plausible(moment: dt.datetime) -> bool:
    try:
        return _EARLIEST <= moment <= timezone.now() + _CLOCK_SKEW
    except OverflowError:
        return False


def _last_active_update(*, team: Team, source_ids: list[str]) -> None:
    latest = (
        Contribution.objects.filter(
            team=team, platform=Platform.GITHUB, source_id__in=source_ids, contributor__isnull=False
        )
        .values("contributor_id")
        .annotate(latest=Max("occurred_at"))
    )
    for row in latest:
        Contributor.objects.filter(pk=row["contributor_id"]).filter(
            Q(last_active_at__isnull=True) | Q(last_active_at__lt=row["latest"])
        ).update(last_active_at=row["latest"])
    teams_changed([team.pk])  # the leaderboard's "last active"
