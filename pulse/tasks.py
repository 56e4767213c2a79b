"""PULSE's Celery tasks: thin, idempotent wrappers that take ids and call services."""

from __future__ import annotations

import datetime as dt
import logging

from celery import Task, shared_task

from pulse.models import Team
from pulse.services import github_ingest
from pulse.services.github_backfill import team_github_backfill
from pulse.services.github_rest import GitHubApiError, GitHubRateLimited

logger = logging.getLogger("pulse.github")
BACKFILL_TIME_LIMIT = 3600


@shared_task(
    name="pulse.github_delivery_process",
    soft_time_limit=60,
    time_limit=90,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def github_delivery_process(delivery_pk: int) -> str | None:
    """A recorded GitHub delivery into contributions (a no-op once processed)."""
    delivery = github_ingest.github_delivery_process(delivery_pk=delivery_pk)
    return None if delivery is None else delivery.outcome


@shared_task(name="pulse.github_deliveries_requeue", soft_time_limit=30, time_limit=60)
def github_deliveries_requeue() -> int:
    """Beat, every 5 minutes: queue again deliveries whose task was lost."""
    return github_ingest.github_deliveries_requeue()


@shared_task(
    bind=True,
    name="pulse.backfill_github",
    soft_time_limit=BACKFILL_TIME_LIMIT - 60,
    time_limit=BACKFILL_TIME_LIMIT,
    max_retries=3,
)
def backfill_github(self: Task, team_id: str, since: str) -> int:
    """`manage.py backfill_github` for the admin's action: a team's GitHub history since
    `since` (ISO). Re-runs are harmless; a rate limit that resets too late retries later."""
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        return 0
    try:
        totals = team_github_backfill(team=team, since=dt.datetime.fromisoformat(since))
    except GitHubRateLimited as error:
        raise self.retry(exc=error, countdown=3600) from error
    except GitHubApiError as error:
        logger.warning("GitHub backfill of team %s stopped: %s", team.pulse_id, error)
        return 0
    return totals.created
