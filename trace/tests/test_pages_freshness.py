"""The dashboard and the campaign page say when metrics were computed, and a project
without metrics (or without any on-chain activity behind them) says so instead of showing
zeros as if they were measured."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from accounts.models import Role
from accounts.tests.factories import MembershipFactory
from trace.models import ActivityMetric
from trace.tests.factories import (
    ActivityMetricFactory,
    CampaignFactory,
    ContractInteractionFactory,
    ProjectFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(client):
    membership = MembershipFactory(role=Role.VIEWER)
    client.force_login(membership.user)
    project = ProjectFactory(organization=membership.organization, name="Basedrop")
    return CampaignFactory(project=project, name="Frame launch")


def _freshness(response, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}">(.*?)</p>', response.text, re.S)
    assert match, response.text
    return " ".join(re.sub(r"<[^>]+>", "", match.group(1)).split())


def _computed(project, *, minutes_ago: int, dau: int = 40) -> ActivityMetric:
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    metric = ActivityMetricFactory(project=project, date=yesterday, dau=dau, mau=90)
    computed_at = timezone.now() - dt.timedelta(minutes=minutes_ago)
    ActivityMetric.objects.filter(pk=metric.pk).update(computed_at=computed_at)  # auto_now
    return metric


def test_dashboard_card_says_which_day_and_when_its_metrics_were_computed(client, campaign):
    ContractInteractionFactory(project=campaign.project)
    metric = _computed(campaign.project, minutes_ago=3)

    response = client.get("/trace/")

    assert _freshness(response, "metrics-freshness") == (
        f"1 campaign · metrics of {metric.date:%b} {metric.date.day}, computed 3 minutes ago"
    )
    assert "<dt>DAU</dt><dd>40</dd>" in response.text


def test_dashboard_card_without_metrics_says_they_were_not_computed(client, campaign):
    ContractInteractionFactory(project=campaign.project)

    response = client.get("/trace/")

    assert _freshness(response, "metrics-freshness") == (
        "No metrics yet: they have not been computed. They appear once the daily rollup "
        "has run over the first on-chain activity."
    )
    assert "<dt>DAU</dt>" not in response.text


def test_dashboard_card_shows_no_computed_zeros_for_a_project_without_activity(client, campaign):
    _computed(campaign.project, minutes_ago=120, dau=0)  # the nightly rollup ran: all zeros

    response = client.get("/trace/")

    assert _freshness(response, "metrics-freshness") == (
        "No on-chain activity recorded yet (metrics computed 2 hours ago): figures appear "
        "with the first transactions on its contracts."
    )
    assert "<dt>DAU</dt>" not in response.text
    assert "Activity score" not in response.text


def test_campaign_page_says_when_its_projects_metrics_were_computed(client, campaign):
    _computed(campaign.project, minutes_ago=3)

    response = client.get(f"/trace/campaigns/{campaign.pk}/")

    counted_at = response.context["page"].counted_at.astimezone(dt.UTC)
    assert _freshness(response, "figures-freshness") == (
        f"Clicks and conversions counted from what is stored, at {counted_at:%H:%M} UTC. "
        "Basedrop's daily metrics were computed 3 minutes ago."
    )


def test_campaign_page_says_its_project_has_no_metrics_yet(client, campaign):
    response = client.get(f"/trace/campaigns/{campaign.pk}/")

    assert _freshness(response, "figures-freshness").endswith(
        "Basedrop has no daily metrics yet: they have not been computed."
    )
