from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from trace.models import AttributionModel, Campaign
from trace.selectors import CampaignStats, campaign_stats, campaigns_with_stats
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
    )
    assert campaign_stats(campaign=campaign) == CampaignStats(
        clicks=6,
        unique_clicks=3,
        conversions=3,
        converted_wallets=2,
        conversion_value_usd=Decimal("1500.50"),
    )


def test_roi_nulls_without_budget_clicks_or_conversions():
    campaign = CampaignFactory(budget_usd=Decimal("0.00"))
    roi = campaign_roi(campaign=campaign)
    assert (roi.clicks, roi.conversions, roi.converted_wallets) == (0, 0, 0)
    assert roi.conversion_value_usd == Decimal("0.00")
    assert (roi.roi, roi.cac_usd, roi.conversion_rate) == (None, None, None)


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
