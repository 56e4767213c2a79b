"""Date ranges on the TRACE pages (trace.pages.ranges): `?range=7d|30d|90d` or
`?from=…&to=…` on the dashboard, a project and a campaign; the figures, the charts, their
labels and the export links follow it, today is flagged as a partial day, and a bad range
shows the page with the reason and the default range (never an error page)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

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
from trace.tests.pages_support import at as _at
from trace.tests.pages_support import json_script as _json_script

pytestmark = pytest.mark.django_db

# Human clicks by days ago (today is 0), and one conversion 20 days ago.
CLICKS = {0: 1, 5: 2, 20: 4, 60: 8, 120: 16}


@pytest.fixture
def member(client):
    membership = MembershipFactory(role=Role.VIEWER)
    client.force_login(membership.user)
    return membership


@pytest.fixture
def campaign(member):
    project = ProjectFactory(organization=member.organization, name="Basedrop")
    campaign = CampaignFactory(project=project, name="Frame launch", budget_usd=Decimal("100"))
    for days_ago, count in CLICKS.items():
        ClickFactory.create_batch(count, campaign=campaign, occurred_at=_at(days_ago))
    click = ClickFactory(campaign=campaign, occurred_at=_at(20, hour=10))
    ConversionFactory(campaign=campaign, click=click, occurred_at=_at(20), value_usd=Decimal("250"))
    return campaign


def _clicks_within(days: int) -> int:
    # The conversion's click (20 days ago) counts too.
    return sum(count for ago, count in CLICKS.items() if ago < days) + (20 < days)


@pytest.mark.parametrize("preset, days", [("7d", 7), ("30d", 30), ("90d", 90)])
def test_each_preset_sets_the_campaign_figures_chart_and_labels(client, campaign, preset, days):
    response = client.get(f"/trace/campaigns/{campaign.pk}/?range={preset}")

    assert response.status_code == 200
    roi = response.context["page"].roi
    assert roi.clicks == _clicks_within(days)
    assert roi.conversions == (1 if days > 20 else 0)
    assert roi.conversion_value_usd == (Decimal("250.00") if days > 20 else Decimal("0.00"))
    chart = _json_script(response, "campaign-chart-data")
    today = timezone.localdate()
    assert len(chart["labels"]) == days
    assert chart["labels"][0] == (today - dt.timedelta(days=days - 1)).isoformat()
    assert sum(chart["clicks"]) == _clicks_within(days)
    assert chart["partial_last"] is True  # today, counted so far
    assert f"Clicks and conversions, last {days} days" in response.text
    assert f"Figures, last {days} days" in response.text
    assert f'href="?range={preset}" aria-current="true"' in response.text
    assert response.text.count('aria-current="true"') == 1  # one choice is current
    export = f"?from={today - dt.timedelta(days=days - 1)}&amp;to={today}"
    assert f'href="/trace/campaigns/{campaign.pk}/export/{export}"' in response.text


def test_the_default_range_is_the_last_30_days(client, campaign):
    default = client.get(f"/trace/campaigns/{campaign.pk}/")
    thirty = client.get(f"/trace/campaigns/{campaign.pk}/?range=30d")

    assert default.context["page"].roi == thirty.context["page"].roi
    assert _json_script(default, "campaign-chart-data") == _json_script(
        thirty, "campaign-chart-data"
    )
    assert 'data-testid="range-error"' not in default.text


def test_a_custom_range_in_the_past_is_exact_and_not_partial(client, campaign):
    today = timezone.localdate()
    first, last = today - dt.timedelta(days=61), today - dt.timedelta(days=59)

    response = client.get(f"/trace/campaigns/{campaign.pk}/?from={first}&to={last}")

    assert response.status_code == 200
    assert response.context["page"].roi.clicks == CLICKS[60]
    assert response.context["page"].roi.conversions == 0
    chart = _json_script(response, "campaign-chart-data")
    assert chart["labels"] == [(first + dt.timedelta(days=d)).isoformat() for d in range(3)]
    assert chart["clicks"] == [0, CLICKS[60], 0]
    assert chart["partial_last"] is False
    label = f"{first:%b} {first.day}, {first.year} – {last:%b} {last.day}, {last.year}"
    assert f"Clicks and conversions, {label}" in response.text
    assert f'value="{first}"' in response.text and f'value="{last}"' in response.text
    assert f"?from={first}&amp;to={last}" in response.text  # the export link
    assert 'type="submit" aria-current="true"' in response.text  # the custom form is chosen
    assert "today (so far)" not in response.text


@pytest.mark.parametrize(
    "query, reason",
    [
        ("range=13d", "Unknown range “13d”"),
        ("range=", "Unknown range"),
        ("from=yesterday&to=2026-01-01", "From: Enter a valid date."),
        ("from=2026-01-01", "To: This field is required."),
        ("from=2026-05-02&to=2026-05-01", "`from` must not be after `to`."),
        ("from=0001-01-01&to=0001-01-02", "A range lies between"),
        ("from=2020-01-01&to=2026-01-01", "A page shows at most 731 days"),
    ],
)
def test_a_bad_range_shows_the_page_with_the_reason_and_the_default(
    client, campaign, member, query, reason
):
    project = campaign.project
    ActivityMetricFactory(project=project, date=timezone.localdate() - dt.timedelta(days=1))
    ContractInteractionFactory(project=project)
    today = timezone.localdate()

    for path in ["/trace/", f"/trace/campaigns/{campaign.pk}/", f"/trace/projects/{project.pk}/"]:
        response = client.get(f"{path}?{query}")

        assert response.status_code == 200, path
        error = re.search(r'data-testid="range-error">(.*?)</p>', response.text, re.S)
        assert error, path
        assert reason in error.group(1).replace("&quot;", '"').replace("&#x27;", "'")
        assert "Showing the last 30 days." in error.group(1)
        date_range = response.context["date_range"]
        assert (date_range.first, date_range.last) == (today - dt.timedelta(days=29), today)
        assert 'href="?range=30d" aria-current="true"' in response.text


def test_the_project_figures_and_chart_follow_the_range(client, member):
    project = ProjectFactory(organization=member.organization)
    today = timezone.localdate()
    for days_ago in [0, 3, 10, 45]:
        ActivityMetricFactory(
            project=project,
            date=today - dt.timedelta(days=days_ago),
            dau=days_ago + 1,
            transaction_count=days_ago + 100,
            transaction_volume_usd=Decimal("10"),
        )
    ContractInteractionFactory(project=project)

    week = client.get(f"/trace/projects/{project.pk}/?range=7d")
    quarter = client.get(f"/trace/projects/{project.pk}/?range=90d")

    assert _json_script(week, "activity-chart-data")["dau"] == [4, 1]
    assert _json_script(week, "activity-chart-data")["partial_last"] is True
    assert week.context["in_range"] == {"transaction_count": 203, "volume_usd": Decimal("20")}
    assert "Transactions, last 7 days" in week.text
    assert "Volume, last 7 days" in week.text
    assert "Active wallets, last 7 days" in week.text
    assert _json_script(quarter, "activity-chart-data")["dau"] == [46, 11, 4, 1]
    assert quarter.context["in_range"]["transaction_count"] == 458
    assert "Transactions, last 90 days" in quarter.text
    # The latest complete day's figures: yesterday's or before, never today's partial ones.
    assert week.context["latest"].date == today - dt.timedelta(days=3)

    first, last = today - dt.timedelta(days=50), today - dt.timedelta(days=40)
    past = client.get(f"/trace/projects/{project.pk}/?from={first}&to={last}")

    chart = _json_script(past, "activity-chart-data")
    assert chart["dau"] == [46]
    assert chart["partial_last"] is False
    assert past.context["latest"].date == today - dt.timedelta(days=45)
    assert f"/trace/projects/{project.pk}/export/?from={first}&amp;to={last}" in past.text


def test_the_dashboard_totals_follow_the_range(client, campaign):
    week = client.get("/trace/?range=7d")
    quarter = client.get("/trace/?range=90d")

    assert week.context["totals"]["clicks"] == _clicks_within(7)
    assert week.context["totals"]["conversions"] == 0
    assert quarter.context["totals"]["clicks"] == _clicks_within(90)
    assert quarter.context["totals"]["conversion_value_usd"] == Decimal("250.00")
    assert "Campaigns, last 7 days" in week.text
    assert 'href="?range=7d" aria-current="true"' in week.text
