"""PULSE's Celery tasks: thin, idempotent wrappers that take ids and call services."""

from __future__ import annotations

import datetime as dt
import logging

from celery import Task, shared_task
from django.core.cache import cache

from fabrknt.celery import RedeliveryCappedTask
from pulse.models import Team
from pulse.services import github_ingest, notion
from pulse.services.github_backfill import team_github_backfill
from pulse.services.github_rest import GitHubApiError, GitHubRateLimited

logger = logging.getLogger("pulse.github")
BACKFILL_TIME_LIMIT = 3600
# GitHub's rate limit resets within the hour.
RATE_LIMIT_RETRY_SECONDS = 3600
CALCULATE_SCORES_TIME_LIMIT = 1800


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
    base=RedeliveryCappedTask,  # typed: it takes longest_countdown (fabrknt.ops.checks)
    longest_countdown=RATE_LIMIT_RETRY_SECONDS,
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
        raise self.retry(exc=error, countdown=RATE_LIMIT_RETRY_SECONDS) from error
    except GitHubApiError as error:
        logger.warning("GitHub backfill of team %s stopped: %s", team.pulse_id, error)
        return 0
    return totals.created


# --- Notion -----------------------------------------------------------------------------


@shared_task(name="pulse.read_notion", soft_time_limit=30, time_limit=60)
def read_notion() -> int:
    """Beat, every NOTION_SYNC_MINUTES: one `pulse.read_notion_workspace` per connected team."""
    team_ids = notion.notion_connections_due()
    for team_id in team_ids:
        read_notion_workspace.delay(team_id)
    return len(team_ids)


@shared_task(name="pulse.read_notion_workspace", soft_time_limit=240, time_limit=300)
def read_notion_workspace(team_id: str) -> int:
    """A team's page edits since its cursor (idempotent: edits are unique per team)."""
    return notion.notion_pages_read(team_id=team_id).stored


# --- Scores and weekly reports -------------------------------------------------------


@shared_task(
    name="pulse.calculate_scores",
    soft_time_limit=CALCULATE_SCORES_TIME_LIMIT - 60,
    time_limit=CALCULATE_SCORES_TIME_LIMIT,
)
def calculate_scores(team_id: str | None = None) -> dict:
    """Beat, daily: every team's scores (or one team's, by id). A run still busy makes a
    second one a no-op: both would write the same numbers."""
    from pulse.services.scores import scores_calculate

    lock = f"pulse:calculate_scores:{team_id or 'all'}"
    if not cache.add(lock, 1, timeout=CALCULATE_SCORES_TIME_LIMIT):
        return {"skipped": "a calculation is running"}
    try:
        team = None
        if team_id is not None:
            team = Team.objects.filter(pk=team_id).first()
            if team is None:
                return {"skipped": "no such team"}
        run = scores_calculate(team=team)
    finally:
        cache.delete(lock)
    return {"teams": run.teams, "contributors": run.contributors, "seconds": run.seconds}


@shared_task(name="pulse.weekly_reports", soft_time_limit=1700, time_limit=1800)
def weekly_reports(week_start: str | None = None) -> dict:
    """Beat, Mondays: every team's report of the week that just ended, stored and mailed
    (each report at most once)."""
    import datetime as dt

    from pulse.services.weekly_reports import weekly_reports_run

    return weekly_reports_run(week_start=dt.date.fromisoformat(week_start) if week_start else None)
