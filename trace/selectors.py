"""TRACE reads: campaign statistics computed in the database (one query for a whole list),
projects with their latest metrics, daily series for the pages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from trace.models import ActivityMetric, Asset, AssetPrice, Campaign, Click, Conversion, Project
from trace.services.clicks.stream import counter_keys, stream_client

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class CampaignStats:
    clicks: int  # people's clicks; bot traffic is not a click
    unique_clicks: int  # distinct visitor hashes (per day's salt)
    conversions: int  # conversions this campaign has credit in
    converted_wallets: int
    conversion_value_usd: Decimal  # the campaign's credited share of their value


class _Count(Func):
    # An aggregate Django does not recognise as one, so the correlated subquery has no
    # GROUP BY and yields exactly one row (0 when nothing matches).
    function = "COUNT"
    output_field = IntegerField()


class _CountDistinct(_Count):
    template = "COUNT(DISTINCT %(expressions)s)"


class _Sum(Func):
    function = "SUM"
    output_field = DecimalField(max_digits=20, decimal_places=2)


def _scalar(queryset: QuerySet, expression: Func, default: Value) -> Coalesce:
    return Coalesce(Subquery(queryset.annotate(result=expression).values("result")[:1]), default)


def campaigns_with_stats(queryset: QuerySet[Campaign]) -> QuerySet[Campaign]:
    """`queryset` annotated with click_count, unique_click_count, conversion_count,
    converted_wallet_count and conversion_value_usd, all in the one SELECT."""
    clicks = Click.objects.filter(campaign=OuterRef("pk"), is_bot=False).order_by()
    # A conversion counts for a campaign through its credit rows, or, when it has none
    # (written directly, e.g. demo data), fully for its own campaign.
    credited = Conversion.objects.filter(
        Q(credits__campaign=OuterRef("pk")) | Q(campaign=OuterRef("pk"), credits__isnull=True)
    ).order_by()
    zero_count = Value(0)
    return queryset.annotate(
        click_count=_scalar(clicks, _Count(F("pk")), zero_count),
        unique_click_count=_scalar(
            clicks.exclude(visitor_hash=""), _CountDistinct(F("visitor_hash")), zero_count
        ),
        conversion_count=_scalar(credited, _CountDistinct(F("pk")), zero_count),
        converted_wallet_count=_scalar(credited, _CountDistinct(F("wallet_address")), zero_count),
        conversion_value_usd=_scalar(
            credited,
            _Sum(Coalesce(F("credits__value_usd"), F("value_usd"))),
            Value(ZERO, output_field=DecimalField(max_digits=20, decimal_places=2)),
        ),
    )


def campaign_stats(*, campaign: Campaign) -> CampaignStats:
    row = (
        campaigns_with_stats(Campaign.objects.filter(pk=campaign.pk))
        .values(
            "click_count",
            "unique_click_count",
            "conversion_count",
            "converted_wallet_count",
            "conversion_value_usd",
        )
        .get()
    )
    return stats_from_annotations(row)


def stats_from_annotations(row: dict | Campaign) -> CampaignStats:
    """CampaignStats from a `campaigns_with_stats` row (a dict or an annotated Campaign)."""
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
    return CampaignStats(
        clicks=get("click_count"),
        unique_clicks=get("unique_click_count"),
        conversions=get("conversion_count"),
        converted_wallets=get("converted_wallet_count"),
        conversion_value_usd=Decimal(get("conversion_value_usd")).quantize(ZERO),
    )


@dataclass(frozen=True)
class RealtimeClicks:
    clicks: int
    unique_visitors: int  # HyperLogLog estimate (about 0.8% standard error)
    bot_hits: int


def campaign_realtime_clicks(*, campaign_id: str, day: dt.date) -> RealtimeClicks | None:
    """Today's counters from Redis, ahead of the flush; None without Redis."""
    client = stream_client()
    if client is None:
        return None
    count_key, unique_key, bot_key = counter_keys(
        campaign_id=str(campaign_id), day=day.strftime("%Y%m%d")
    )
    pipe = client.pipeline(transaction=False)
    pipe.get(count_key)
    pipe.pfcount(unique_key)
    pipe.get(bot_key)
    clicks, unique, bots = pipe.execute()
    return RealtimeClicks(int(clicks or 0), int(unique or 0), int(bots or 0))


def projects_with_latest_metric(queryset: QuerySet[Project]) -> list[Project]:
    """Projects with `.latest` (their last complete day's metrics, see below): two queries."""
    metrics = ActivityMetric.objects.filter(project=OuterRef("pk")).order_by("-date")
    complete = metrics.filter(date__lt=timezone.localdate())
    projects = list(
        queryset.select_related("organization")
        .annotate(
            campaign_count=Count("campaigns", distinct=True),
            latest_metric_id=Coalesce(
                Subquery(complete.values("pk")[:1]), Subquery(metrics.values("pk")[:1])
            ),
        )
        .order_by("name")
    )
    latest = ActivityMetric.objects.in_bulk([p.latest_metric_id for p in projects])
    for project in projects:
        project.latest = latest.get(project.latest_metric_id)
    return projects


def project_latest_complete_metric(project: Project) -> ActivityMetric | None:
    """The last finished day's metrics (today's are partial: DAU near 0 at midnight);
    today's only when there is nothing before it."""
    metrics = ActivityMetric.objects.filter(project=project).order_by("-date")
    return metrics.filter(date__lt=timezone.localdate()).first() or metrics.first()


def daily_counts(queryset: QuerySet, days: list[dt.date]) -> list[int]:
    """Rows per day, grouped by the database; days without rows are 0."""
    per_day = dict(
        queryset.annotate(day=TruncDate("occurred_at"))
        .values("day")
        .annotate(count=Count("pk"))
        .values_list("day", "count")
    )
    return [per_day.get(day, 0) for day in days]


def assets_with_latest_price(queryset: QuerySet[Asset]) -> QuerySet[Asset]:
    """`queryset` annotated with its latest price (`latest_price_usd`, `latest_price_day`,
    `latest_price_fetched_at`; None when it has none), in the one SELECT. Staleness:
    `trace.models.price_is_stale`."""
    latest = AssetPrice.objects.filter(asset=OuterRef("pk")).order_by("-day")
    return queryset.annotate(
        latest_price_usd=Subquery(latest.values("price_usd")[:1]),
        latest_price_day=Subquery(latest.values("day")[:1]),
        latest_price_fetched_at=Subquery(latest.values("fetched_at")[:1]),
    )
