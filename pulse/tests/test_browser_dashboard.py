"""The vitality pages in a real browser (headless Debian Chromium, Playwright): a member
goes from the teams to a team's gauges, trend chart, explanation and leaderboard, to a
contributor's profile, and to the weekly reports; a viewer sees no recalculate button. No
script error and no CSP violation on the way."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from accounts.models import Role
from accounts.tests.factories import MembershipFactory
from fabrknt.tests.browser import screenshot
from pulse.models import Contribution, ContributionType, Platform, Team, Verification
from pulse.services.scores import scores_calculate
from pulse.services.weekly_reports import last_full_week, weekly_report_build
from pulse.tests.factories import ContributorFactory, TeamFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def pulse_world(team: Team) -> None:
    """Two contributors with GitHub and Discord activity over five weeks, scored weekly,
    and last week's report."""
    now = timezone.now()
    mika = ContributorFactory(
        team=team, github_login="mika-dev", github_identity="linked", discord_identity="linked"
    )
    ren = ContributorFactory(team=team, github_login="ren-tanaka")
    n = 0
    for days_ago in range(35, 0, -1):
        for person, kind, platform, weight in (
            (mika, ContributionType.PULL_REQUEST_MERGED, Platform.GITHUB, "1.00"),
            (ren, ContributionType.COMMIT, Platform.GITHUB, "1.00"),
            (mika, ContributionType.REPLY, Platform.DISCORD, "1.50"),
        ):
            n += 1
            Contribution.objects.create(
                team=team,
                contributor=person,
                platform=platform,
                source_id=f"browser:{n}",
                contribution_type=kind,
                weight=Decimal(weight),
                occurred_at=now - dt.timedelta(days=days_ago, hours=1),
                verification=Verification.VERIFIED,
            )
    for weeks_ago in (4, 3, 2, 1, 0):
        scores_calculate(team=team, as_of=now - dt.timedelta(weeks=weeks_ago))
    weekly_report_build(team=team, week_start=last_full_week())


def _page(browser: Browser, live_server, user) -> tuple[Page, list[str]]:
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, reduced_motion="reduce")
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    page.set_default_timeout(8000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return page, errors


@pytest.fixture
def team() -> Team:
    team = TeamFactory(team_name="Basedrop core", discord_guild_id="81384788765712384")
    pulse_world(team)
    return team


@pytest.fixture
def owner_page(browser, live_server, team) -> Iterator[tuple[Page, list[str]]]:
    owner = MembershipFactory(organization=team.organization, role=Role.OWNER).user
    page, errors = _page(browser, live_server, owner)
    yield page, errors
    page.context.close()


def test_a_member_reads_the_vitality_dashboard_down_to_a_contributor(owner_page, live_server, team):
    page, errors = owner_page
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="PULSE", exact=True).first.click()
    page.get_by_role("link", name="Basedrop core", exact=True).click()
    expect(page.get_by_role("heading", name="Basedrop core", level=1)).to_be_visible()

    team.refresh_from_db()
    vitality = page.get_by_test_id("gauge-vitality")
    expect(vitality.get_by_role("img")).to_have_attribute(
        "aria-label", f"Vitality: {team.vitality_score:.0f} out of 100"
    )
    expect(page.get_by_test_id("verified-developer_activity")).to_have_text(
        f"{round(team.score_components['developer_activity']['verified_share'] * 100)}% verified"
    )
    # The trend is drawn by Chart.js from the five snapshots.
    chart = page.get_by_test_id("trend-chart")
    expect(chart).to_have_attribute("data-drawn", "true")
    plotted = page.evaluate(
        "() => Chart.getChart(document.getElementById('vitality-chart')).data.datasets[0].data"
    )
    assert len(plotted) == 5
    assert plotted[-1] == float(team.vitality_score)
    explanation = page.get_by_test_id("explanation")
    expect(explanation.get_by_role("row", name="Pull request merged")).to_contain_text("5.00")
    expect(page.get_by_test_id("bus-factor")).to_contain_text("1")
    screenshot(page, "pulse-team")

    page.get_by_test_id("leaderboard").get_by_role("link", name="mika-dev").click()
    expect(page.get_by_role("heading", name="mika-dev", level=1)).to_be_visible()
    expect(page.get_by_test_id("identities")).to_contain_text("linked")
    expect(page.get_by_test_id("contributor-chart")).to_have_attribute("data-drawn", "true")
    expect(page.get_by_test_id("sbt-tokens")).to_contain_text("No tokens yet")
    expect(page.get_by_test_id("sbt-tokens-link")).to_be_visible()
    screenshot(page, "pulse-contributor")

    page.get_by_role("link", name="Basedrop core", exact=True).click()
    page.get_by_role("link", name="Weekly reports").first.click()
    page.get_by_test_id("reports").get_by_role("link").first.click()
    expect(page.get_by_test_id("score-changes")).to_be_visible()
    expect(page.get_by_test_id("top-contributors")).to_contain_text("mika-dev")
    screenshot(page, "pulse-report")
    assert errors == []


def test_an_owner_recalculates_and_a_viewer_cannot(owner_page, browser, live_server, team):
    page, errors = owner_page
    page.goto(f"{live_server.url}/pulse/teams/{team.pulse_id}/")
    before = team.score_snapshots.filter(contributor=None).count()
    page.get_by_test_id("recalculate").click()
    expect(page.get_by_text("Recalculation queued")).to_be_visible()
    assert team.score_snapshots.filter(contributor=None).count() == before + 1
    assert errors == []

    viewer = MembershipFactory(organization=team.organization, role=Role.VIEWER).user
    viewer_page, viewer_errors = _page(browser, live_server, viewer)
    viewer_page.goto(f"{live_server.url}/pulse/teams/{team.pulse_id}/")
    expect(viewer_page.get_by_test_id("gauges")).to_be_visible()
    expect(viewer_page.get_by_test_id("recalculate")).to_have_count(0)
    viewer_page.context.close()
    assert viewer_errors == []
