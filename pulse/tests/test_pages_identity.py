"""Linking GitHub and Discord from "Your account", through a local server speaking their
OAuth web flows (pulse/tests/oauth_provider.py)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests
from django.contrib.messages import get_messages

from accounts.tests.factories import WalletFactory
from pulse.models import Contribution, ContributionType, Contributor, IdentityStatus, Platform
from pulse.tests.factories import ContributionFactory, ContributorFactory, TeamFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

DISCORD_ID = "700000000000000002"


@pytest.fixture
def wallet(client, settings):
    settings.PUBLIC_BASE_URL = "http://testserver"
    wallet = WalletFactory()
    client.force_login(wallet.user)
    return wallet


def go_to_provider(client, provider: str) -> str:
    """Click "Link …": where the provider sends the browser back after consent."""
    leave = client.get(f"/account/identities/{provider}/link")
    assert leave.status_code == 302
    answer = requests.get(leave["Location"], allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    back = urlsplit(answer.headers["Location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == (
        f"http://testserver/account/identities/{provider}/callback"
    )
    return f"{back.path}?{back.query}"


def flash(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def unclaimed(team, login: str, n: int, platform=Platform.GITHUB):
    return [
        ContributionFactory(
            team=team,
            contributor=None,
            platform=platform,
            source_login=login,
            source_id=f"{platform}:{login}:{i}",
            contribution_type=ContributionType.COMMIT
            if platform == Platform.GITHUB
            else ContributionType.MESSAGE,
        )
        for i in range(n)
    ]


def test_linking_github_marks_every_team_and_attaches_the_waiting_work(
    client, wallet, oauth_provider
):
    asserted_team, plain_team, contested_team = TeamFactory(), TeamFactory(), TeamFactory()
    mine_asserted = ContributorFactory(
        team=asserted_team, wallet_address=wallet.address, github_login="someone-else"
    )
    mine_plain = ContributorFactory(team=plain_team, wallet_address=wallet.address, github_login="")
    mine_contested = ContributorFactory(
        team=contested_team, wallet_address=wallet.address, github_login=""
    )
    squatter = ContributorFactory(team=contested_team, github_login="octo-dev")
    # Work already attached to the asserted (wrong) login, and work waiting under the real one.
    wrongly_mine = ContributionFactory(team=asserted_team, contributor=mine_asserted)
    waiting = unclaimed(asserted_team, "octo-dev", 2) + unclaimed(plain_team, "octo-dev", 1)
    squatted = ContributionFactory(team=contested_team, contributor=squatter)
    unrelated = unclaimed(plain_team, "another-dev", 1)

    back = go_to_provider(client, "github")
    done = client.get(back)
    assert done.status_code == 302
    assert done["Location"] == "/account/"
    assert flash(done) == [
        "GitHub @Octo-Dev is linked to your wallet in 3 teams; 4 earlier contributions now "
        "count for you."
    ]
    for row in (mine_asserted, mine_plain, mine_contested):
        row.refresh_from_db()
        assert (row.github_login, row.github_user_id, row.github_identity) == (
            "octo-dev",
            583231,
            IdentityStatus.LINKED,
        )
        assert row.github_linked_at is not None
    squatter.refresh_from_db()
    assert (squatter.github_login, squatter.github_identity) == ("", IdentityStatus.ASSERTED)
    assert {
        c.pk for c in Contribution.objects.filter(contributor__in=[mine_asserted, mine_plain])
    } == {c.pk for c in waiting}
    wrongly_mine.refresh_from_db()
    assert wrongly_mine.contributor is None  # made under "someone-else": not this person's
    squatted.refresh_from_db()
    assert squatted.contributor == mine_contested
    assert Contribution.objects.get(pk=unrelated[0].pk).contributor is None
    assert ("POST", "/login/oauth/access_token") in oauth_provider.requests
    assert ("GET", "/user") in oauth_provider.requests

    # The account page says so.
    page = client.get("/account/").content.decode()
    assert "Linked: @octo-dev" in page
    assert "Link GitHub again" in page

    # The callback again (history, a log): the state is spent; nothing changes.
    replay = client.get(back)
    assert replay.status_code == 302
    assert "was not linked" in flash(replay)[0]


def test_linking_discord(client, wallet, oauth_provider):
    team = TeamFactory()
    mine = ContributorFactory(team=team, wallet_address=wallet.address, discord_id="")
    waiting = unclaimed(team, DISCORD_ID, 3, platform=Platform.DISCORD)
    done = client.get(go_to_provider(client, "discord"))
    assert flash(done) == [
        "Discord Helpful Helper is linked to your wallet in 1 team; 3 earlier contributions "
        "now count for you."
    ]
    mine.refresh_from_db()
    assert (mine.discord_id, mine.discord_identity) == (DISCORD_ID, IdentityStatus.LINKED)
    assert set(mine.contributions.values_list("pk", flat=True)) == {c.pk for c in waiting}
    assert ("POST", "/api/oauth2/token") in oauth_provider.requests
    assert ("GET", "/api/users/@me") in oauth_provider.requests


def test_another_users_state_is_refused(client, wallet, oauth_provider):
    team = TeamFactory()
    ContributorFactory(team=team, wallet_address=wallet.address, github_login="")
    back = go_to_provider(client, "github")
    other = WalletFactory()
    ContributorFactory(team=team, wallet_address=other.address, github_login="")
    client.force_login(other.user)
    refused = client.get(back)
    assert "was not linked" in flash(refused)[0]
    assert not Contributor.objects.filter(github_identity=IdentityStatus.LINKED).exists()


def test_a_refused_code_or_cancel_links_nothing(client, wallet, oauth_provider):
    team = TeamFactory()
    ContributorFactory(team=team, wallet_address=wallet.address, github_login="")
    back = go_to_provider(client, "github")
    bad_code = back.replace("code=", "code=0")
    refused = client.get(bad_code)
    assert flash(refused) == [
        "GitHub was not linked. GitHub refused: The code passed is incorrect or expired."
    ]
    oauth_provider.consent = "deny"
    cancelled = client.get(go_to_provider(client, "github"))
    assert flash(cancelled)[-1] == "GitHub was not linked: you cancelled on GitHub."
    assert not Contributor.objects.filter(github_identity=IdentityStatus.LINKED).exists()


def test_signed_out_or_unknown_provider(client, settings, oauth_provider):
    signed_out = client.get("/account/identities/github/link")
    assert signed_out.status_code == 302
    assert signed_out["Location"].startswith("/signin")
    client.force_login(WalletFactory().user)
    assert client.get("/account/identities/gitlab/link").status_code == 404
    assert client.post("/account/identities/github/link").status_code == 405
