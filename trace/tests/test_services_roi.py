from __future__ import annotations

import datetime as dt
import decimal
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from trace.api.serializers import RoiSerializer
from trace.models import AttributionModel, Campaign, LinkProof, WalletLink
from trace.selectors import (
    CampaignStats,
    campaign_stats,
    campaigns_with_stats,
    project_proven_conversion_share,
)
from trace.services.attribution import attribution_apply_interactions
from trace.services.roi import CampaignRoi, campaign_roi
from trace.tests.factories import (
    CampaignFactory,
    ClickFactory,
    ContractInteractionFactory,
    ConversionFactory,
    ProjectFactory,
    WalletLinkFactory,
    evm_address,
)

pytestmark = pytest.mark.django_db


def test_roi_exact_values():
    campaign = CampaignFactory(budget_usd=Decimal("1000.00"))
    clicks = [ClickFactory(campaign=campaign, visitor_hash=f"v{n % 3}") for n in range(6)]
    ClickFactory(campaign=campaign, is_bot=True, bot_reason="user_agent:slackbot")  # not a click
    wallet = evm_address()
    ConversionFactory(click=clicks[0], wallet_address=wallet, value_usd=Decimal("700.00"))
    ConversionFactory(click=clicks[1], wallet_address=wallet, value_usd=Decimal("800.50"))
    ConversionFactory(click=clicks[2], value_usd=Decimal("0.00"))

    assert campaign_roi(campaign=campaign) == CampaignRoi(
        campaign_id=campaign.pk,
        budget_usd=Decimal("1000.00"),
        clicks=6,
        conversions=3,
        converted_wallets=2,
        conversion_value_usd=Decimal("1500.50"),
        roi=Decimal("0.500500"),
        cac_usd=Decimal("500.00"),
        conversion_rate=Decimal("0.500000"),
        proven_conversion_share=Decimal("0.000000"),  # no link is proven
        daily_unique_visitors=3,
        converted_wallets_per_visitor=Decimal("0.666667"),  # 2 wallets / 3 visitors
    )
    assert campaign_stats(campaign=campaign) == CampaignStats(
        clicks=6,
        unique_clicks=3,
        conversions=3,
        converted_wallets=2,
        conversion_value_usd=Decimal("1500.50"),
        proven_value_usd=Decimal("0.00"),
    )


def test_roi_nulls_without_budget_clicks_or_conversions():
    campaign = CampaignFactory(budget_usd=Decimal("0.00"))
    roi = campaign_roi(campaign=campaign)
    assert (roi.clicks, roi.conversions, roi.converted_wallets) == (0, 0, 0)
    assert roi.conversion_value_usd == Decimal("0.00")
    assert (roi.roi, roi.cac_usd, roi.conversion_rate) == (None, None, None)
    assert roi.proven_conversion_share is None


def test_roi_loss_and_repeating_decimals():
    campaign = CampaignFactory(budget_usd=Decimal("300.00"))
    clicks = [ClickFactory(campaign=campaign) for _ in range(3)]
    ConversionFactory(click=clicks[0], value_usd=Decimal("100.00"))
    roi = campaign_roi(campaign=campaign)
    assert roi.roi == Decimal("-0.666667")
    assert roi.cac_usd == Decimal("300.00")
    assert roi.conversion_rate == Decimal("0.333333")


def test_linear_credit_is_what_roi_counts():
    project = ProjectFactory()
    a = CampaignFactory(project=project, budget_usd=Decimal("10.00"))
    b = CampaignFactory(
        project=project, budget_usd=Decimal("20.00"), attribution_model=AttributionModel.LINEAR
    )
    wallet = evm_address()
    for campaign in (a, b):
        WalletLinkFactory(click=ClickFactory(campaign=campaign), wallet_address=wallet)
    interaction = ContractInteractionFactory(
        project=project, wallet_address=wallet, value_usd=Decimal("45.00")
    )
    assert attribution_apply_interactions(interaction_ids=[interaction.pk]) == 1

    roi_a, roi_b = campaign_roi(campaign=a), campaign_roi(campaign=b)
    assert (roi_a.conversions, roi_a.conversion_value_usd, roi_a.roi) == (
        1,
        Decimal("22.50"),
        Decimal("1.250000"),
    )
    assert (roi_b.conversions, roi_b.conversion_value_usd, roi_b.roi) == (
        1,
        Decimal("22.50"),
        Decimal("0.125000"),
    )
    assert roi_a.converted_wallets == roi_b.converted_wallets == 1


def test_campaigns_with_stats_is_one_query_for_a_list():
    campaigns = [CampaignFactory() for _ in range(3)]
    for index, campaign in enumerate(campaigns):
        for _ in range(index + 1):
            ConversionFactory(click=ClickFactory(campaign=campaign), value_usd=Decimal("10.00"))
    with CaptureQueriesContext(connection) as queries:
        rows = list(campaigns_with_stats(Campaign.objects.order_by("created_at")))
        rois = [campaign_roi(campaign=campaign) for campaign in rows]
    assert len(queries.captured_queries) == 1
    assert [(roi.clicks, roi.conversions, roi.conversion_value_usd) for roi in rois] == [
        (1, 1, Decimal("10.00")),
        (2, 2, Decimal("20.00")),
        (3, 3, Decimal("30.00")),
    ]


# --- proven share -----------------------------------------------------------------------


def _proven(link) -> None:
    WalletLink.objects.filter(pk=link.pk).update(proof=LinkProof.PROVEN, proven_at=timezone.now())


def test_proven_share_counts_credited_value_through_proven_links():
    """Linear credit: of a 90.00 conversion the campaign has three 30.00 touches, one
    proven; a 10.00 conversion without credit rows (its own click) is proven; a 60.00 one
    is claimed only. Proven: 30 + 10 of 30 + 30 + 30 + 10 + 60."""
    project = ProjectFactory()
    campaign = CampaignFactory(project=project, attribution_model=AttributionModel.LINEAR)
    wallet = evm_address()
    links = [
        WalletLinkFactory(click=ClickFactory(campaign=campaign), wallet_address=wallet)
        for _ in range(3)
    ]
    _proven(links[1])
    interaction = ContractInteractionFactory(
        project=project, wallet_address=wallet, value_usd=Decimal("90.00")
    )
    assert attribution_apply_interactions(interaction_ids=[interaction.pk]) == 1
    own = WalletLinkFactory(click=ClickFactory(campaign=campaign))
    _proven(own)
    ConversionFactory(click=own.click, wallet_address=own.wallet_address, value_usd=Decimal("10"))
    claimed = WalletLinkFactory(click=ClickFactory(campaign=campaign))
    ConversionFactory(
        click=claimed.click, wallet_address=claimed.wallet_address, value_usd=Decimal("60.00")
    )
    # A proven link of another wallet on the same click proves nothing for this one.
    _proven(WalletLinkFactory(click=claimed.click))

    stats = campaign_stats(campaign=campaign)
    assert (stats.conversion_value_usd, stats.proven_value_usd) == (
        Decimal("160.00"),
        Decimal("40.00"),
    )
    assert campaign_roi(campaign=campaign).proven_conversion_share == Decimal("0.250000")


def test_project_proven_share_covers_the_period_and_the_projects_campaigns():
    project = ProjectFactory()
    start = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    end = dt.datetime(2025, 4, 1, tzinfo=dt.UTC)

    def conversion(value: str, *, proven: bool, at: dt.datetime, campaign=None) -> None:
        link = WalletLinkFactory(click=ClickFactory(campaign=campaign or first))
        if proven:
            _proven(link)
        ConversionFactory(
            click=link.click,
            wallet_address=link.wallet_address,
            value_usd=Decimal(value),
            occurred_at=at,
        )

    assert project_proven_conversion_share(project_id=project.pk, start=start, end=end) is None
    first, second = CampaignFactory(project=project), CampaignFactory(project=project)
    conversion("300.00", proven=True, at=start)
    conversion("100.00", proven=False, at=end - dt.timedelta(seconds=1), campaign=second)
    conversion("500.00", proven=False, at=end)  # after the period
    conversion("700.00", proven=False, at=start, campaign=CampaignFactory())  # another project
    share = project_proven_conversion_share(project_id=project.pk, start=start, end=end)
    assert share == Decimal("0.750000")


# --- sums as large as the database can hold ---------------------------------------------


def test_roi_is_exact_for_the_largest_sums_the_database_can_hold():
    """2**63 rows at a money column's maximum sum to 37 integer digits; ROI over a budget
    of one cent adds two more. Python's default 28-digit context would raise here."""
    campaign = CampaignFactory(budget_usd=Decimal("0.01"))
    wide = decimal.Context(prec=100)  # the test's own arithmetic must not round either
    largest = wide.multiply(Decimal("999999999999999999.99"), 2**63 - 1)
    for name, value in {
        "click_count": 2**63 - 1,
        "unique_click_count": 1,
        "conversion_count": 2**63 - 1,
        "converted_wallet_count": 3,
        "conversion_value_usd": largest,
        "proven_value_usd": wide.divide(largest, 3),
    }.items():
        setattr(campaign, name, value)

    roi = campaign_roi(campaign=campaign)

    assert roi.conversion_value_usd == largest
    assert len(roi.conversion_value_usd.as_tuple().digits) == 39
    assert roi.roi == wide.multiply(wide.subtract(largest, Decimal("0.01")), 100)
    assert (roi.cac_usd, roi.conversion_rate) == (Decimal("0.00"), Decimal("1.000000"))
    assert roi.proven_conversion_share == Decimal("0.333333")
    body = RoiSerializer(roi).data
    assert body["conversion_value_usd"] == f"{largest:.2f}"
    assert body["roi"] == float(roi.roi)
