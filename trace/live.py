"""TRACE on the live channels (fabrknt/live): who may subscribe to a campaign's or a
project's channel (settings.LIVE_CHANNEL_KINDS), and the click counters pushed to them
after each click flush."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.utils import timezone

from accounts.models import User
from accounts.selectors import READ, caller_access
from fabrknt.live.publish import publish
from trace.models import Campaign, CampaignDay, Project
from trace.services.rollups import utc_day

CLICK_EVENT = "click"


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def campaign_live_visible(*, user: User, object_id: str) -> bool:
    pk = _uuid(object_id)
    if pk is None:
        return False
    return caller_access(user=user).scoped(Campaign.objects.filter(pk=pk), READ).exists()


def project_live_visible(*, user: User, object_id: str) -> bool:
    pk = _uuid(object_id)
    if pk is None:
        return False
    return caller_access(user=user).scoped(Project.objects.filter(pk=pk), READ).exists()


def campaign_clicks_publish(*, campaign_ids: Iterable[str]) -> int:
    """Push today's click counters (the rollup's, as the campaign page counts them) of
    these campaigns to their channels and their projects' channels; one query for all.
    Returns the number of campaigns pushed."""
    today = utc_day(timezone.now())
    days = CampaignDay.objects.filter(campaign_id__in=set(campaign_ids), date=today).values(
        "campaign_id", "campaign__project_id", "clicks", "bot_clicks", "unique_visitors"
    )
    pushed = 0
    for day in days:
        campaign_id = str(day["campaign_id"])
        counters = {
            "campaign": campaign_id,
            "date": today.isoformat(),
            "clicks": day["clicks"],
            "bot_clicks": day["bot_clicks"],
            "unique_visitors": day["unique_visitors"],
        }
        publish(f"campaign:{campaign_id}", CLICK_EVENT, counters)
        if day["campaign__project_id"] is not None:
            publish(f"project:{day['campaign__project_id']}", CLICK_EVENT, counters)
        pushed += 1
    return pushed
