"""PULSE demo data: living teams (six months of activity, a scored history, weekly
reports), and nothing new on a second run."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from pulse.models import Contribution, Contributor, ScoreSnapshot, Team, WeeklyReport
from pulse.services.demo import DEMO_DAYS, REPORT_WEEKS, SNAPSHOT_EVERY_DAYS, TEAMS

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
MODELS = [Team, Contributor, Contribution, ScoreSnapshot, WeeklyReport]


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def test_seed_demo_makes_living_teams_and_a_second_run_creates_nothing():
    first = StringIO()
    call_command("seed_demo", stdout=first)
    counts = _counts()
    assert counts["Team"] == len(TEAMS)
    assert counts["Contributor"] == sum(len(spec.people) for spec in TEAMS)
    assert counts["Contribution"] > 3000
    assert counts["WeeklyReport"] == len(TEAMS) * REPORT_WEEKS
    assert f"{len(TEAMS)} PULSE teams" in first.getvalue()
    for team in Team.objects.all():
        team_snapshots = ScoreSnapshot.objects.filter(team=team, contributor=None)
        assert team_snapshots.count() >= DEMO_DAYS // SNAPSHOT_EVERY_DAYS
        assert team.last_calculated_at is not None
        assert 0 < team.vitality_score <= 100
        assert team.verified_share is not None
    discord_teams = Team.objects.exclude(discord_guild_id="")
    assert all(team.score_components["community"]["measured"] for team in discord_teams)
    # Someone left Solstice SDK: its retention is below the healthy Basedrop core's.
    solstice = Team.objects.get(team_name="Solstice SDK")
    basedrop = Team.objects.get(team_name="Basedrop core")
    assert solstice.team_retention_score < basedrop.team_retention_score

    second = StringIO()
    call_command("seed_demo", stdout=second)
    assert _counts() == counts
    assert "nothing new was created" in second.getvalue()
