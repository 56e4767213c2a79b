"""A team's Discord install link, through a local server speaking Discord's OAuth: the
guild the bot was added to becomes the team's alone; other claims lapse."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.utils import timezone

from accounts.models import Role
from accounts.tests.factories import MembershipFactory
from pulse.models import Team
from pulse.tests.factories import TeamFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

GUILD = "811111111111111111"


@pytest.fixture
def member(client, settings):
    settings.PUBLIC_BASE_URL = "http://testserver"
    team = TeamFactory()
    membership = MembershipFactory(organization=team.organization, role=Role.MEMBER)
    client.force_login(membership.user)
    return team


def install_link(client, team: Team) -> str:
    page = client.get(f"/pulse/discord/teams/{team.pulse_id}/install")
    assert page.status_code == 200
    return page.context["install_url"]


def consent(url: str) -> str:
    """The person clicks "Authorize" on Discord: where Discord sends them back."""
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    back = urlsplit(answer.headers["Location"])
    assert f"{back.scheme}://{back.netloc}" == "http://testserver"
    return f"{back.path}?{back.query}"


def test_the_install_link_is_discords_bot_authorization_with_a_signed_state(
    client, member, oauth_provider
):
    url = urlsplit(install_link(client, member))
    query = {key: values[0] for key, values in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{oauth_provider.url}/oauth2/authorize"
    assert set(query) == {
        "client_id",
        "response_type",
        "redirect_uri",
        "scope",
        "state",
        "permissions",
    }
    assert query["client_id"] == "1234567890123456789"
    assert query["scope"] == "bot applications.commands"
    assert "scope=bot+applications.commands" in url.query
    assert query["permissions"] == "66560"
    assert query["response_type"] == "code"
    assert query["redirect_uri"] == "http://testserver/pulse/discord/installed"
    assert member.pulse_id not in query["state"]  # signed and compressed, not readable


def test_installing_links_the_guild_and_other_claims_lapse(client, member, oauth_provider):
    rival = TeamFactory(discord_guild_id=GUILD)
    back = consent(install_link(client, member))
    client.logout()  # the server admin who added the bot need not have an account here
    page = client.get(back)
    assert page.status_code == 200
    assert "Activity in this server now counts for" in page.content.decode()
    member.refresh_from_db()
    rival.refresh_from_db()
    assert member.discord_guild_id == GUILD
    assert member.discord_guild_verified_at is not None
    assert member.discord_guild_lapsed_at is None
    assert rival.discord_guild_lapsed_at is not None
    assert ("POST", "/api/oauth2/token") in oauth_provider.requests

    # The same redirect again (browser history): the state is spent, nothing changes.
    again = client.get(back)
    assert again.status_code == 400
    assert "expired or was already used" in again.content.decode()


def test_a_later_install_for_another_team_takes_the_guild_over(client, member, oauth_provider):
    first = TeamFactory(discord_guild_id=GUILD, discord_guild_verified_at=timezone.now())
    assert client.get(consent(install_link(client, member))).status_code == 200
    first.refresh_from_db()
    assert first.discord_guild_lapsed_at is not None
    assert (
        Team.objects.filter(discord_guild_id=GUILD, discord_guild_lapsed_at__isnull=True).get()
        == member
    )


def test_a_forged_state_or_a_mismatched_guild_links_nothing(client, member, oauth_provider):
    back = consent(install_link(client, member))
    forged = back.replace("state=", "state=x")
    assert client.get(forged).status_code == 400
    other_guild = back.replace(f"guild_id={GUILD}", "guild_id=899999999999999999")
    response = client.get(other_guild)
    assert response.status_code == 400
    assert "not the one the bot was added to" in response.content.decode()
    member.refresh_from_db()
    assert member.discord_guild_verified_at is None


def test_cancelling_on_discord_links_nothing(client, member, oauth_provider):
    oauth_provider.consent = "deny"
    response = client.get(consent(install_link(client, member)))
    assert response.status_code == 400
    member.refresh_from_db()
    assert member.discord_guild_verified_at is None


def test_viewers_and_other_organizations_get_no_install_link(client, settings, oauth_provider):
    team = TeamFactory()
    viewer = MembershipFactory(organization=team.organization, role=Role.VIEWER)
    client.force_login(viewer.user)
    assert client.get(f"/pulse/discord/teams/{team.pulse_id}/install").status_code == 403
    stranger = MembershipFactory(role=Role.OWNER)
    client.force_login(stranger.user)
    assert client.get(f"/pulse/discord/teams/{team.pulse_id}/install").status_code == 404
