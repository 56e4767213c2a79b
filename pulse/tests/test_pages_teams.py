from __future__ import annotations

import datetime as dt
from urllib.parse import unquote

import pytest
from django.test import Client
from django.utils import timezone
from eth_account import Account

from accounts.models import Role
from accounts.tests.factories import MembershipFactory, OrganizationFactory
from pulse.models import Contributor, GitHubInstallation, RepositoryClaim, Team, TeamRepository
from pulse.services.github_app import github_app_install_url
from pulse.tests.factories import TeamFactory

pytestmark = pytest.mark.django_db


def signed_in(organization, role=Role.MEMBER):
    membership = MembershipFactory(organization=organization, role=role)
    client = Client()
    client.force_login(membership.user)
    return client, membership.user


def test_create_a_team_shows_its_secret_once(organization):
    client, _ = signed_in(organization)
    assert client.get("/pulse/teams/new").status_code == 200
    response = client.post(
        "/pulse/teams/new",
        {
            "organization": str(organization.id),
            "team_name": "Core",
            "github_repos": "octo/app\nocto/api",
        },
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    team = Team.objects.get()
    page = response.content.decode()
    assert team.github_webhook_secret in page
    assert f"/api/v1/github/webhook?team={team.pulse_id}" in page
    assert sorted(team.repositories.values_list("full_name", flat=True)) == ["octo/api", "octo/app"]
    settings_page = client.get(f"/pulse/teams/{team.pulse_id}/settings").content.decode()
    assert team.github_webhook_secret not in settings_page
    assert "octo/api" in settings_page


def test_create_refusals_show_on_the_form_and_store_nothing(organization):
    client, _ = signed_in(organization)
    response = client.post(
        "/pulse/teams/new",
        {"organization": str(organization.id), "team_name": "Core", "github_repos": "not a repo"},
    )
    assert response.status_code == 400
    assert "is not a GitHub repository" in response.content.decode()
    assert not Team.objects.exists()
    viewer, _ = signed_in(organization, Role.VIEWER)
    response = viewer.post(
        "/pulse/teams/new", {"organization": str(organization.id), "team_name": "Core"}
    )
    assert response.status_code == 403
    assert not Team.objects.exists()


def test_team_list_shows_only_the_callers_teams(organization):
    mine = TeamFactory(organization=organization, team_name="Mine")
    TeamFactory(team_name="Theirs")
    client, _ = signed_in(organization)
    page = client.get("/pulse/teams/").content.decode()
    assert "Mine" in page and "Theirs" not in page
    assert f"/pulse/teams/{mine.pulse_id}/settings" in page


def test_settings_access(team):
    stranger, _ = signed_in(OrganizationFactory())
    assert stranger.get(f"/pulse/teams/{team.pulse_id}/settings").status_code == 404
    viewer, _ = signed_in(team.organization, Role.VIEWER)
    page = viewer.get(f"/pulse/teams/{team.pulse_id}/settings").content.decode()
    assert "Make a new secret" not in page and "Add a contributor" not in page
    assert viewer.post(f"/pulse/teams/{team.pulse_id}/github-secret").status_code == 403
    member, _ = signed_in(team.organization)
    assert member.post(f"/pulse/teams/{team.pulse_id}/github-secret").status_code == 403
    team.refresh_from_db()
    assert team.github_webhook_secret == "team-secret-1"


def test_rotate_the_secret(team):
    admin, _ = signed_in(team.organization, Role.ADMIN)
    assert admin.get(f"/pulse/teams/{team.pulse_id}/github-secret").status_code == 200
    response = admin.post(f"/pulse/teams/{team.pulse_id}/github-secret")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    team.refresh_from_db()
    assert team.github_webhook_secret != "team-secret-1"
    assert team.github_webhook_secret in response.content.decode()


def test_add_a_contributor_and_conflicts(team):
    client, _ = signed_in(team.organization)
    wallet = Account.create().address
    path = f"/pulse/teams/{team.pulse_id}/contributors/new"
    response = client.post(path, {"wallet_address": wallet, "github_username": "OctoCat"})
    assert response.status_code == 303
    assert Contributor.objects.get().github_login == "octocat"
    conflict = client.post(
        path, {"wallet_address": Account.create().address, "github_username": "octocat"}
    )
    assert conflict.status_code == 409
    assert "Another contributor" in conflict.content.decode()
    bad = client.post(path, {"wallet_address": "0xnope"})
    assert bad.status_code == 400
    assert Contributor.objects.count() == 1


def test_add_repositories(team):
    TeamRepository.objects.create(
        team=TeamFactory(), full_name="octo/held", claim=RepositoryClaim.APP
    )
    client, _ = signed_in(team.organization)
    response = client.post(
        f"/pulse/teams/{team.pulse_id}/repositories/new", {"github_repos": "Octo/New, octo/held"}
    )
    assert response.status_code == 303
    claims = dict(team.repositories.values_list("full_name", "lapsed_at"))
    assert claims["octo/new"] is None and claims["octo/held"] is not None


# --- the GitHub App's setup URL -------------------------------------------------------------------


def _state(team, user, settings):
    settings.GITHUB_APP_SLUG = "fabrknt-pulse"
    return unquote(github_app_install_url(team=team, user=user).split("state=")[1])


def test_setup_links_the_installation_to_the_team(team, settings):
    admin, user = signed_in(team.organization, Role.ADMIN)
    settings_page = admin.get(f"/pulse/teams/{team.pulse_id}/settings")
    assert settings_page.status_code == 200
    state = _state(team, user, settings)
    GitHubInstallation.objects.create(
        installation_id=957387, covered_repositories=[{"id": 5, "full_name": "Octo/App"}]
    )
    response = admin.get(
        "/pulse/teams/github/setup",
        {"installation_id": "957387", "setup_action": "install", "state": state},
    )
    assert response.status_code == 303
    assert response["Location"] == f"/pulse/teams/{team.pulse_id}/settings"
    claim = TeamRepository.objects.get()
    assert (claim.team, claim.full_name, claim.claim) == (team, "octo/app", RepositoryClaim.APP)


def test_setup_waits_for_githubs_event(team, settings):
    admin, user = signed_in(team.organization, Role.ADMIN)
    response = admin.get(
        "/pulse/teams/github/setup", {"installation_id": "1", "state": _state(team, user, settings)}
    )
    assert response.status_code == 200
    assert '<meta http-equiv="refresh"' in response.content.decode()
    assert not TeamRepository.objects.exists()


def test_setup_refusals(team, settings):
    admin, user = signed_in(team.organization, Role.ADMIN)
    state = _state(team, user, settings)
    assert (
        admin.get("/pulse/teams/github/setup", {"installation_id": "x", "state": state}).status_code
        == 400
    )
    assert (
        admin.get(
            "/pulse/teams/github/setup", {"installation_id": "1", "state": "forged"}
        ).status_code
        == 400
    )
    other_admin, _ = signed_in(team.organization, Role.ADMIN)
    assert (
        other_admin.get(
            "/pulse/teams/github/setup", {"installation_id": "1", "state": state}
        ).status_code
        == 400
    )
    # A member's own state, but the team is not theirs to manage.
    member, member_user = signed_in(team.organization, Role.MEMBER)
    member_state = _state(team, member_user, settings)
    GitHubInstallation.objects.create(installation_id=2)
    assert (
        member.get(
            "/pulse/teams/github/setup", {"installation_id": "2", "state": member_state}
        ).status_code
        == 403
    )
    # An installation older than the link is someone else's.
    GitHubInstallation.objects.filter(installation_id=2).update(
        created_at=timezone.now() - dt.timedelta(days=1)
    )
    response = admin.get("/pulse/teams/github/setup", {"installation_id": "2", "state": state})
    assert response.status_code == 409
    assert GitHubInstallation.objects.get(installation_id=2).team is None
