"""PULSE's score and report tasks: thin, idempotent wrappers over services. Their names are
the ones `fabrknt.celery`'s beat schedule uses."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache

from pulse.models import Team

CALCULATE_SCORES_TIME_LIMIT = 1800


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
