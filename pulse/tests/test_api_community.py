"""The install link and Notion connection through the API (members with write access)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from accounts.models import Role
from pulse.models import NotionConnection
from pulse.tests.factories import TeamFactory
from pulse.tests.notion_server import TOKEN
from trace.tests.callers import key_caller, member_caller

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_a_member_gets_an_install_link(organization, settings, oauth_provider):
    settings.PUBLIC_BASE_URL = "https://suite.example"
    team = TeamFactory(organization=organization)
    response = member_caller(organization).post(
        f"/api/v1/teams/{team.pulse_id}/discord-install", {}
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["pulse_id"], body["expires_in"]) == (team.pulse_id, 86400)
    query = parse_qs(urlsplit(body["install_url"]).query)
    assert query["redirect_uri"] == ["https://suite.example/pulse/discord/installed"]
    assert query["scope"] == ["bot applications.commands"]


def test_install_links_need_write_and_the_integration(organization, settings):
    team = TeamFactory(organization=organization)
    url = f"/api/v1/teams/{team.pulse_id}/discord-install"
    assert member_caller(organization, role=Role.VIEWER).post(url, {}).status_code == 403
    assert member_caller(TeamFactory().organization).post(url, {}).status_code == 404
    settings.DISCORD_CLIENT_ID = ""
    unconfigured = member_caller(organization).post(url, {})
    assert unconfigured.status_code == 503
    assert unconfigured.json()["code"] == "not_configured"


def test_connect_and_disconnect_notion(organization, notion_server):
    team = TeamFactory(organization=organization)
    url = f"/api/v1/teams/{team.pulse_id}/notion"
    caller = member_caller(organization)
    refused = caller.post(url, {"access_token": "ntn_wrong"})
    assert refused.status_code == 400
    assert refused.json() == {
        "access_token": ["Notion does not accept this token."],
        "code": "invalid",
    }
    assert not NotionConnection.objects.exists()
    connected = caller.post(url, {"access_token": TOKEN})
    assert connected.status_code == 200
    assert connected.json() == {
        "pulse_id": team.pulse_id,
        "workspace_name": "Builders HQ",
        "last_polled_at": None,
    }
    assert TOKEN not in connected.content.decode()
    assert caller.delete(url).status_code == 204
    assert not NotionConnection.objects.exists()
    read_key = key_caller(organization, "read")
    assert read_key.post(url, {"access_token": TOKEN}).status_code == 403
