"""Migrations 0021-0024 turn CampaignClickDay into CampaignDay and fill it: the counts of
clicks already past retention become `retained_*`, and the totals add the raw rows."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from trace.tests.test_migrations import _migrate

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("trace", "0020_campaign_status_and_clicks_during_pause")]
AFTER = [("trace", "0024_campaign_wallets")]


def test_existing_databases_get_their_rollups():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    apps = _migrate(BEFORE)
    Organization = apps.get_model("accounts", "Organization")
    Campaign = apps.get_model("trace", "Campaign")
    Click = apps.get_model("trace", "Click")
    Conversion = apps.get_model("trace", "Conversion")
    CampaignClickDay = apps.get_model("trace", "CampaignClickDay")
    day = dt.date(2026, 1, 1)
    at = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
    organization = Organization.objects.create(name="Org", slug="org")
    campaign = Campaign.objects.create(
        organization=organization, name="C", landing_url="https://a.example/"
    )
    # Retention already rolled up 5 clicks (3 visitors) of the day and deleted them.
    CampaignClickDay.objects.create(
        campaign=campaign, date=day, clicks=5, bot_clicks=1, unique_visitors=3
    )
    clicks = [
        Click.objects.create(
            click_id=f"c{n}",
            campaign=campaign,
            organization=organization,
            occurred_at=at,
            visitor_hash=hash_,
            is_bot=is_bot,
        )
        for n, (hash_, is_bot) in enumerate([("a" * 64, False), ("a" * 64, False), ("", True)])
    ]
    Conversion.objects.create(
        id=uuid.uuid4(),
        organization=organization,
        campaign=campaign,
        click=clicks[0],
        wallet_address="0x52908400098527886E0F7030069857D2E4169EE7",
        transaction_hash=f"0x{1:064x}",
        value_usd=Decimal("12.50"),
        occurred_at=at,
    )

    apps = _migrate(AFTER)
    try:
        row = apps.get_model("trace", "CampaignDay").objects.get()
        assert (row.campaign_id, row.date) == (campaign.pk, day)
        assert (row.retained_clicks, row.retained_bot_clicks, row.retained_unique_visitors) == (
            5,
            1,
            3,
        )
        assert (row.clicks, row.bot_clicks, row.unique_visitors) == (7, 2, 4)
        assert (row.conversions, row.converted_wallets, row.conversion_value_usd) == (
            1,
            1,
            Decimal("12.50"),
        )
    finally:
        _migrate(latest)
