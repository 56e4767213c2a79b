"""`manage.py calculate_scores [--team PULSE_ID]`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pulse.models import Team
from pulse.services.scores import scores_calculate


class Command(BaseCommand):
    help = (
        "Recalculate contributor scores and team vitality, developer activity, retention and "
        "community scores (every team, or one), with a snapshot each. Safe to re-run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--team", metavar="PULSE_ID", help="only this team (its pulse_id)")

    def handle(self, *args, team: str | None = None, **options) -> None:
        selected = None
        if team is not None:
            selected = Team.objects.filter(pulse_id=team).first()
            if selected is None:
                raise CommandError(f"no team with pulse_id {team}")
        run = scores_calculate(team=selected)
        self.stdout.write(
            self.style.SUCCESS(
                f"{run.teams} team(s) and {run.contributors} contributor(s) scored in "
                f"{run.seconds:.2f} s (as of {run.as_of:%Y-%m-%d %H:%M:%S} UTC)"
            )
        )
        if selected is not None:
            scores = run.team_scores[str(selected.pk)]
            self.stdout.write(
                f"{selected.team_name}: vitality {scores.vitality:.2f}, developer activity "
                f"{scores.developer_activity:.2f}, retention {scores.team_retention:.2f}, "
                f"community {scores.community:.2f}"
            )
