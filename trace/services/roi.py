"""Return on a campaign's budget, exactly as API.md defines it, in Decimal.

roi = (conversion value - budget) / budget (None when the budget is 0)
cac_usd = budget / converted wallets (None when none converted)
conversion_rate = conversions / clicks (None when there were no clicks)

Clicks exclude bot traffic. Conversion value is the campaign's credited share (see
trace.services.attribution), so under linear attribution a campaign is paid only its part.
proven_conversion_share is the part of that value credited through clicks whose link to
the converting wallet is proven (signed by the wallet), over all of it (None without
value). Ratios are rounded half-even to 6 places, money to cents, in a context wide
enough for any sum the database can hold.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, cast

from django.db.models import QuerySet

from trace.models import Campaign
from trace.selectors import (
    MONEY_CONTEXT,
    RATIO_PLACES,
    StatsAnnotations,
    campaign_stats,
    campaigns_with_stats,
    stats_from_annotations,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

CENT = Decimal("0.01")


@dataclass(frozen=True)
class CampaignRoi:
    campaign_id: uuid.UUID
    budget_usd: Decimal
    clicks: int
    conversions: int
    converted_wallets: int
    conversion_value_usd: Decimal
    roi: Decimal | None
    cac_usd: Decimal | None
    conversion_rate: Decimal | None  # conversions per click
    proven_conversion_share: Decimal | None
    # Visitors are unique per day (the visitor hash's salt rotates daily): over several
    # days this is the sum of daily unique human visitors.
    daily_unique_visitors: int
    converted_wallets_per_visitor: Decimal | None  # per daily unique human visitor


def campaign_roi(
    *, campaign: Campaign, start: dt.datetime | None = None, end: dt.datetime | None = None
) -> CampaignRoi:
    """ROI of one campaign, of its clicks and conversions in [start, end) when given (the
    whole budget against the value of the range); a campaign from `campaigns_with_stats`
    costs no extra query (its annotations are of the range it was asked for)."""
    if hasattr(campaign, "click_count"):
        stats = stats_from_annotations(campaign)
    else:
        stats = campaign_stats(campaign=campaign, start=start, end=end)
    with decimal.localcontext(MONEY_CONTEXT):
        budget = Decimal(campaign.budget_usd).quantize(CENT)
        value = stats.conversion_value_usd
        return CampaignRoi(
            campaign_id=campaign.pk,
            budget_usd=budget,
            clicks=stats.clicks,
            conversions=stats.conversions,
            converted_wallets=stats.converted_wallets,
            conversion_value_usd=value,
            roi=((value - budget) / budget).quantize(RATIO_PLACES) if budget else None,
            cac_usd=(budget / stats.converted_wallets).quantize(CENT)
            if stats.converted_wallets
            else None,
            conversion_rate=(Decimal(stats.conversions) / stats.clicks).quantize(RATIO_PLACES)
            if stats.clicks
            else None,
            proven_conversion_share=stats.proven_conversion_share,
            daily_unique_visitors=stats.unique_clicks,
            converted_wallets_per_visitor=(
                Decimal(stats.converted_wallets) / stats.unique_clicks
            ).quantize(RATIO_PLACES)
            if stats.unique_clicks
            else None,
        )


class RoiAnnotations(StatsAnnotations):
    stats: CampaignRoi


def campaigns_with_roi(
    queryset: QuerySet[Campaign],
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> list[WithAnnotations[Campaign, RoiAnnotations]]:
    """Campaigns with `.stats` (clicks, conversions, value, ROI), of [start, end) when
    given, all from one query: campaign_roi reads the annotations campaigns_with_stats
    put on each row."""
    campaigns = cast(  # `.stats` is set below
        "list[WithAnnotations[Campaign, RoiAnnotations]]",
        list(campaigns_with_stats(queryset.select_related("project"), start=start, end=end)),
    )
    for campaign in campaigns:
        campaign.stats = campaign_roi(campaign=campaign)
    return campaigns
