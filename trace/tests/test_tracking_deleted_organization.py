"""A deleted organization's tracking links stop recording clicks (issue 9: deletion is
soft, but its campaigns are gone from the product)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from trace.models import Click
from trace.services.clicks.validation import _campaign_cache, campaign_lookup
from trace.tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def test_a_deleted_organizations_link_records_nothing(client):
    campaign = CampaignFactory()
    _campaign_cache.clear()
    assert campaign_lookup(campaign_id=str(campaign.pk)) is not None
    campaign.organization.deleted_at = timezone.now()
    campaign.organization.save(update_fields=["deleted_at"])
    _campaign_cache.clear()  # another process, or after the cache's 30 s

    response = client.get(f"/t/{campaign.pk}")

    assert response.status_code == 404
    assert campaign_lookup(campaign_id=str(campaign.pk)) is None
    assert not Click.objects.exists()
