"""The vitality pages through Django's test client: who may see and do what, and the empty
states of a team not scored yet."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from accounts.tests.factories import MembershipFactory
from pulse.models import SBTRecord, SBTStatus, ScoreSnapshot
from pulse.services.scores import scores_calculate
from pulse.services.weekly_reports import last_full_week, weekly_report_build
from pulse.tests.factories import ContributionFactory, ContributorFactory, TeamFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _client(team, role=Role.MEMBER) -> Client:
    client = Client()
    client.force_login(MembershipFactory(organization=team.organization, role=role).user)
    return client


def _scored_team():
    team = TeamFactory()
    person = ContributorFactory(team=team)
    ContributionFactory(team=team, contributor=person)
    scores_calculate()
    weekly_report_build(team=team, week_start=last_full_week())
    return team, person


def _urls(team, person) -> list[str]:
    base = f"/pulse/teams/{team.pulse_id}"
    return [
        f"{base}/",
        f"{base}/contributors/{person.pk}/",
        f"{base}/reports/",
        f"{base}/reports/{last_full_week().isoformat()}/",
    ]


def test_a_viewer_sees_every_page_of_their_team():
    team, person = _scored_team()
    client = _client(team, Role.VIEWER)
    assert team.team_name in client.get("/pulse/teams/").content.decode()
    for url in _urls(team, person):
        assert client.get(url).status_code == 200, url


def test_another_organizations_team_is_a_404_everywhere():
    team, person = _scored_team()
    stranger = _client(TeamFactory(), Role.OWNER)
    assert team.team_name not in stranger.get("/pulse/teams/").content.decode()
    for url in _urls(team, person):
        assert stranger.get(url).status_code == 404, url
    assert stranger.post(f"/pulse/teams/{team.pulse_id}/recalculate").status_code == 404


def test_a_contributor_or_report_of_another_team_is_a_404():
    team, person = _scored_team()
    sibling = TeamFactory(organization=team.organization)
    client = _client(team)
    assert (
        client.get(f"/pulse/teams/{sibling.pulse_id}/contributors/{person.pk}/").status_code == 404
    )
    assert client.get(f"/pulse/teams/{team.pulse_id}/reports/2026-13-01/").status_code == 404
    assert client.get(f"/pulse/teams/{team.pulse_id}/reports/2020-01-06/").status_code == 404


def test_a_viewer_may_not_recalculate_and_nothing_is_queued():
    team, _ = _scored_team()
    before = ScoreSnapshot.objects.count()
    response = _client(team, Role.VIEWER).post(f"/pulse/teams/{team.pulse_id}/recalculate")
    assert response.status_code == 403
    assert ScoreSnapshot.objects.count() == before


def test_a_member_recalculates(django_capture_on_commit_callbacks):
    team, _ = _scored_team()
    before = ScoreSnapshot.objects.filter(team=team, contributor=None).count()
    with django_capture_on_commit_callbacks(execute=True):
        response = _client(team).post(f"/pulse/teams/{team.pulse_id}/recalculate")
    assert response.status_code == 303
    assert ScoreSnapshot.objects.filter(team=team, contributor=None).count() == before + 1


def test_a_team_not_scored_yet_says_so_instead_of_showing_zeros():
    team = TeamFactory()
    html = _client(team).get(f"/pulse/teams/{team.pulse_id}/").content.decode()
    assert "Scores have not been calculated yet." in html
    assert html.count("Not calculated yet") == 4
    assert 'data-testid="explanation"' not in html
    assert "No contributors yet" in html


def test_anonymous_visitors_are_sent_to_sign_in():
    team = TeamFactory()
    response = Client().get(f"/pulse/teams/{team.pulse_id}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/signin")


def test_the_team_page_reads_in_a_fixed_number_of_queries(django_assert_max_num_queries):
    team, _ = _scored_team()
    client = _client(team)
    client.get(f"/pulse/teams/{team.pulse_id}/")  # warm the session and caches
    for _ in range(30):
        ContributionFactory(team=team, contributor=ContributorFactory(team=team))
    scores_calculate()
    with django_assert_max_num_queries(12):
        response = client.get(f"/pulse/teams/{team.pulse_id}/")
    assert response.status_code == 200
    assert response.content.decode().count('href="/pulse/teams/') >= 31


def test_the_contributor_page_shows_the_tokens_as_the_tokens_page_does():
    team, person = _scored_team()
    SBTRecord.objects.create(
        team=team,
        contributor=person,
        milestone="first-merged-pr",
        chain="eip155:31337",
        wallet_address=person.wallet_address,
        token_address="0x" + "5" * 40,
        token_id="7",
        tx_hash="0x" + "a" * 64,
        status=SBTStatus.MINTED,
        issued_at=timezone.now(),
    )
    client = _client(team, Role.VIEWER)
    profile = client.get(f"/pulse/teams/{team.pulse_id}/contributors/{person.pk}/")
    tokens_url = reverse("pulse_sbt:tokens", args=[team.pulse_id, person.pk])
    tokens_page = client.get(tokens_url)
    assert profile.status_code == tokens_page.status_code == 200
    row = re.compile(r'<tr data-testid="sbt-token-first-merged-pr">.*?</tr>', re.S)
    [on_profile] = row.findall(profile.content.decode())
    [on_tokens_page] = row.findall(tokens_page.content.decode())
    assert on_profile == on_tokens_page and "#7" in on_profile
    assert f'href="{tokens_url}"' in profile.content.decode()
