"""The Discord install, Discord return and Notion pages on a phone (390 px) in headless
Chromium: no sideways scroll, no serious or critical axe-core violation, a screenshot
each under test-output/."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import Role
from accounts.tests.factories import MembershipFactory, WalletFactory
from fabrknt.tests.browser import PHONE, axe_violations, horizontal_overflow, screenshot
from pulse.tests.factories import ContributionFactory, ContributorFactory, TeamFactory

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_community_pages_on_a_phone(live_server, browser, settings, oauth_provider):
    settings.PUBLIC_BASE_URL = live_server.url
    team = TeamFactory(team_name="Builders")
    owner = WalletFactory().user
    MembershipFactory(organization=team.organization, user=owner, role=Role.OWNER)
    ContributorFactory(team=team, github_login="alice")
    ContributionFactory(
        team=team,
        contributor=None,
        platform="notion",
        contribution_type="page_edit",
        source_login="9188c6a5-7381-452f-b3dc-d4865aa89bdf",
        source_id="p:1",
    )
    client = Client()
    client.force_login(owner)
    session = client.cookies["sessionid"].value
    pages = [
        ("discord-install", f"/pulse/discord/teams/{team.pulse_id}/install"),
        ("discord-installed-refused", "/pulse/discord/installed?state=x&code=y"),
        ("notion", f"/pulse/notion/teams/{team.pulse_id}"),
        ("team-settings", f"/pulse/teams/{team.pulse_id}/settings"),
    ]
    problems: list[str] = []
    context = browser.new_context(viewport=PHONE)
    context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    try:
        page = context.new_page()
        for name, path in pages:
            response = page.goto(f"{live_server.url}{path}")
            assert response is not None
            if response.status not in {200, 400}:
                problems.append(f"{name}: status {response.status}")
                continue
            problems += [f"{name}: {v}" for v in axe_violations(page)]
            problems += [f"{name}: overflow {o}" for o in horizontal_overflow(page)]
            screenshot(page, f"pulse-{name}-phone")
    finally:
        context.close()
    assert problems == []
