"""TRACE charts in a real browser: headless Debian Chromium driven by Playwright.

The pages hand their data to static/trace/charts.js through `json_script`; these tests
read back what Chart.js actually plotted (`Chart.getChart(canvas)`) and compare it with
the database, and check that the canvas holds drawn pixels in the series' colour.
"""

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
from trace.tests.factories import (
    ActivityMetricFactory,
    CampaignFactory,
    ClickFactory,
    ContractInteractionFactory,
    ConversionFactory,
    ProjectFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DAU_RGB = (79, 70, 229)  # charts.js COLORS.brand, the DAU line and the click bars

# Pixels of the canvas, and how many are close to a colour (anti-aliasing blurs edges).
CANVAS_PIXELS = """
([id, r, g, b]) => {
  const canvas = document.getElementById(id);
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0, matching = 0;
  for (let i = 0; i < pixels.length; i += 4) {
    if (pixels[i + 3] === 0) continue;
    painted++;
    if (Math.abs(pixels[i] - r) + Math.abs(pixels[i + 1] - g) + Math.abs(pixels[i + 2] - b) < 40) {
      matching++;
    }
  }
  return { painted, matching, total: pixels.length / 4 };
}
"""


@pytest.fixture
def member():
    return MembershipFactory(role=Role.VIEWER)


@pytest.fixture
def page(live_server, member, browser: Browser) -> Iterator[Page]:
    client = Client()
    client.force_login(member.user)
    session = client.cookies["sessionid"].value
    errors: list[str] = []
    # Reduced motion: charts.js then draws without animation, so pixels are final.
    context = browser.new_context(
        viewport={"width": 1280, "height": 900},
        reduced_motion="reduce",
        permissions=["clipboard-read", "clipboard-write"],
    )
    context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: errors.append(message.text) if message.type == "error" else None,
    )
    yield page
    context.close()
    # No script error and no CSP violation (those are logged as console errors).
    assert errors == []


def _plotted(page: Page, canvas_id: str) -> list[list[int]]:
    page.wait_for_function(
        "id => window.Chart && Chart.getChart(document.getElementById(id))", arg=canvas_id
    )
    return page.evaluate(
        "id => Chart.getChart(document.getElementById(id)).data.datasets.map(d => d.data)",
        canvas_id,
    )


def test_project_chart_plots_the_stored_dau_wau_mau(live_server, page, member):
    project = ProjectFactory(organization=member.organization, name="Basedrop")
    today = timezone.localdate()
    rows = [(6, 12, 40, 90), (5, 18, 44, 96), (4, 15, 47, 101), (3, 24, 52, 110), (2, 21, 55, 118)]
    for days_ago, dau, wau, mau in rows:
        ActivityMetricFactory(
            project=project,
            date=today - dt.timedelta(days=days_ago),
            dau=dau,
            wau=wau,
            mau=mau,
            activity_score=61.5,
        )
    # The metrics measured stored activity (without any, the page shows no figures).
    ContractInteractionFactory(project=project)

    page.goto(f"{live_server.url}/trace/projects/{project.pk}/")

    assert _plotted(page, "activity-chart") == [
        [dau for _, dau, _, _ in rows],
        [wau for _, _, wau, _ in rows],
        [mau for _, _, _, mau in rows],
    ]
    labels = page.evaluate("Chart.getChart(document.getElementById('activity-chart')).data.labels")
    assert len(labels) == len(rows)
    pixels = page.evaluate(CANVAS_PIXELS, ["activity-chart", *DAU_RGB])
    assert pixels["painted"] > 0.02 * pixels["total"]
    assert pixels["matching"] > 200  # the DAU line and its fill were drawn
    assert page.get_by_test_id("activity-score").inner_text() == "61.5/100"
    page.screenshot(path="/tmp/trace_project_chart.png", full_page=True)


def test_campaign_chart_plots_daily_clicks_and_conversions(live_server, page, member):
    project = ProjectFactory(organization=member.organization)
    campaign = CampaignFactory(project=project, name="Frame launch", budget_usd=Decimal("500"))
    today = timezone.localdate()
    clicks_by_days_ago = {1: 3, 4: 6, 10: 2}
    for days_ago, count in clicks_by_days_ago.items():
        noon = timezone.make_aware(
            dt.datetime.combine(today - dt.timedelta(days=days_ago), dt.time(12))
        )
        ClickFactory.create_batch(count, campaign=campaign, occurred_at=noon)
        if days_ago == 4:
            ConversionFactory(click__campaign=campaign, click__occurred_at=noon, occurred_at=noon)

    page.goto(f"{live_server.url}/trace/campaigns/{campaign.pk}/")

    clicks, conversions = _plotted(page, "campaign-chart")
    expected_clicks = [0] * 30
    for days_ago, count in clicks_by_days_ago.items():
        expected_clicks[29 - days_ago] = count
    expected_clicks[29 - 4] += 1  # the conversion's own click
    expected_conversions = [0] * 30
    expected_conversions[29 - 4] = 1
    assert (clicks, conversions) == (expected_clicks, expected_conversions)
    pixels = page.evaluate(CANVAS_PIXELS, ["campaign-chart", *DAU_RGB])
    assert pixels["matching"] > 20  # the click bars' outlines
    assert page.get_by_test_id("kpi-clicks").inner_text() == "12"

    page.get_by_role("button", name="Copy", exact=True).click()

    # The label changes once the clipboard write resolves: wait for it.
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == f"{live_server.url}/t/{campaign.pk}"
    page.screenshot(path="/tmp/trace_campaign_chart.png", full_page=True)


def test_today_is_drawn_as_a_partial_day_and_a_past_range_is_not(live_server, page, member):
    project = ProjectFactory(organization=member.organization, name="Basedrop")
    campaign = CampaignFactory(project=project, name="Frame launch")
    today = timezone.localdate()
    for days_ago in [0, 1, 2, 15]:
        ActivityMetricFactory(project=project, date=today - dt.timedelta(days=days_ago), dau=5)
    ContractInteractionFactory(project=project)
    ClickFactory.create_batch(2, campaign=campaign, occurred_at=timezone.now())

    page.goto(f"{live_server.url}/trace/campaigns/{campaign.pk}/?range=7d")

    _plotted(page, "campaign-chart")
    chart = "Chart.getChart(document.getElementById('campaign-chart'))"
    labels = page.evaluate(f"{chart}.data.labels")
    assert len(labels) == 7 and labels[-1] == "today (so far)"
    assert page.locator("#campaign-chart").get_attribute("data-partial-day") == "last"
    bars = page.evaluate(f"{chart}.data.datasets[0].backgroundColor")
    assert bars[-1] != bars[-2]  # today's bar is lighter
    # The conversions line is dashed into today only.
    dash = f"i => {chart}.data.datasets[1].segment.borderDash({{p1DataIndex: i}}) || null"
    assert page.evaluate(f"[5, 6].map({dash})") == [None, [5, 4]]
    expect(page.get_by_test_id("partial-note")).to_contain_text("today (so far)")
    expect(page.get_by_role("link", name="7 days", exact=True)).to_have_attribute(
        "aria-current", "true"
    )

    page.goto(f"{live_server.url}/trace/projects/{project.pk}/?range=7d")

    _plotted(page, "activity-chart")
    labels = page.evaluate("Chart.getChart(document.getElementById('activity-chart')).data.labels")
    assert labels[-1] == "today (so far)"
    assert page.locator("#activity-chart").get_attribute("data-partial-day") == "last"
    dau = "Chart.getChart(document.getElementById('activity-chart')).data.datasets[0]"
    assert page.evaluate(f"{dau}.segment.borderDash({{p1DataIndex: 2}})") == [5, 4]

    # A custom range in the past: no partial day.
    first, last = today - dt.timedelta(days=20), today - dt.timedelta(days=10)
    page.get_by_label("From").fill(first.isoformat())
    page.get_by_label("To").fill(last.isoformat())
    page.get_by_role("button", name="Show range").click()
    page.wait_for_url(f"**/?from={first}&to={last}")
    expect(page.locator("#activity-chart")).to_have_attribute("data-partial-day", "none")
    expect(page.get_by_test_id("range-label")).not_to_contain_text("today")
    export = page.get_by_test_id("export-link")
    assert export.get_attribute("href").endswith(f"?from={first}&to={last}")
