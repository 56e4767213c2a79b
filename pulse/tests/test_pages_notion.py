"""A team's Notion page: connect with a token (checked by the local Notion server), match
an editor to a contributor, disconnect."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages

from accounts.models import Role
from accounts.tests.factories import MembershipFactory
from pulse.models import Contribution, NotionConnection, Platform
from pulse.tests.factories import ContributionFactory, ContributorFactory, TeamFactory
from pulse.tests.notion_server import TOKEN

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

EDITOR = "9188c6a5-7381-452f-b3dc-d4865aa89bdf"


@pytest.fixture
def team(client):
    team = TeamFactory()
    client.force_login(MembershipFactory(organization=team.organization, role=Role.MEMBER).user)
    return team


def test_connect_match_and_disconnect(client, team, notion_server):
    url = f"/pulse/notion/teams/{team.pulse_id}"
    empty = client.get(url)
    assert empty.status_code == 200
    assert "No Notion workspace yet" in empty.content.decode()

    refused = client.post(url, {"access_token": "ntn_wrong"})
    assert refused.status_code == 400
    assert "Notion does not accept this token." in refused.content.decode()
    assert not NotionConnection.objects.exists()

    connected = client.post(url, {"access_token": TOKEN})
    assert connected.status_code == 303
    assert [str(m) for m in get_messages(connected.wsgi_request)] == [
        "Notion workspace Builders HQ is connected."
    ]
    page = client.get(url).content.decode()
    assert "Connected to <strong>Builders HQ</strong>" in page
    assert TOKEN not in page

    alice = ContributorFactory(team=team, github_login="alice")
    for n in range(2):
        ContributionFactory(
            team=team,
            contributor=None,
            platform=Platform.NOTION,
            source_login=EDITOR,
            source_id=f"p{n}:t",
            contribution_type="page_edit",
        )
    assert f"{EDITOR} · 2 edits" in client.get(url).content.decode()
    matched = client.post(
        f"{url}/editors", {"notion_user_id": EDITOR, "contributor": str(alice.pk)}
    )
    assert matched.status_code == 303
    alice.refresh_from_db()
    assert alice.notion_user_id == EDITOR
    assert Contribution.objects.filter(contributor=alice).count() == 2

    assert client.post(f"{url}/disconnect").status_code == 303
    assert not NotionConnection.objects.exists()
    assert Contribution.objects.filter(contributor=alice).count() == 2


def test_viewers_and_strangers_cannot(client, notion_server):
    team = TeamFactory()
    client.force_login(MembershipFactory(organization=team.organization, role=Role.VIEWER).user)
    assert client.get(f"/pulse/notion/teams/{team.pulse_id}").status_code == 403
    client.force_login(MembershipFactory(role=Role.OWNER).user)
    assert (
        client.post(f"/pulse/notion/teams/{team.pulse_id}", {"access_token": TOKEN}).status_code
        == 404
    )
    assert not NotionConnection.objects.exists()
