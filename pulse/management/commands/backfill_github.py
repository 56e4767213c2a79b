"""`manage.py backfill_github --team PULSE_ID --since DATE`: a team's GitHub history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pulse.models import Team
from pulse.services.github_backfill import team_github_backfill
from pulse.services.github_rest import GitHubApiError


def _date(value: str) -> dt.datetime:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--since: {value!r} is not a date (YYYY-MM-DD)") from None
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


class Command(BaseCommand):
    help = (
        "Read a team's GitHub history since a date (commits, pull requests, reviews, issues, "
        "comments) through the REST API and store it verified. Safe to re-run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--team", required=True, help="the team's pulse_id")
        parser.add_argument("--since", required=True, type=_date, help="YYYY-MM-DD (UTC)")

    def handle(self, *args: Any, team: str, since: dt.datetime, **options: Any) -> None:
        found = Team.objects.filter(pulse_id=team).first()
        if found is None:
            raise CommandError(f"No team {team!r}")
        try:
            totals = team_github_backfill(team=found, since=since, progress=self.stdout.write)
        except GitHubApiError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"{totals.repositories} repositories: {totals.created} new contributions, "
                f"{totals.confirmed} confirmed, {totals.skipped} items skipped, "
                f"{totals.requests} requests"
            )
        )
