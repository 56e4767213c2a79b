"""Retention of raw clicks: after CLICK_RETENTION_DAYS a click's row goes, its count stays.

A campaign's clicks of a UTC day expire at once, when the day is CLICK_RETENTION_DAYS
old, or, for a campaign whose attribution window is longer, that window old (until then a
wallet's activity can still be credited to them). One campaign-day is one transaction:

- the counts of the rows it deletes (and the day's distinct visitor hashes, which it
  erases) move into the `retained_*` columns of the campaign's CampaignDay, whose totals
  do not change (trace.services.rollups), and the day's stored visitor hashes go; its
  breakdowns (CampaignDayBreakdown) are all retained, as no click of the day keeps the
  details they count;
- a click a conversion (or a conversion's credit) refers to is kept as that conversion's
  evidence, with its wallet links (proven or claimed), but the visit's details are
  erased: IP network, visitor hash, user agent, referrer and UTM parameters;
- every other click is deleted, with its wallet links and wallet-proof nonces (no
  conversion can come of them any more).

Conversions, their credits, daily metrics and certificates are never touched.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from trace.models import (
    Campaign,
    CampaignDay,
    CampaignDayBreakdown,
    CampaignDayVisitor,
    Click,
    Conversion,
    ConversionCredit,
)

# Campaign-days a run handles; the task queues another run while some are left.
PURGE_DAYS_PER_RUN = 200


@dataclass(frozen=True)
class PurgeResult:
    deleted: int  # click rows deleted
    erased: int  # click rows kept for a conversion, their visit's details erased
    days: int  # campaign-days handled
    more: bool  # expired campaign-days left for another run


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def clicks_expired(*, now: dt.datetime) -> QuerySet[Click]:
    """Clicks past retention (and past their campaign's attribution window), by whole UTC
    days, whose details are not erased yet."""
    retention = settings.CLICK_RETENTION_DAYS
    expired = Q()
    windows = Campaign.objects.order_by().values_list("attribution_window_days", flat=True)
    for window in set(windows):
        cutoff = _midnight(now.astimezone(dt.UTC).date() - dt.timedelta(max(retention, window)))
        expired |= Q(campaign__attribution_window_days=window, occurred_at__lt=cutoff)
    if not expired:
        return Click.objects.none()
    return Click.objects.filter(expired, details_erased=False)


def clicks_purge_expired(
    *, now: dt.datetime | None = None, max_days: int = PURGE_DAYS_PER_RUN
) -> PurgeResult:
    """Roll up, erase or delete the expired clicks of up to `max_days` campaign-days,
    oldest first. Safe to re-run: a handled day has no expired clicks left."""
    groups = list(
        clicks_expired(now=now or timezone.now())
        .annotate(day=TruncDate("occurred_at", tzinfo=dt.UTC))
        .order_by("day", "campaign_id")
        .values_list("campaign_id", "day")
        .distinct()[: max_days + 1]
    )
    deleted = erased = 0
    for campaign_id, day in groups[:max_days]:
        day_deleted, day_erased = _campaign_day_purge(campaign_id=campaign_id, day=day)
        deleted += day_deleted
        erased += day_erased
    return PurgeResult(
        deleted=deleted,
        erased=erased,
        days=min(len(groups), max_days),
        more=len(groups) > max_days,
    )


def _campaign_day_purge(*, campaign_id: UUID, day: dt.date) -> tuple[int, int]:
    referenced = Exists(Conversion.objects.filter(click=OuterRef("pk"))) | Exists(
        ConversionCredit.objects.filter(click=OuterRef("pk"))
    )
    start = _midnight(day)
    with transaction.atomic():
        # The day's rollup row first: a flush adding a late click to the day waits for us.
        rollup, _created = CampaignDay.objects.get_or_create(campaign_id=campaign_id, date=day)
        CampaignDay.objects.select_for_update().filter(pk=rollup.pk).first()
        clicks = Click.objects.filter(
            campaign_id=campaign_id,
            occurred_at__gte=start,
            occurred_at__lt=start + dt.timedelta(days=1),
            details_erased=False,
        )
        human = Q(is_bot=False)
        counts = clicks.aggregate(
            deleted_human=Count("pk", filter=human & ~referenced),
            deleted_bots=Count("pk", filter=~human & ~referenced),
            unique_visitors=Count(
                "visitor_hash", distinct=True, filter=human & ~Q(visitor_hash="")
            ),
        )
        CampaignDay.objects.filter(pk=rollup.pk).update(
            retained_clicks=F("retained_clicks") + counts["deleted_human"],
            retained_bot_clicks=F("retained_bot_clicks") + counts["deleted_bots"],
            retained_unique_visitors=F("retained_unique_visitors") + counts["unique_visitors"],
        )
        CampaignDayVisitor.objects.filter(campaign_id=campaign_id, date=day).delete()
        # No click of the day keeps its details after this: its breakdowns are all retained.
        CampaignDayBreakdown.objects.filter(campaign_id=campaign_id, date=day).update(
            retained_clicks=F("clicks")
        )
        erased = clicks.filter(referenced).update(
            details_erased=True,
            ip_address="",
            visitor_hash="",
            user_agent="",
            referrer="",
            utm_params={},
        )
        _total, per_model = clicks.exclude(referenced).delete()
    return per_model.get(Click._meta.label, 0), erased
