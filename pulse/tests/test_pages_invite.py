"""Inviting a contributor: the link a team member mints on the team's settings, and the
public page it opens (anonymous, the invited wallet, another wallet; forged, expired)."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.test import Client

from accounts.models import Role
from accounts.tests.factories import MembershipFactory, OrganizationFactory, WalletFactory
from pulse.models import Contributor, IdentityStatus
from pulse.services.invites import invite_token_make
from pulse.tests.factories import ContributorFactory, TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _public_base_url(settings):
    settings.PUBLIC_BASE_URL = "https://suite.example"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def member(organization, role=Role.MEMBER) -> Client:
    return signed_in(MembershipFactory(organization=organization, role=role).user)


@pytest.fixture
def invited(team):
    wallet = WalletFactory()
    contributor = ContributorFactory(
        team=team, wallet_address=wallet.address, github_login="octo-dev", discord_id=""
    )
    return wallet, contributor


def invite_path(client: Client, team, contributor) -> str:
    """Click "Invite" on the team's settings: the invitation link, as a path."""
    settings_page = client.get(f"/pulse/teams/{team.pulse_id}/settings").content.decode()
    action = f"/pulse/teams/{team.pulse_id}/contributors/{contributor.pk}/invite"
    assert action in settings_page
    response = client.get(action)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    link = response.context["link"]
    assert link in response.content.decode()
    assert link.startswith("https://suite.example/pulse/invite/")
    return urlsplit(link).path


def test_a_writer_mints_a_link_readers_and_other_organizations_cannot(team, invited):
    _, contributor = invited
    path = f"/pulse/teams/{team.pulse_id}/contributors/{contributor.pk}/invite"
    assert invite_path(member(team.organization), team, contributor).startswith("/pulse/invite/")
    viewer = member(team.organization, Role.VIEWER)
    assert path not in viewer.get(f"/pulse/teams/{team.pulse_id}/settings").content.decode()
    assert viewer.get(path).status_code == 403
    stranger = member(OrganizationFactory(), Role.OWNER)
    assert stranger.get(path).status_code == 404
    # Another team's contributor, through a team the caller can write to: 404.
    elsewhere = ContributorFactory(team=TeamFactory())
    other_path = f"/pulse/teams/{team.pulse_id}/contributors/{elsewhere.pk}/invite"
    assert member(team.organization).get(other_path).status_code == 404
    assert Client().get(path).status_code == 302  # to sign in


def test_anonymous_visitor_is_asked_to_sign_in_with_that_wallet(team, invited):
    wallet, contributor = invited
    path = invite_path(member(team.organization), team, contributor)
    response = Client().get(path)
    assert response.status_code == 200
    page = response.content.decode()
    assert team.team_name in page and wallet.address in page
    assert 'data-testid="invite-anonymous"' in page
    signin_url = response.context["signin_url"]
    assert f'href="{signin_url}"' in page.replace("&amp;", "&")
    # The sign-in page takes the visitor back here afterwards.
    assert Client().get(signin_url).context["next_path"] == path
    # Nothing of the team beyond its name, nor the contributor's identities.
    assert "octo-dev" not in page and team.pulse_id not in page
    assert team.organization.name not in page


def test_the_invited_wallet_sees_its_identities_and_what_is_left(team, invited):
    wallet, contributor = invited
    path = invite_path(member(team.organization), team, contributor)
    response = signed_in(wallet.user).get(path)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="invite-invited"' in page
    assert "Left to do: link GitHub and Discord." in page
    # The Link buttons are pulse.pages.identity's (when the server offers them).
    assert [row["provider"] for row in response.context["identities"]] == ["github", "discord"]
    Contributor.objects.filter(pk=contributor.pk).update(github_identity=IdentityStatus.LINKED)
    page = signed_in(wallet.user).get(path).content.decode()
    assert "Left to do: link Discord." in page


def test_link_buttons_shown_when_the_providers_are_configured(team, invited, settings):
    settings.GITHUB_OAUTH_CLIENT_ID = settings.GITHUB_OAUTH_CLIENT_SECRET = "x"
    settings.DISCORD_CLIENT_ID = settings.DISCORD_CLIENT_SECRET = "y"
    wallet, contributor = invited
    path = invite_path(member(team.organization), team, contributor)
    page = signed_in(wallet.user).get(path).content.decode()
    assert 'href="/account/identities/github/link"' in page
    assert 'href="/account/identities/discord/link"' in page


def test_another_wallet_is_told_plainly(team, invited):
    _, contributor = invited
    path = invite_path(member(team.organization), team, contributor)
    response = signed_in(WalletFactory().user).get(path)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="invite-other_wallet"' in page
    assert "This invitation is for another wallet" in page
    assert "octo-dev" not in page and team.organization.name not in page
    assert "/account/identities/github/link" not in page


def test_forged_altered_and_expired_links_are_refused(team, invited):
    _, contributor = invited
    before = list(Contributor.objects.values())
    token = invite_token_make(contributor=contributor)
    client = Client()
    altered = client.get(f"/pulse/invite/{token[:-2]}xx")
    assert altered.status_code == 400
    assert altered.context["code"] == "invite_invalid"
    forged_token = signing.dumps({"t": team.pulse_id, "c": str(contributor.pk)}, key="x" * 50)
    assert client.get(f"/pulse/invite/{forged_token}").status_code == 400
    wrong_salt = signing.dumps({"t": team.pulse_id, "c": str(contributor.pk)})
    assert client.get(f"/pulse/invite/{wrong_salt}").status_code == 400
    assert client.get("/pulse/invite/nonsense").status_code == 400

    class FifteenDaysAgo(signing.TimestampSigner):
        def timestamp(self) -> str:
            return signing.b62_encode(int(time.time()) - 15 * 24 * 3600)

    old = FifteenDaysAgo(salt="pulse.invite").sign_object(
        {"t": team.pulse_id, "c": str(contributor.pk)}, compress=True
    )
    expired = client.get(f"/pulse/invite/{old}")
    assert expired.status_code == 400
    assert expired.context["code"] == "invite_expired"
    assert "expired" in expired.content.decode()

    # A well-signed link whose team does not match the contributor's, or a removed one: 404.
    mismatch = signing.dumps(
        {"t": TeamFactory().pulse_id, "c": str(contributor.pk)}, salt="pulse.invite"
    )
    assert client.get(f"/pulse/invite/{mismatch}").status_code == 404
    assert list(Contributor.objects.values()) == before
    Contributor.objects.filter(pk=contributor.pk).delete()
    assert client.get(f"/pulse/invite/{token}").status_code == 404


def test_the_validity_is_a_setting(team, invited, settings):
    _, contributor = invited
    settings.PULSE_INVITE_MAX_AGE_DAYS = 30

    class FifteenDaysAgo(signing.TimestampSigner):
        def timestamp(self) -> str:
            return signing.b62_encode(int(time.time()) - 15 * 24 * 3600)

    old = FifteenDaysAgo(salt="pulse.invite").sign_object(
        {"t": team.pulse_id, "c": str(contributor.pk)}, compress=True
    )
    assert Client().get(f"/pulse/invite/{old}").status_code == 200
