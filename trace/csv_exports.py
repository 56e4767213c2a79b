"""CSV exports of a date range: a campaign's or a project's clicks and conversions (raw
rows), a project's daily metrics, and the campaigns' daily figures (their rollups: one
row per campaign and day with activity).

Each export is a generator of CSV lines over `values_list(...).iterator(chunk_size=...)`
(a server-side cursor on PostgreSQL), so a page hands it to a StreamingHttpResponse and a
million rows never sit in memory together. Days are UTC days, as the metrics are.

A cell a visitor wrote (referrer, UTM values) that starts like a formula is prefixed with
a quote, so a spreadsheet shows it instead of evaluating it (OWASP's CSV injection advice).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from fabrknt.api.errors import InvalidInput, NotFound
from trace.models import ActivityMetric, Campaign, CampaignDay, Click, Conversion, Project
from trace.services.metrics import EARLIEST_DATE, LATEST_DATE

CHUNK_SIZE = 2000
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ExportRangeError(InvalidInput):
    code = "invalid_range"


@dataclass(frozen=True)
class DateRange:
    first: dt.date
    last: dt.date

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.first, dt.time.min, tzinfo=dt.UTC)

    @property
    def end(self) -> dt.datetime:
        """The first moment after the range (exclusive)."""
        return dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)


def export_range(*, date_from: dt.date, date_to: dt.date) -> DateRange:
    """The days to export, both included: ExportRangeError when they make no range."""
    if date_from > date_to:
        raise ExportRangeError("`from` must not be after `to`.")
    if date_from < EARLIEST_DATE or date_to > LATEST_DATE:
        raise ExportRangeError(f"A range lies between {EARLIEST_DATE} and {LATEST_DATE}.")
    return DateRange(date_from, date_to)


class _Line:
    """csv.writer's file: hands back each written line instead of keeping it."""

    def write(self, line: str) -> str:
        return line


def _safe(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _csv_lines(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([_safe(value) for value in row])


def _occurred_in(rows: QuerySet[Any], days: DateRange, *fields: str) -> Iterator[Any]:
    """`fields` of the rows that occurred in the range, oldest first, read in chunks."""
    return (
        rows.filter(occurred_at__gte=days.start, occurred_at__lt=days.end)
        .order_by("occurred_at", "id")
        .values_list(*fields)
        .iterator(chunk_size=CHUNK_SIZE)
    )


def _timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


CLICK_COLUMNS = [
    "occurred_at",
    "click_id",
    "campaign_id",
    "referrer",
    *UTM_KEYS,
    "is_bot",
    "bot_reason",
]


def clicks_csv(clicks: QuerySet[Click], days: DateRange) -> Iterator[str]:
    """Clicks of the range, oldest first (no IP, visitor hash or user agent)."""
    rows = _occurred_in(
        clicks,
        days,
        "occurred_at",
        "click_id",
        "campaign_id",
        "referrer",
        "utm_params",
        "is_bot",
        "bot_reason",
    )
    return _csv_lines(
        CLICK_COLUMNS,
        (
            [
                _timestamp(occurred_at),
                click_id,
                campaign_id,
                referrer,
                *(_utm(utm, key) for key in UTM_KEYS),
                "true" if is_bot else "false",
                bot_reason,
            ]
            for occurred_at, click_id, campaign_id, referrer, utm, is_bot, bot_reason in rows
        ),
    )


def _utm(params: object, key: str) -> str:
    value = params.get(key, "") if isinstance(params, dict) else ""
    return value if isinstance(value, str) else str(value)


CONVERSION_COLUMNS = [
    "occurred_at",
    "transaction_hash",
    "event_type",
    "wallet_address",
    "value_usd",
    "contract_address",
    "source",
    "campaign_id",
    "click_id",
]


def conversions_csv(conversions: QuerySet[Conversion], days: DateRange) -> Iterator[str]:
    """Conversions of the range, oldest first, with the click they came through (if any)."""
    rows = _occurred_in(
        conversions,
        days,
        "occurred_at",
        "transaction_hash",
        "event_type",
        "wallet_address",
        "value_usd",
        "contract_address",
        "source",
        "campaign_id",
        "click__click_id",
    )
    return _csv_lines(
        CONVERSION_COLUMNS,
        ([_timestamp(row[0]), *row[1:8], row[8] or ""] for row in rows),
    )


METRIC_COLUMNS = [
    "date",
    "dau",
    "wau",
    "mau",
    "transaction_count",
    "transaction_volume_usd",
    "unpriced_transfers",
    "volume_flag_reason",
    "bot_share",
    "activity_score",
    "computed_at",
]


def metrics_csv(metrics: QuerySet[ActivityMetric], days: DateRange) -> Iterator[str]:
    """The stored daily metrics of the range, oldest first: a day never computed has no
    row (rather than a row of zeros that would look measured)."""
    rows = (
        metrics.filter(date__range=(days.first, days.last))
        .order_by("date")
        .values_list(*METRIC_COLUMNS)
        .iterator(chunk_size=CHUNK_SIZE)
    )
    return _csv_lines(
        METRIC_COLUMNS, ([day.isoformat(), *rest[:-1], _timestamp(rest[-1])] for day, *rest in rows)
    )


CAMPAIGN_DAY_COLUMNS = [
    "date",
    "campaign_id",
    "clicks",
    "bot_clicks",
    "unique_visitors",
    "conversions",
    "converted_wallets",
    "conversion_value_usd",
    "proven_value_usd",
]


def campaign_days_csv(days_of: QuerySet[CampaignDay], days: DateRange) -> Iterator[str]:
    """The campaigns' daily rollups of the range, by day then campaign; a day without
    clicks or conversions has no row."""
    rows = (
        days_of.filter(date__range=(days.first, days.last))
        .exclude(clicks=0, bot_clicks=0, conversions=0)
        .order_by("date", "campaign_id")
        .values_list(*CAMPAIGN_DAY_COLUMNS)
        .iterator(chunk_size=CHUNK_SIZE)
    )
    return _csv_lines(CAMPAIGN_DAY_COLUMNS, ([day.isoformat(), *rest] for day, *rest in rows))


# The exports of each object: {name: (label, what it holds)}, in the order offered.
PROJECT_DATASETS = {
    "metrics": ("Daily metrics", "one row per computed day: active wallets, volume, score"),
    "clicks": ("Clicks", "every click of the project's campaigns, bots flagged"),
    "conversions": ("Conversions", "every conversion of the project's campaigns"),
    "campaign_days": (
        "Campaigns by day",
        "one row per campaign and day: clicks, visitors, conversions, value",
    ),
}
CAMPAIGN_DATASETS = {
    "clicks": ("Clicks", "every click of the campaign, bots flagged"),
    "conversions": ("Conversions", "every conversion credited to the campaign"),
    "days": ("By day", "one row per day: clicks, visitors, conversions, value"),
}


def project_csv(*, project: Project, dataset: str, days: DateRange) -> Iterator[str]:
    if dataset == "metrics":
        return metrics_csv(ActivityMetric.objects.filter(project=project), days)
    if dataset == "clicks":
        return clicks_csv(Click.objects.filter(campaign__project=project), days)
    if dataset == "conversions":
        return conversions_csv(Conversion.objects.filter(campaign__project=project), days)
    if dataset == "campaign_days":
        return campaign_days_csv(CampaignDay.objects.filter(campaign__project=project), days)
    raise NotFound()


def campaign_csv(*, campaign: Campaign, dataset: str, days: DateRange) -> Iterator[str]:
    if dataset == "clicks":
        return clicks_csv(Click.objects.filter(campaign=campaign), days)
    if dataset == "conversions":
        return conversions_csv(Conversion.objects.filter(campaign=campaign), days)
    if dataset == "days":
        return campaign_days_csv(CampaignDay.objects.filter(campaign=campaign), days)
    raise NotFound()
