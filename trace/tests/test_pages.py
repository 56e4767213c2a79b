"""TRACE pages: sign-in required, scoped to the user's organizations, numbers exact."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role
from accounts.tests.factories import MembershipFactory, UserFactory
from trace.tests.factories import (
    ActivityMetricFactory,
    CampaignFactory,
    ClickFactory,
    ContractInteractionFactory,
    ContractVerificationFactory,
    ConversionFactory,
    ProjectFactory,
)
from trace.tests.pages_support import at as _at
from trace.tests.pages_support import json_script as _json_script

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(client):
    membership = MembershipFactory(role=Role.VIEWER)
    client.force_login(membership.user)
    return membership


@pytest.fixture
def campaign(member):
    project = ProjectFactory(organization=member.organization, name="Basedrop")
    return CampaignFactory(project=project, name="Frame launch", budget_usd=Decimal("1000.00"))


@pytest.mark.parametrize("path", ["/trace/", "/trace/campaigns/{id}/", "/trace/projects/{id}/"])
def test_pages_send_anonymous_visitors_to_sign_in(client, path):
    campaign = CampaignFactory()
    path = path.format(id=campaign.project_id if "projects" in path else campaign.pk)

    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == f"/signin?next={path}"


def test_dashboard_empty_states_for_a_user_without_projects(client):
    client.force_login(UserFactory())

    response = client.get("/trace/")

    assert response.status_code == 200
    assert "Start with your organization" in response.text  # no organization yet
    assert "No campaigns yet" in response.text
    assert response.context["projects"] == []
    assert response.context["campaigns"] == []


def test_dashboard_lists_the_users_campaigns_with_exact_stats(client, campaign):
    ClickFactory.create_batch(4, campaign=campaign)
    ClickFactory(campaign=campaign, is_bot=True, bot_reason="user_agent:curl")
    ConversionFactory.create_batch(2, click__campaign=campaign, value_usd=Decimal("150.00"))
    CampaignFactory(name="Someone else's campaign")  # another organization

    response = client.get("/trace/")

    assert response.status_code == 200
    [row] = response.context["campaigns"]
    assert row.pk == campaign.pk
    # The conversions' own clicks are human clicks too: 4 + 2.
    assert (row.stats.clicks, row.stats.conversions) == (6, 2)
    assert row.stats.conversion_value_usd == Decimal("300.00")
    assert row.stats.roi == Decimal("-0.700000")
    assert response.context["totals"] == {
        "budget_usd": Decimal("1000.00"),
        "clicks": 6,
        "conversions": 2,
        "conversion_value_usd": Decimal("300.00"),
    }
    assert "Frame launch" in response.text
    assert "-70%" in response.text
    assert "Someone else" not in response.text


def test_dashboard_project_cards_show_the_last_complete_day(client, campaign):
    project = campaign.project
    today = timezone.localdate()
    ActivityMetricFactory(project=project, date=today - dt.timedelta(days=1), dau=40, mau=90)
    ActivityMetricFactory(project=project, date=today, dau=2, mau=91)  # partial day

    response = client.get("/trace/")

    [card] = response.context["projects"]
    assert (card.latest.date, card.latest.dau, card.latest.mau) == (
        today - dt.timedelta(days=1),
        40,
        90,
    )


def _dashboard_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/trace/").status_code == 200
    return len(queries)


def _project_with_campaign(organization, name: str) -> None:
    project = ProjectFactory(organization=organization)
    ActivityMetricFactory(project=project)
    campaign = CampaignFactory(project=project, name=name)
    ClickFactory(campaign=campaign)
    ConversionFactory(click__campaign=campaign)


def test_dashboard_query_count_does_not_grow_with_rows(client, member, settings):
    # The reads themselves: the read cache would answer the second from memory.
    settings.READ_CACHE_ENABLED = False
    _project_with_campaign(member.organization, "first")
    _dashboard_queries(client)  # warm the shell's caches (IP rules)
    with_one = _dashboard_queries(client)
    for index in range(5):
        _project_with_campaign(member.organization, f"more {index}")

    assert _dashboard_queries(client) == with_one
    # Session, user, the header's wallet and organizations, then projects, their metrics
    # and campaigns.
    assert with_one <= 7


def test_campaign_page_charts_daily_human_clicks_and_conversions(client, campaign):
    for days_ago, count in [(0, 2), (3, 5), (29, 1), (30, 7)]:  # day 30 is outside the chart
        for _ in range(count):
            ClickFactory(campaign=campaign, occurred_at=_at(days_ago))
    ClickFactory(campaign=campaign, occurred_at=_at(3), is_bot=True, bot_reason="user_agent:curl")
    ConversionFactory(campaign=campaign, occurred_at=_at(3), click__campaign=campaign)

    response = client.get(f"/trace/campaigns/{campaign.pk}/")

    assert response.status_code == 200
    chart = _json_script(response, "campaign-chart-data")
    today = timezone.localdate()
    assert chart["labels"][0] == (today - dt.timedelta(days=29)).isoformat()
    assert chart["labels"][-1] == today.isoformat()
    expected_clicks = [0] * 30
    expected_clicks[-1], expected_clicks[-4], expected_clicks[0] = 2, 5, 1
    # The conversion's own click was made "now" by the factory: one more click today.
    expected_clicks[-1] += 1
    assert chart["clicks"] == expected_clicks
    expected_conversions = [0] * 30
    expected_conversions[-4] = 1
    assert chart["conversions"] == expected_conversions
    roi = response.context["page"].roi
    # The figures are of the range too: the 7 clicks of 30 days ago are outside it.
    assert (roi.clicks, roi.conversions, roi.converted_wallets) == (9, 1, 1)
    assert f'value="http://testserver/t/{campaign.pk}"' in response.text
    assert 'data-copy="tracking-url"' in response.text
    assert (
        "&lt;script src=&quot;http://testserver/static/trace/fab.js&quot; "
        "data-key=&quot;YOUR_INGEST_KEY&quot; defer&gt;&lt;/script&gt;" in response.text
    )
    assert "/static/vendor/chart.umd.min.js" in response.text
    assert "/static/trace/charts.js" in response.text


def test_campaign_page_of_another_organization_is_404(client, member):
    other = CampaignFactory()

    assert client.get(f"/trace/campaigns/{other.pk}/").status_code == 404
    assert client.get("/trace/campaigns/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_project_page_charts_stored_metrics_and_explains_the_score(client, campaign):
    project = campaign.project
    today = timezone.localdate()
    values = [(3, 10, 30, 50), (2, 12, 33, 55), (1, 9, 35, 61)]
    for days_ago, dau, wau, mau in values:
        ActivityMetricFactory(
            project=project,
            date=today - dt.timedelta(days=days_ago),
            dau=dau,
            wau=wau,
            mau=mau,
            transaction_count=dau * 2,
            transaction_volume_usd=Decimal("100.50"),
            activity_score=47.21,
            score_components={
                "weights": {"stickiness": 40.0, "growth": 30.0, "retention": 30.0},
                "stickiness": 0.1475,
                "stickiness_points": 0.295,
                "growth": 0.22,
                "growth_points": 0.61,
                "mau_30_days_ago": 50,
                "retention": 0.5,
                "retention_points": 0.5,
                "retained_wallets": 10,
                "wau_7_days_ago": 20,
                "bot_share": 0.0,
                "bot_penalty": 0.0,
            },
        )
    # The metrics measured stored activity (without any, they would be zeros, not shown).
    ContractInteractionFactory(project=project)

    response = client.get(f"/trace/projects/{project.pk}/")

    assert response.status_code == 200
    chart = _json_script(response, "activity-chart-data")
    assert chart == {
        "labels": [(today - dt.timedelta(days=d)).isoformat() for d, *_ in values],
        "dau": [10, 12, 9],
        "wau": [30, 33, 35],
        "mau": [50, 55, 61],
        "partial_last": False,
    }
    assert response.context["in_range"] == {
        "transaction_count": 62,
        "volume_usd": Decimal("301.50"),
    }
    rows = response.context["score"]["rows"]
    assert [(r["label"], r["measured"], round(r["points"], 2)) for r in rows] == [
        ("Stickiness", "14.8%", 11.8),
        ("Growth", "+22.0%", 18.3),
        ("Retention", "50.0%", 15.0),
    ]
    assert "47.2" in response.text  # the score, one decimal
    assert "DAU 9 of MAU 61" in response.text
    assert "Frame launch" in response.text  # the project's campaigns


def test_project_page_without_metrics_shows_the_empty_state(client, campaign):
    response = client.get(f"/trace/projects/{campaign.project_id}/")

    assert response.status_code == 200
    assert "No metrics yet" in response.text
    assert "chart.umd.min.js" not in response.text


def test_project_page_of_another_organization_is_404(client, member):
    assert client.get(f"/trace/projects/{ProjectFactory().pk}/").status_code == 404


def test_project_page_labels_each_contract_verified_or_unverified(client, campaign):
    project = campaign.project
    verified, unverified = "0x" + "Ab" * 20, "0x" + "cD" * 20
    project.contract_addresses = [verified, unverified]
    project.save()
    proof = ContractVerificationFactory(
        project=project, contract_address=verified, method="upgrade_authority"
    )

    response = client.get(f"/trace/projects/{project.pk}/")

    assert response.status_code == 200
    assert [(c.address, c.control_verified) for c in response.context["contracts"]] == [
        (verified, True),
        (unverified, False),
    ]
    # Each address links to the chain's explorer (the project is on Base).
    label = (
        r'<li>\s*<a class="mono" href="https://basescan.org/address/(0x[0-9a-fA-F]+)"[^>]*>'
        r'<code>0x[0-9a-fA-F]+</code>.*?</a>\s*<span class="status status--(\w+)">(\w+)</span>'
    )
    items = re.findall(label, response.text)
    assert items == [(verified, "verified", "Verified"), (unverified, "unverified", "Unverified")]
    assert (
        f"Signed by the program&#x27;s upgrade authority, {proof.verified_at:%b} "
        f"{proof.verified_at.day}, {proof.verified_at.year}"
    ) in response.text
    # How to verify: the two endpoints, linked from the URL names.
    assert f"GET /api/v1/projects/{project.pk}/contracts/ADDRESS/verify-message" in response.text
    assert f"POST /api/v1/projects/{project.pk}/contracts/ADDRESS/verify" in response.text
