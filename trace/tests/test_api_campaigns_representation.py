"""CampaignSerializer and CampaignDetailSerializer write their fields out rather than walk
them as ModelSerializer does: the output must be exactly ModelSerializer's, for every
field, with and without a project, for every status and odd amounts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import RequestFactory
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from accounts.tests.factories import OrganizationFactory
from trace.api.serializers import CampaignDetailSerializer, CampaignSerializer
from trace.models import Campaign, CampaignStatus
from trace.selectors import campaigns_with_stats, stats_from_annotations
from trace.tests.factories import CampaignFactory, ClickFactory, ConversionFactory

render = JSONRenderer().render


@pytest.fixture
def campaigns(db):
    made = [
        CampaignFactory(budget_usd=Decimal("1234.5"), goal="ünïcode “quotes”"),
        CampaignFactory(
            project=None,
            organization=OrganizationFactory(),
            target_contract="",
            budget_usd=Decimal("0"),
            status=CampaignStatus.PAUSED,
        ),
        CampaignFactory(budget_usd=Decimal("999999999999.99"), status=CampaignStatus.ARCHIVED),
    ]
    for campaign in made[:1]:
        ConversionFactory(click=ClickFactory(campaign=campaign))
    # Read back as the views read them (and one as created, with enum members and a
    # Decimal that was never stored).
    return [*Campaign.objects.filter(pk__in=[c.pk for c in made]), made[0]]


def test_campaign_as_model_serializer_writes_it(campaigns):
    request = RequestFactory().get("/api/v1/campaigns")
    for context in ({"request": request}, {}):
        for campaign in campaigns:
            serializer = CampaignSerializer(campaign, context=context)
            expected = serializers.ModelSerializer.to_representation(serializer, campaign)
            written = serializer.data
            assert list(written) == list(expected)
            assert render(written) == render(expected)
        listed = CampaignSerializer(campaigns, many=True, context=context).data
        assert len(listed) == len(campaigns)


def test_campaign_detail_with_its_stats(campaigns):
    start = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    for window in ({}, {"start": start - dt.timedelta(days=7), "end": start}):
        for campaign in campaigns_with_stats(Campaign.objects.all(), **window):
            campaign.stats = stats_from_annotations(campaign)
            serializer = CampaignDetailSerializer(campaign)
            expected = serializers.ModelSerializer.to_representation(serializer, campaign)
            assert list(serializer.data) == list(expected)
            assert render(serializer.data) == render(expected)
            assert "stats" in serializer.data
