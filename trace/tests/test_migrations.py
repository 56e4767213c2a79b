"""The migrations that make click ids and conversions unique per organization fill the new
columns of rows stored before them from their campaign."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("trace", "0005_wider_money_sums_and_metric_flags")]
AFTER = [("trace", "0008_unique_keys_per_organization")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_existing_clicks_and_conversions_get_their_campaigns_organization():
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()  # every app's
    apps = _migrate(BEFORE)
    Organization = apps.get_model("accounts", "Organization")
    Campaign = apps.get_model("trace", "Campaign")
    Click = apps.get_model("trace", "Click")
    Conversion = apps.get_model("trace", "Conversion")
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    organizations = [Organization.objects.create(name=f"Org {n}", slug=f"org-{n}") for n in (1, 2)]
    campaigns = [
        Campaign.objects.create(organization=o, name="C", landing_url="https://a.example/")
        for o in organizations
    ]
    for n, campaign in enumerate(campaigns):
        click = Click.objects.create(click_id=f"old-{n}", campaign=campaign, occurred_at=now)
        Conversion.objects.create(
            id=uuid.uuid4(),
            campaign=campaign,
            click=click,
            wallet_address="0x52908400098527886E0F7030069857D2E4169EE7",
            transaction_hash=f"0x{n:064x}",
            occurred_at=now,
        )

    apps = _migrate(AFTER)
    try:
        for name in ("Click", "Conversion"):
            rows = apps.get_model("trace", name).objects.all()
            assert sorted(rows.values_list("campaign_id", "organization_id")) == sorted(
                (campaign.pk, campaign.organization_id) for campaign in campaigns
            )
    finally:
        _migrate(latest)
