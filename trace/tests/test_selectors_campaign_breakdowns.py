"""The campaign page's reads: referrer and UTM breakdowns, human against bot clicks,
converted wallets; each one grouped in the database, numbers exact."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from trace.models import Campaign, CampaignStatus, ConversionCredit, LinkProof
from trace.selectors import (
    BotReasonRow,
    BreakdownRow,
    ClickQuality,
    campaign_click_quality,
    campaign_converted_wallets,
    campaign_referrer_breakdown,
    campaign_utm_breakdown,
    campaigns_listed,
)
from trace.services.rollups import campaign_days_conversions_refresh, conversion_cells
from trace.tests.factories import (
    CampaignFactory,
    ClickFactory,
    ConversionFactory,
    WalletLinkFactory,
    evm_address,
)

pytestmark = pytest.mark.django_db


def test_referrers_grouped_by_host_humans_only(campaign):
    referrers = [
        ("https://Twitter.com/home", "a"),
        ("https://twitter.com/i/status/1", "b"),
        ("http://user@twitter.com:8080/x", "a"),
        ("https://news.example/?q=1", "c"),
        ("", "d"),
        ("not a url", "e"),
    ]
    for referrer, visitor in referrers:
        ClickFactory(campaign=campaign, referrer=referrer, visitor_hash=visitor)
    ClickFactory(campaign=campaign, referrer="https://bot.example/", is_bot=True)
    ClickFactory(referrer="https://twitter.com/")  # another campaign's
    with CaptureQueriesContext(connection) as queries:
        rows = campaign_referrer_breakdown(campaign=campaign)
    assert len(queries.captured_queries) == 1
    assert rows == [
        BreakdownRow("twitter.com", 3),  # whatever the case, port or user info
        BreakdownRow("", 2),  # direct, and a referrer without a host
        BreakdownRow("news.example", 1),
    ]
    limited = campaign_referrer_breakdown(campaign=campaign, limit=1)
    assert limited == [BreakdownRow("twitter.com", 3)]


def test_utm_values_top_n_per_parameter(campaign):
    tags = [
        {"utm_source": "newsletter", "utm_medium": "email"},
        {"utm_source": "newsletter", "utm_medium": "email"},
        {"utm_source": "twitter"},
        {"utm_source": "discord", "utm_custom": "ignored"},
        {"utm_campaign": "spring"},
        {},
    ]
    for n, utm in enumerate(tags):
        ClickFactory(campaign=campaign, utm_params=utm, visitor_hash=f"v{n}")
    ClickFactory(campaign=campaign, utm_params={"utm_source": "bot"}, is_bot=True)
    with CaptureQueriesContext(connection) as queries:
        breakdown = campaign_utm_breakdown(campaign=campaign, limit=2)
    assert len(queries.captured_queries) == 1
    assert breakdown == {
        "utm_source": [BreakdownRow("newsletter", 2), BreakdownRow("discord", 1)],
        "utm_medium": [BreakdownRow("email", 2)],
        "utm_campaign": [BreakdownRow("spring", 1)],
    }
    assert list(breakdown) == ["utm_source", "utm_medium", "utm_campaign"]


def test_click_quality_humans_bots_reasons_and_pause(campaign):
    ClickFactory.create_batch(3, campaign=campaign)
    ClickFactory(campaign=campaign, during_pause=True)
    ClickFactory.create_batch(2, campaign=campaign, is_bot=True, bot_reason="method:HEAD")
    ClickFactory(campaign=campaign, is_bot=True, bot_reason="user_agent:slackbot")
    ClickFactory(campaign=campaign, is_bot=True, bot_reason="", during_pause=True)
    ClickFactory(is_bot=True, bot_reason="method:HEAD")  # another campaign's
    assert campaign_click_quality(campaign=campaign) == ClickQuality(
        human=4,
        bots=4,
        bot_reasons=[
            BotReasonRow("method:HEAD", 2),
            BotReasonRow("unspecified", 1),
            BotReasonRow("user_agent:slackbot", 1),
        ],
        during_pause=2,
    )


def test_converted_wallets_proven_claimed_and_credited_value(campaign):
    proven_wallet, claimed_wallet = evm_address(), evm_address()
    click = ClickFactory(campaign=campaign)
    WalletLinkFactory(
        click=click,
        wallet_address=proven_wallet,
        proof=LinkProof.PROVEN,
        proven_at=click.occurred_at,
    )
    WalletLinkFactory(click=click, wallet_address=claimed_wallet)
    first = ConversionFactory(click=click, wallet_address=proven_wallet, value_usd=Decimal("10"))
    ConversionFactory(click=click, wallet_address=proven_wallet, value_usd=Decimal("5.50"))
    # Linear attribution: half of this conversion's value is credited to the campaign.
    other = CampaignFactory(organization=campaign.organization, project=campaign.project)
    shared = ConversionFactory(
        click=ClickFactory(campaign=other), wallet_address=claimed_wallet, value_usd=Decimal("8")
    )
    for credited_campaign, credited_click in ((campaign, click), (other, shared.click)):
        ConversionCredit.objects.create(
            conversion=shared,
            campaign=credited_campaign,
            click=credited_click,
            share=Decimal("0.5"),
            value_usd=Decimal("4.00"),
        )
    # Credits written directly: their days recounted, as the attribution service does.
    campaign_days_conversions_refresh(conversion_cells([shared.pk]))
    rows = list(campaign_converted_wallets(campaign=campaign))
    assert [(r["wallet_address"], r["conversions"], r["value_usd"], r["proven"]) for r in rows] == [
        (claimed_wallet, 1, Decimal("4.00"), False),
        (proven_wallet, 2, Decimal("15.50"), True),
    ]
    assert rows[1]["last_converted_at"] >= first.occurred_at
    assert list(campaign_converted_wallets(campaign=other))[0]["value_usd"] == Decimal("4.00")


def test_lists_hide_archived_campaigns_unless_asked(campaign):
    archived = CampaignFactory(project=campaign.project, status=CampaignStatus.ARCHIVED)
    paused = CampaignFactory(project=campaign.project, status=CampaignStatus.PAUSED)
    everything = Campaign.objects.all()
    assert set(campaigns_listed(everything)) == {campaign, paused}
    assert list(campaigns_listed(everything, status=CampaignStatus.ARCHIVED)) == [archived]


def test_breakdowns_follow_the_pages_date_range():
    """The campaign page's range (issue 9) bounds the breakdowns too, not only the chart."""
    campaign = CampaignFactory()
    now = timezone.now()
    old = now - dt.timedelta(days=40)
    ClickFactory(
        campaign=campaign,
        occurred_at=old,
        referrer="https://old.example/a",
        utm_params={"utm_source": "old"},
    )
    ClickFactory(
        campaign=campaign,
        occurred_at=now,
        referrer="https://new.example/b",
        utm_params={"utm_source": "new"},
    )
    window = {"start": now - dt.timedelta(days=7), "end": now + dt.timedelta(days=1)}

    referrers = campaign_referrer_breakdown(campaign=campaign, **window)
    utm = campaign_utm_breakdown(campaign=campaign, **window)
    quality = campaign_click_quality(campaign=campaign, **window)

    assert [row.label for row in referrers] == ["new.example"]
    assert [row.label for row in utm["utm_source"]] == ["new"]
    assert (quality.human, quality.bots) == (1, 0)
    assert len(campaign_referrer_breakdown(campaign=campaign)) == 2  # no range: all kept
