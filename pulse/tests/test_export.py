from __future__ import annotations

import json

import pytest

from accounts.services.organization_export import organization_export_chunks
from pulse.tests.factories import ContributorFactory, TeamFactory, TeamRepositoryFactory

pytestmark = pytest.mark.django_db


def test_the_organization_export_carries_its_teams_but_never_their_secret(organization):
    team = TeamFactory(
        organization=organization, team_name="Core", github_webhook_secret="s3cret-xyz"
    )
    TeamRepositoryFactory(team=team, full_name="octo/app")
    ContributorFactory(team=team, github_login="octocat")
    ContributorFactory()  # another organization's
    text = "".join(organization_export_chunks(organization=organization))
    document = json.loads(text)
    assert [t["pulse_id"] for t in document["pulse_teams"]] == [team.pulse_id]
    assert [r["full_name"] for r in document["pulse_team_repositories"]] == ["octo/app"]
    assert [c["github_login"] for c in document["pulse_contributors"]] == ["octocat"]
    assert "s3cret-xyz" not in text and "github_webhook_secret" not in text
