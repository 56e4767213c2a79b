"""CSV exports: streamed, exact rows of the range, the API's read access (viewers too),
other organizations 404, a bad range refused with its message."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from decimal import Decimal
from html import unescape

import pytest
from django.test import Client
from django.utils.text import slugify

from accounts.models import Role
from accounts.tests.factories import MembershipFactory
from trace.tests.factories import (
    ActivityMetricFactory,
    CampaignFactory,
    ClickFactory,
    ConversionFactory,
)

pytestmark = pytest.mark.django_db

DAY = dt.date(2025, 3, 10)


def _at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


@pytest.fixture
def campaign():
    return CampaignFactory(name="Frame launch")


@pytest.fixture
def viewer(client, campaign):
    membership = MembershipFactory(organization=campaign.organization, role=Role.VIEWER)
    client.force_login(membership.user)
    return membership


def _rows(response) -> list[list[str]]:
    assert response.streaming is True
    body = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(body)))


def test_campaign_clicks_of_the_range_streamed_oldest_first(client, viewer, campaign):
    before = ClickFactory(campaign=campaign, occurred_at=_at(DAY - dt.timedelta(days=1), 23))
    first = ClickFactory(
        campaign=campaign,
        occurred_at=_at(DAY, 0),
        referrer="https://warpcast.com/",
        utm_params={"utm_source": "farcaster", "utm_campaign": "frame"},
    )
    last = ClickFactory(
        campaign=campaign,
        occurred_at=dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time.max, tzinfo=dt.UTC),
        is_bot=True,
        bot_reason="user_agent",
        referrer='=HYPERLINK("http://evil")',
    )
    after = ClickFactory(campaign=campaign, occurred_at=_at(DAY + dt.timedelta(days=2), 0))
    ClickFactory(occurred_at=_at(DAY))  # another organization's campaign

    response = client.get(
        f"/trace/campaigns/{campaign.pk}/export/clicks.csv"
        f"?from={DAY}&to={DAY + dt.timedelta(days=1)}"
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="frame-launch-clicks-2025-03-10-to-2025-03-11.csv"'
    )
    rows = _rows(response)
    assert rows[0] == [
        "occurred_at",
        "click_id",
        "campaign_id",
        "referrer",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_term",
        "utm_content",
        "is_bot",
        "bot_reason",
    ]
    assert rows[1:] == [
        [
            "2025-03-10T00:00:00Z",
            first.click_id,
            str(campaign.pk),
            "https://warpcast.com/",
            "farcaster",
            "",
            "frame",
            "",
            "",
            "false",
            "",
        ],
        [
            "2025-03-11T23:59:59.999999Z",
            last.click_id,
            str(campaign.pk),
            '\'=HYPERLINK("http://evil")',  # a formula is shown, not evaluated
            "",
            "",
            "",
            "",
            "",
            "true",
            "user_agent",
        ],
    ]
    exported = {row[1] for row in rows[1:]}
    assert before.click_id not in exported and after.click_id not in exported


def test_campaign_conversions_with_their_click(client, viewer, campaign):
    click = ClickFactory(campaign=campaign, occurred_at=_at(DAY, 9))
    conversion = ConversionFactory(
        campaign=campaign,
        click=click,
        occurred_at=_at(DAY, 10),
        value_usd=Decimal("42.50"),
        wallet_address="0x" + "ab" * 20,
    )
    ConversionFactory(campaign=campaign, occurred_at=_at(DAY + dt.timedelta(days=1)))

    response = client.get(
        f"/trace/campaigns/{campaign.pk}/export/conversions.csv?from={DAY}&to={DAY}"
    )

    rows = _rows(response)
    assert rows == [
        [
            "occurred_at",
            "transaction_hash",
            "event_type",
            "wallet_address",
            "value_usd",
            "contract_address",
            "source",
            "campaign_id",
            "click_id",
        ],
        [
            "2025-03-10T10:00:00Z",
            conversion.transaction_hash,
            conversion.event_type,
            "0x" + "ab" * 20,
            "42.50",
            conversion.contract_address,
            conversion.source,
            str(campaign.pk),
            click.click_id,
        ],
    ]


def test_campaign_days_from_the_rollups(client, viewer, campaign):
    ClickFactory(campaign=campaign, occurred_at=_at(DAY, 9), visitor_hash="a" * 64)
    ClickFactory(campaign=campaign, occurred_at=_at(DAY, 10), visitor_hash="a" * 64)
    ClickFactory(campaign=campaign, occurred_at=_at(DAY, 11), is_bot=True)
    ConversionFactory(
        campaign=campaign,
        click=None,
        occurred_at=_at(DAY, 12),
        value_usd=Decimal("42.50"),
        wallet_address="0x" + "ab" * 20,
    )
    ClickFactory(campaign=campaign, occurred_at=_at(DAY + dt.timedelta(days=1)))

    response = client.get(f"/trace/campaigns/{campaign.pk}/export/days.csv?from={DAY}&to={DAY}")
    project = client.get(
        f"/trace/projects/{campaign.project_id}/export/campaign_days.csv?from={DAY}&to={DAY}"
    )

    expected = [
        [
            "date",
            "campaign_id",
            "clicks",
            "bot_clicks",
            "unique_visitors",
            "conversions",
            "converted_wallets",
            "conversion_value_usd",
            "proven_value_usd",
        ],
        [str(DAY), str(campaign.pk), "2", "1", "1", "1", "1", "42.50", "0.00"],
    ]
    assert _rows(response) == expected
    assert _rows(project) == expected


def test_project_daily_metrics_of_the_range(client, viewer, campaign):
    project = campaign.project
    ActivityMetricFactory(project=project, date=DAY - dt.timedelta(days=1), dau=1)
    ActivityMetricFactory(
        project=project,
        date=DAY,
        dau=7,
        wau=20,
        mau=55,
        transaction_count=12,
        transaction_volume_usd=Decimal("1250.00"),
        activity_score=61.5,
        bot_share=0.25,
    )

    response = client.get(f"/trace/projects/{project.pk}/export/metrics.csv?from={DAY}&to={DAY}")

    rows = _rows(response)
    assert rows[0][:7] == [
        "date",
        "dau",
        "wau",
        "mau",
        "transaction_count",
        "transaction_volume_usd",
        "unpriced_transfers",
    ]
    assert len(rows) == 2  # a day never computed has no row
    assert rows[1][:10] == ["2025-03-10", "7", "20", "55", "12", "1250.00", "0", "", "0.25", "61.5"]
    assert response["Content-Disposition"] == (
        f'attachment; filename="{slugify(project.name)}-metrics-2025-03-10-to-2025-03-10.csv"'
    )


def test_project_clicks_cover_all_its_campaigns(client, viewer, campaign):
    other = CampaignFactory(project=campaign.project, organization=campaign.organization)
    ClickFactory(campaign=campaign, occurred_at=_at(DAY, 1))
    ClickFactory(campaign=other, occurred_at=_at(DAY, 2))

    response = client.get(
        f"/trace/projects/{campaign.project_id}/export/clicks.csv?from={DAY}&to={DAY}"
    )

    assert [row[2] for row in _rows(response)[1:]] == [str(campaign.pk), str(other.pk)]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?from=2025-03-11&to=2025-03-10", "`from` must not be after `to`."),
        ("?from=nope&to=2025-03-10", "Enter a valid date."),
        ("", "This field is required."),
    ],
)
def test_a_bad_range_is_a_400_with_the_message(client, viewer, campaign, query, message):
    response = client.get(f"/trace/campaigns/{campaign.pk}/export/clicks.csv{query}")

    assert response.status_code == 400
    assert not response.streaming
    assert message in unescape(response.text)


def test_another_organizations_exports_are_404(client, campaign):
    stranger = MembershipFactory(role=Role.OWNER)
    client.force_login(stranger.user)
    query = f"?from={DAY}&to={DAY}"

    for path in [
        f"/trace/campaigns/{campaign.pk}/export/",
        f"/trace/campaigns/{campaign.pk}/export/clicks.csv{query}",
        f"/trace/projects/{campaign.project_id}/export/",
        f"/trace/projects/{campaign.project_id}/export/metrics.csv{query}",
        f"/trace/campaigns/{uuid.uuid4()}/export/clicks.csv{query}",
    ]:
        assert client.get(path).status_code == 404, path


def test_an_unknown_data_set_is_a_404(client, viewer, campaign):
    query = f"?from={DAY}&to={DAY}"
    assert (
        client.get(f"/trace/campaigns/{campaign.pk}/export/metrics.csv{query}").status_code == 404
    )
    assert (
        client.get(f"/trace/projects/{campaign.project_id}/export/x.csv{query}").status_code == 404
    )


def test_signed_out_visitors_are_sent_to_sign_in(client, campaign):
    response = Client().get(f"/trace/campaigns/{campaign.pk}/export/clicks.csv?from={DAY}&to={DAY}")

    assert response.status_code == 302
    assert response["Location"].startswith("/signin?next=")


def test_the_export_page_offers_each_data_set_and_the_detail_pages_link_to_it(
    client, viewer, campaign
):
    page = client.get(f"/trace/campaigns/{campaign.pk}/export/")
    project_page = client.get(f"/trace/projects/{campaign.project_id}/export/")

    assert page.status_code == 200
    assert f'formaction="/trace/campaigns/{campaign.pk}/export/clicks.csv"' in page.text
    assert f'formaction="/trace/campaigns/{campaign.pk}/export/conversions.csv"' in page.text
    for dataset in ["metrics", "clicks", "conversions"]:
        assert (
            f'formaction="/trace/projects/{campaign.project_id}/export/{dataset}.csv"'
            in project_page.text
        )
    today = dt.datetime.now(dt.UTC).date()
    assert page.context["form"]["to"].value() == today
    # The detail pages' export links carry their range (the last 30 days by default).
    in_range = f"?from={today - dt.timedelta(days=29)}&amp;to={today}"
    assert (
        f'href="/trace/campaigns/{campaign.pk}/export/{in_range}"'
        in client.get(f"/trace/campaigns/{campaign.pk}/").text
    )
    project_detail = client.get(f"/trace/projects/{campaign.project_id}/").text
    assert f'href="/trace/projects/{campaign.project_id}/export/{in_range}"' in project_detail
    assert f'href="/trace/projects/{campaign.project_id}/certificates/"' in project_detail
