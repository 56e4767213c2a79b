"""Scores with known inputs give the documented numbers (pulse.services.score_formulas)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from pulse.models import (
    Contribution,
    ContributionType,
    ContributionWeight,
    Contributor,
    IdentityStatus,
    Platform,
    ScoreSnapshot,
    Team,
    Verification,
)
from pulse.services.scores import scores_calculate
from pulse.tests.factories import ContributorFactory, TeamFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

AS_OF = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
_source_ids = itertools.count()


def _add(
    contributor: Contributor | None,
    kind: str,
    *,
    count: int = 1,
    days_ago: float = 0,
    team: Team | None = None,
    weight: str = "1.00",
    verification: str = Verification.VERIFIED,
) -> None:
    team = team or contributor.team
    platform = Platform.DISCORD if kind in {"message", "reply", "reaction"} else Platform.GITHUB
    Contribution.objects.bulk_create(
        Contribution(
            team=team,
            contributor=contributor,
            platform=platform,
            source_id=f"test:{next(_source_ids)}",
            contribution_type=kind,
            weight=Decimal(weight),
            occurred_at=AS_OF - dt.timedelta(days=days_ago),
            verification=verification,
        )
        for _ in range(count)
    )


def _linked(team: Team, **kwargs) -> Contributor:
    return ContributorFactory(
        team=team,
        github_identity=IdentityStatus.LINKED,
        discord_identity=IdentityStatus.LINKED,
        **kwargs,
    )


def _calculate(team: Team | None = None) -> None:
    scores_calculate(team=team, as_of=AS_OF)


def test_points_decay_with_the_half_life(settings):
    team = TeamFactory()
    now, quarter, half_year = (_linked(team) for _ in range(3))
    _add(now, ContributionType.PULL_REQUEST_MERGED)
    _add(quarter, ContributionType.PULL_REQUEST_MERGED, days_ago=90)
    _add(half_year, ContributionType.PULL_REQUEST_MERGED, days_ago=180)
    _calculate()
    scores = {c.pk: c.contribution_score for c in Contributor.objects.all()}
    assert scores == {
        now.pk: Decimal("5.00"),
        quarter.pk: Decimal("2.50"),
        half_year.pk: Decimal("1.25"),
    }

    settings.PULSE_SCORE_HALF_LIFE_DAYS = 45
    _calculate()
    quarter.refresh_from_db()
    assert quarter.contribution_score == Decimal("1.25")


def test_future_contributions_do_not_count_yet():
    team = TeamFactory()
    person = _linked(team)
    _add(person, ContributionType.COMMIT, days_ago=-1)
    _calculate()
    person.refresh_from_db()
    assert person.contribution_score == Decimal("0.00")
    assert person.verified_share is None


def test_developer_activity_is_fifty_at_the_reference_points():
    team = TeamFactory()
    _add(_linked(team), ContributionType.PULL_REQUEST_MERGED, count=100)  # 500 points
    _calculate()
    team.refresh_from_db()
    assert team.developer_activity_score == Decimal("50.00")
    parts = team.score_components["developer_activity"]
    assert parts["points"] == 500.0
    assert parts["events"] == 100
    assert parts["by_type"] == [
        {
            "type": "pull_request_merged",
            "weight": 5.0,
            "events": 100,
            "verified_events": 100,
            "points": 500.0,
            "verified_points": 500.0,
        }
    ]


def test_operator_weights_change_the_score_on_recalculation():
    team = TeamFactory()
    person = _linked(team)
    _add(person, ContributionType.COMMIT, count=3)
    _calculate()
    person.refresh_from_db()
    assert person.contribution_score == Decimal("3.00")
    ContributionWeight.objects.filter(contribution_type="commit").update(weight=Decimal("2.50"))
    _calculate()
    person.refresh_from_db()
    assert person.contribution_score == Decimal("7.50")


@pytest.mark.parametrize(
    ("merged_prs", "bus_factor"),
    [
        ([10, 6, 2, 2], 1),  # 50 of 100 points: one person makes half
        ([8, 6, 4, 2], 2),  # 40 + 30 reach 50 of 100
        ([5, 5, 5, 5], 2),  # equal: two of four
        ([], 0),
    ],
)
def test_bus_factor_is_the_fewest_people_making_half(merged_prs, bus_factor):
    team = TeamFactory()
    for count in merged_prs:
        _add(_linked(team), ContributionType.PULL_REQUEST_MERGED, count=count)
    _calculate()
    team.refresh_from_db()
    assert team.score_components["team_retention"]["bus_factor"] == bus_factor


def test_retention_is_the_share_of_last_periods_people_still_active():
    team = TeamFactory()
    a, b, c, d, e = (_linked(team) for _ in range(5))
    for person in (a, b, c, d):  # active in the previous period (30 to 60 days ago)
        _add(person, ContributionType.COMMIT, days_ago=45)
    for person in (a, b):  # still active in the last 30 days
        _add(person, ContributionType.COMMIT, days_ago=3)
    _add(e, ContributionType.PULL_REQUEST_MERGED, count=40, days_ago=1)  # newcomer, most points
    _calculate()
    team.refresh_from_db()
    parts = team.score_components["team_retention"]
    assert parts["previous_active"] == 4
    assert parts["retained"] == 2
    assert parts["active"] == 3
    assert parts["retention_share"] == 0.5
    assert parts["bus_factor"] == 1
    # 100 × (0.7 × 0.5 + 0.3 × 1/4)
    assert team.team_retention_score == Decimal("42.50")


def test_verified_share_counts_verified_events_by_linked_identities():
    team = TeamFactory()
    linked = _linked(team)
    asserted = ContributorFactory(team=team)  # a login an admin typed
    _add(linked, ContributionType.PULL_REQUEST_MERGED)  # 5 verified
    _add(linked, ContributionType.PULL_REQUEST_MERGED, verification=Verification.SELF_REPORTED)
    _add(asserted, ContributionType.PULL_REQUEST_MERGED, count=2)  # verified event, asserted id
    _calculate()
    team.refresh_from_db()
    linked.refresh_from_db()
    asserted.refresh_from_db()
    assert team.score_components["developer_activity"]["verified_share"] == 0.25
    assert team.score_components["developer_activity"]["verified_events"] == 1
    assert team.verified_share == Decimal("0.2500")
    assert (linked.contribution_score, linked.verified_contribution_score) == (
        Decimal("10.00"),
        Decimal("5.00"),
    )
    assert linked.verified_share == Decimal("0.5000")
    assert asserted.verified_share == Decimal("0.0000")


def test_community_uses_the_omotenashi_weights_and_vitality_combines_the_parts():
    team = TeamFactory(discord_guild_id="81384788765712384")
    helper = _linked(team)
    _add(helper, ContributionType.PULL_REQUEST_MERGED, count=100)  # 500 points: activity 50
    # Replies the ingest weighed 2.50 (a welcome to a newcomer, say) × type weight 1: 250.
    _add(helper, ContributionType.REPLY, count=100, weight="2.50")
    _calculate()
    team.refresh_from_db()
    assert team.community_score == Decimal("50.00")
    assert team.developer_activity_score == Decimal("50.00")
    # Bus factor 1, nobody active in the previous period: 100 × 0.3 × 1/4.
    assert team.team_retention_score == Decimal("7.50")
    # 0.4 × 50 + 0.3 × 7.5 + 0.3 × 50
    assert team.vitality_score == Decimal("37.25")
    assert team.score_components["vitality"]["weights"] == {
        "developer_activity": 0.4,
        "team_retention": 0.3,
        "community": 0.3,
    }


def test_vitality_without_a_community_weighs_the_other_two():
    team = TeamFactory()
    _add(_linked(team), ContributionType.PULL_REQUEST_MERGED, count=100)
    _calculate()
    team.refresh_from_db()
    assert team.score_components["vitality"]["community_measured"] is False
    # (0.4 × 50 + 0.3 × 7.5) / 0.7
    assert team.vitality_score == Decimal("31.79")


def test_unclaimed_contributions_are_counted_apart_until_claimed():
    team = TeamFactory()
    person = _linked(team)
    _add(None, ContributionType.COMMIT, count=4, team=team)
    _calculate()
    team.refresh_from_db()
    assert team.score_components["unattributed_events"] == 4
    assert team.score_components["developer_activity"]["events"] == 0
    Contribution.objects.filter(team=team).update(contributor=person)
    _calculate()
    team.refresh_from_db()
    person.refresh_from_db()
    assert team.score_components["unattributed_events"] == 0
    assert person.contribution_score == Decimal("4.00")


def test_each_calculation_snapshots_teams_and_scored_contributors():
    team = TeamFactory()
    idle = TeamFactory()
    person = _linked(team)
    _linked(team)  # nothing yet: no snapshot
    _add(person, ContributionType.COMMIT)
    _calculate()
    _calculate()
    assert ScoreSnapshot.objects.filter(team=team, contributor=None).count() == 2
    assert ScoreSnapshot.objects.filter(team=idle, contributor=None).count() == 2
    assert ScoreSnapshot.objects.filter(contributor=person).count() == 2
    assert ScoreSnapshot.objects.filter(contributor__isnull=False).count() == 2
    snapshot = ScoreSnapshot.objects.filter(team=team, contributor=None).first()
    assert snapshot.calculated_at == AS_OF
    assert snapshot.components["developer_activity"]["events"] == 1


def test_command_scores_one_team_and_refuses_an_unknown_one():
    team, other = TeamFactory(), TeamFactory()
    _add(_linked(team), ContributionType.COMMIT)
    out = StringIO()
    call_command("calculate_scores", team=team.pulse_id, stdout=out)
    assert "1 team(s)" in out.getvalue()
    team.refresh_from_db()
    other.refresh_from_db()
    assert team.last_calculated_at is not None
    assert other.last_calculated_at is None
    with pytest.raises(CommandError):
        call_command("calculate_scores", team="pt_nope", stdout=StringIO())
    assert ScoreSnapshot.objects.filter(team=other).count() == 0


def test_a_new_contribution_changes_the_contributors_score_after_calculate_scores():
    team = TeamFactory()
    person = _linked(team)
    call_command("calculate_scores", stdout=StringIO())
    person.refresh_from_db()
    assert person.contribution_score == Decimal("0.00")
    Contribution.objects.create(
        team=team,
        contributor=person,
        platform=Platform.GITHUB,
        source_id="review:1",
        contribution_type=ContributionType.REVIEW_APPROVED,
        weight=Decimal("1.00"),
        occurred_at=dt.datetime.now(dt.UTC),
        verification=Verification.VERIFIED,
    )
    call_command("calculate_scores", stdout=StringIO())
    person.refresh_from_db()
    assert person.contribution_score == Decimal("4.00")
    assert person.last_active_at is not None


def test_a_github_events_stored_weight_is_superseded_by_its_types():
    """The GitHub ingest stores the type weight of its day; the current one counts."""
    team = TeamFactory()
    person = _linked(team)
    _add(person, ContributionType.PULL_REQUEST_MERGED, weight="5.00")
    _calculate()
    person.refresh_from_db()
    assert person.contribution_score == Decimal("5.00")
