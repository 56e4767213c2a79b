"""GET /api/v1/vitality/{pulse_id}: members and read keys, components, 404 elsewhere."""

from __future__ import annotations

import pytest

from accounts.models import Role
from accounts.services.api_keys import api_key_issue
from accounts.tests.clients import JsonClient, as_key, as_user
from accounts.tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from pulse.models import ContributionType
from pulse.services.scores import scores_calculate
from pulse.tests.factories import ContributionFactory, ContributorFactory, TeamFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _member(organization, role=Role.VIEWER):
    user = UserFactory()
    MembershipFactory(organization=organization, user=user, role=role)
    return user


def _scored_team():
    team = TeamFactory()
    person = ContributorFactory(team=team, github_identity="linked")
    ContributionFactory(
        team=team, contributor=person, contribution_type=ContributionType.PULL_REQUEST_MERGED
    )
    scores_calculate()
    team.refresh_from_db()
    return team


def test_a_viewer_reads_the_scores_and_their_components():
    team = _scored_team()
    response = as_user(_member(team.organization)).get(f"/api/v1/vitality/{team.pulse_id}")
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {
        "pulse_id",
        "vitality_score",
        "developer_activity_score",
        "team_retention_score",
        "components",
        "calculated_at",
    }
    assert body["pulse_id"] == team.pulse_id
    assert body["developer_activity_score"] == float(team.developer_activity_score)
    assert body["vitality_score"] == float(team.vitality_score)
    assert body["verified_share"] == 1.0
    assert body["components"]["developer_activity"]["by_type"][0]["type"] == "pull_request_merged"
    assert body["components"]["team_retention"]["bus_factor"] == 1
    assert body["calculated_at"].endswith("Z")


def test_a_read_key_reads_them_and_an_ingest_key_does_not():
    team = _scored_team()
    read = api_key_issue(organization=team.organization, name="r", scopes=["read"])
    ingest = api_key_issue(organization=team.organization, name="i", scopes=["ingest"])
    assert as_key(read.key).get(f"/api/v1/vitality/{team.pulse_id}").status_code == 200
    assert as_key(ingest.key).get(f"/api/v1/vitality/{team.pulse_id}").status_code == 403


def test_another_organizations_team_is_a_404_and_anonymous_a_401():
    team = _scored_team()
    stranger = _member(OrganizationFactory(), role=Role.OWNER)
    other_key = api_key_issue(organization=OrganizationFactory(), name="r", scopes=["read"])
    for client in (as_user(stranger), as_key(other_key.key)):
        response = client.get(f"/api/v1/vitality/{team.pulse_id}")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert JsonClient().get(f"/api/v1/vitality/{team.pulse_id}").status_code == 401
    assert as_user(stranger).get("/api/v1/vitality/pt_unknown").status_code == 404


def test_a_team_not_yet_calculated_answers_nulls_not_zeros():
    team = TeamFactory()
    body = as_user(_member(team.organization)).get(f"/api/v1/vitality/{team.pulse_id}").json()
    assert body["vitality_score"] is None
    assert body["components"] == {}
    assert body["calculated_at"] is None
