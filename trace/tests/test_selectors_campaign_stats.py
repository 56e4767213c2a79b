"""campaigns_with_stats writes its rollup subqueries out (trace.selectors._RollupSum):
they must follow Django's table aliases wherever the annotated queryset goes."""

from __future__ import annotations

import pytest
from django.db.models import Subquery

from trace.models import Campaign
from trace.selectors import campaigns_with_stats
from trace.tests.factories import CampaignFactory, ClickFactory, ConversionFactory

pytestmark = pytest.mark.django_db


def test_stats_filtered_on_inside_a_subquery_of_another_stats_query():
    busy = CampaignFactory()
    CampaignFactory(organization=busy.organization, project=busy.project)  # no clicks
    clicks = [ClickFactory(campaign=busy) for _ in range(3)]
    ConversionFactory(click=clicks[0])

    clicked = campaigns_with_stats(Campaign.objects.all()).filter(click_count__gt=0)
    outer = campaigns_with_stats(Campaign.objects.filter(pk__in=Subquery(clicked.values("pk"))))

    assert [(c.pk, c.click_count, c.conversion_count, c.converted_wallet_count) for c in outer] == [
        (busy.pk, 3, 1, 1)
    ]
