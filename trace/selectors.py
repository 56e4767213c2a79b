"""TRACE reads: campaign statistics computed in the database (one query for a whole list),
projects with their latest metrics, daily series for the pages."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django.conf import settings
from django.db import connection as db_connection
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    DecimalField,
    Exists,
    Expression,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    TextChoices,
)
from django.db.models.expressions import CombinedExpression
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone

from fabrknt.chain.evm import is_evm_chain
from trace.models import (
    MONEY_SUM_MAX_DIGITS,
    NATIVE_ASSET,
    NO_PREVIOUS_DATE,
    ActivityMetric,
    Asset,
    AssetPrice,
    Backfill,
    BreakdownDimension,
    Campaign,
    CampaignDay,
    CampaignDayBreakdown,
    CampaignDayContract,
    CampaignDayWalletGap,
    CampaignStatus,
    CampaignWallet,
    ContractInteraction,
    InteractionSource,
    LinkProof,
    Project,
    WalletLink,
)
from trace.services.clicks.stream import counter_keys, stream_client
from trace.services.contract_control import project_verified_contracts
from trace.services.rollups import UTM_DIMENSIONS

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

ZERO = Decimal("0.00")
# Exact for every sum the database can hold (see MONEY_SUM_MAX_DIGITS) and ratios of them;
# Python's default context keeps 28 digits and would round or raise beyond.
MONEY_CONTEXT = decimal.Context(prec=2 * MONEY_SUM_MAX_DIGITS)
RATIO_PLACES = Decimal("0.000001")


@dataclass(frozen=True)
class CampaignStats:
    clicks: int  # people's clicks; bot traffic is not a click
    unique_clicks: int  # distinct visitor hashes (per day's salt)
    conversions: int  # conversions this campaign has credit in
    converted_wallets: int
    conversion_value_usd: Decimal  # the campaign's credited share of their value
    # The part of conversion_value_usd credited through clicks whose link to the
    # converting wallet is proven (signed by the wallet).
    proven_value_usd: Decimal

    @property
    def proven_conversion_share(self) -> Decimal | None:
        return proven_share(proven=self.proven_value_usd, total=self.conversion_value_usd)


def proven_share(*, proven: Decimal, total: Decimal) -> Decimal | None:
    """proven / total, rounded half-even to 6 places; None when there is no value."""
    if not total:
        return None
    return MONEY_CONTEXT.divide(proven, total).quantize(RATIO_PLACES, context=MONEY_CONTEXT)


class _MoneySum(Sum):
    """SUM as an aggregate (for `.aggregate()`), as wide as any sum of money columns."""

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, tuple[Any, ...]]:
        return _sqlite_total(self, compiler, connection, **extra_context)


def _sqlite_total(
    expression: Func,
    compiler: SQLCompiler,
    connection: BaseDatabaseWrapper,
    **extra_context: Any,
) -> tuple[str, tuple[Any, ...]]:
    # SQLite (the embedded default) stores whole amounts as integers, and its SUM() of
    # integers fails on overflow; TOTAL() sums in floating point (SQLite keeps 15 digits
    # of a decimal anyway), so a large sum is approximate there instead of an error.
    sql, params = expression.as_sql(compiler, connection, function="TOTAL", **extra_context)
    return sql, tuple(params)


# A bound on a rollup's rows: (field, SQL comparison, day).
Bound = tuple[str, str, dt.date]
_COMPARISONS = {"<", "<=", ">", ">=", "<>"}


class _RollupSum(Expression):
    """The sum of one column of a campaign rollup over the outer campaign's rows within
    `bounds` (0 when none): COALESCE((SELECT SUM(column) FROM rollup WHERE campaign_id =
    <the outer campaign> AND <bounds>), 0), a correlated subquery with no GROUP BY, so
    exactly one row.

    Written out rather than built from a queryset: Django builds, resolves and compiles a
    queryset subquery anew on every request (about 0.2 ms of CPU each, six on a campaign
    read: more than the rest of the request), while this text depends only on the rollup,
    the column and which bounds are given. The outer campaign is an expression (`pk`
    resolved in the outer query), so aliases stay Django's to relabel."""

    def __init__(
        self,
        model: type[models.Model],
        column: str,
        bounds: Sequence[Bound] = (),
        *,
        output_field: models.Field[Any, Any],
    ) -> None:
        if any(comparison not in _COMPARISONS for _, comparison, _ in bounds):
            raise ValueError(f"comparisons are among {sorted(_COMPARISONS)}")
        super().__init__(output_field=output_field)
        self.campaign: Any = F("pk")
        self.model, self.column, self.bounds = model, column, tuple(bounds)

    def get_source_expressions(self) -> list[Any]:
        return [self.campaign]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.campaign,) = exprs

    def get_group_by_cols(self) -> list[Any]:
        return list(self.campaign.get_group_by_cols())

    def as_sql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, tuple[Any, ...]]:
        campaign_sql, campaign_params = compiler.compile(self.campaign)
        quote, meta = connection.ops.quote_name, self.model._meta
        table = quote(meta.db_table)

        def column(name: str) -> str:
            field = cast("models.Field[Any, Any]", meta.get_field(name))
            return f"{table}.{quote(str(field.column))}"

        conditions = [f"{column('campaign')} = {campaign_sql}"]
        params: list[Any] = [*campaign_params]
        for name, comparison, day in self.bounds:
            conditions.append(f"{column(name)} {comparison} %s")
            params.append(connection.ops.adapt_datefield_value(day))
        money = isinstance(self.output_field, models.DecimalField)
        # SQLite: TOTAL, as _sqlite_total says.
        function = "TOTAL" if money and connection.vendor == "sqlite" else "SUM"
        sql = (
            f"COALESCE((SELECT {function}({column(self.column)}) FROM {table} "  # noqa: S608
            f"WHERE {' AND '.join(conditions)}), 0)"  # (quoted names and fixed comparisons)
        )
        return sql, tuple(params)


_COUNT = models.BigIntegerField()
_MONEY = models.DecimalField(max_digits=MONEY_SUM_MAX_DIGITS, decimal_places=2)


class StatsAnnotations(TypedDict):
    click_count: int
    unique_click_count: int
    conversion_count: int
    converted_wallet_count: int
    conversion_value_usd: Decimal
    proven_value_usd: Decimal


def _day_bounds(start: dt.datetime | None, end: dt.datetime | None) -> list[Bound]:
    """The bounds of rollup rows of the UTC days in [start, end) (UTC midnights), either
    end open."""
    bounds: list[Bound] = []
    if start is not None:
        bounds.append(("date", ">=", start.astimezone(dt.UTC).date()))
    if end is not None:
        bounds.append(("date", "<", end.astimezone(dt.UTC).date()))
    return bounds


def _days_in(
    queryset: QuerySet[Any], start: dt.datetime | None, end: dt.datetime | None
) -> QuerySet[Any]:
    """Rollup rows of the UTC days in [start, end) (UTC midnights), either end open."""
    if start is not None:
        queryset = queryset.filter(date__gte=start.astimezone(dt.UTC).date())
    if end is not None:
        queryset = queryset.filter(date__lt=end.astimezone(dt.UTC).date())
    return queryset


def campaigns_with_stats(
    queryset: QuerySet[Campaign],
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> QuerySet[WithAnnotations[Campaign, StatsAnnotations]]:
    """`queryset` annotated with click_count, unique_click_count, conversion_count,
    converted_wallet_count, conversion_value_usd and proven_value_usd, all in the one
    SELECT; of the UTC days in [start, end) when given (UTC midnights).

    Read from the campaigns' daily rollups (trace.services.rollups), so a campaign costs
    one row a day asked for, whatever its traffic; converted wallets: see
    `_converted_wallets`."""
    days = _day_bounds(start, end)

    def total(column: str, output_field: models.Field[Any, Any] = _COUNT) -> _RollupSum:
        return _RollupSum(CampaignDay, column, days, output_field=output_field)

    return queryset.annotate(
        click_count=total("clicks"),
        # Visitor hashes are salted per day, so distinct hashes are the sum of daily uniques.
        unique_click_count=total("unique_visitors"),
        conversion_count=total("conversions"),
        converted_wallet_count=_converted_wallets(start, end),
        conversion_value_usd=total("conversion_value_usd", _MONEY),
        proven_value_usd=total("proven_value_usd", _MONEY),
    )


def _converted_wallets(start: dt.datetime | None, end: dt.datetime | None) -> _RollupSum:
    """The distinct wallets with conversions credited to the outer campaign on the UTC
    days of [start, end), exactly: a wallet's first day of the range is the one whose
    previous day with the campaign is before the range (or none), so they are the
    wallets of the range's days counted by CampaignDayWalletGap whose previous date is
    before its first day. One row per day and previous day, whatever the wallets: all
    time, one a day (the days that are a wallet's first)."""
    first = NO_PREVIOUS_DATE + dt.timedelta(days=1)
    if start is not None:
        first = start.astimezone(dt.UTC).date()
    bounds = [("previous_date", "<", first), *_day_bounds(start, end)]
    return _RollupSum(CampaignDayWalletGap, "wallets", bounds, output_field=_COUNT)


def project_proven_conversion_share(
    *,
    project_id: uuid.UUID,
    start: dt.datetime,
    end: dt.datetime,
    contract_addresses: list[str] | None = None,
) -> Decimal | None:
    """The share of the value of the project's campaigns' conversions in [start, end)
    (on `contract_addresses` only, when given) credited through clicks whose link to the
    converting wallet is proven; None when they have no value.

    From the campaigns' daily rollups (start and end are UTC midnights): their days, or,
    with `contract_addresses`, their days' value per contract (CampaignDayContract)."""
    rows: QuerySet[Any] = CampaignDay.objects.filter(campaign__project_id=project_id)
    if contract_addresses is not None:
        # Providers spell EVM addresses in either case; base58 has one spelling.
        spellings = {a for address in contract_addresses for a in (address, address.lower())}
        rows = CampaignDayContract.objects.filter(
            campaign__project_id=project_id, contract_address__in=sorted(spellings)
        )
    sums = _days_in(rows, start, end).aggregate(
        total=_sum_of("conversion_value_usd"), proven=_sum_of("proven_value_usd")
    )
    return proven_share(proven=sums["proven"], total=sums["total"])


def _sum_of(field: str | Func, **kwargs: Any) -> Sum:
    return _MoneySum(
        field,
        default=ZERO,
        output_field=DecimalField(max_digits=MONEY_SUM_MAX_DIGITS, decimal_places=2),
        **kwargs,
    )


def campaign_stats(
    *, campaign: Campaign, start: dt.datetime | None = None, end: dt.datetime | None = None
) -> CampaignStats:
    row = (
        campaigns_with_stats(Campaign.objects.filter(pk=campaign.pk), start=start, end=end)
        .values(
            "click_count",
            "unique_click_count",
            "conversion_count",
            "converted_wallet_count",
            "conversion_value_usd",
            "proven_value_usd",
        )
        .get()
    )
    return stats_from_annotations(row)


def stats_from_annotations(row: Mapping[str, Any] | Campaign) -> CampaignStats:
    """CampaignStats from a `campaigns_with_stats` row (a dict or an annotated Campaign)."""
    get: Callable[[str], Any] = (
        row.get if isinstance(row, dict) else lambda name: getattr(row, name)
    )
    return CampaignStats(
        clicks=get("click_count"),
        unique_clicks=get("unique_click_count"),
        conversions=get("conversion_count"),
        converted_wallets=get("converted_wallet_count"),
        conversion_value_usd=_cents(get("conversion_value_usd")),
        proven_value_usd=_cents(get("proven_value_usd")),
    )


def _cents(value: Decimal | float | int) -> Decimal:
    return Decimal(value).quantize(ZERO, context=MONEY_CONTEXT)


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


class LatestMetricAnnotations(TypedDict):
    campaign_count: int
    # Whether any on-chain activity of the project is stored: without it, computed
    # metrics are zeros that measured nothing.
    has_activity: bool
    latest_metric_id: int | None
    latest: ActivityMetric | None


class _OfProject(Expression):
    """A correlated subquery keyed by the outer project, written out as _RollupSum is (the
    dashboard's project list: a COUNT over a join with its GROUP BY, an EXISTS and two
    subqueries built as querysets cost 2–3 ms of CPU a dashboard to build and compile).
    `template` names the outer project `{project}`; its `%s` take `params`."""

    def __init__(
        self, template: str, params: Sequence[Any] = (), *, output_field: models.Field[Any, Any]
    ) -> None:
        super().__init__(output_field=output_field)
        self.project: Any = F("pk")
        self.template, self.params = template, tuple(params)

    def get_source_expressions(self) -> list[Any]:
        return [self.project]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.project,) = exprs

    def get_group_by_cols(self) -> list[Any]:
        return list(self.project.get_group_by_cols())

    def as_sql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, tuple[Any, ...]]:
        project_sql, project_params = compiler.compile(self.project)
        if project_params:  # a plain column: the params below are the template's alone
            raise ValueError("the outer project must be a column")
        return self.template.format(project=project_sql), self.params


def _quote(name: str) -> str:
    return str(db_connection.ops.quote_name(name))


def _of_project(model: type[models.Model]) -> str:
    """`<table> WHERE <table>.project_id = {project}` for _OfProject's templates."""
    meta = model._meta
    table = _quote(meta.db_table)
    column = _quote(str(cast("models.Field[Any, Any]", meta.get_field("project")).column))
    return f"{table} WHERE {table}.{column} = {{project}}"


def projects_with_latest_metric(
    queryset: QuerySet[Project],
) -> list[WithAnnotations[Project, LatestMetricAnnotations]]:
    """Projects with `.latest` (their last complete day's metrics, see below) and
    `.has_activity`: two queries."""
    metrics = _of_project(ActivityMetric)
    date = _quote(str(ActivityMetric._meta.get_field("date").column))
    pk = _quote(str(ActivityMetric._meta.pk.column))
    latest = f"SELECT {pk} FROM {metrics}"  # noqa: S608  (quoted names only)
    newest = f"ORDER BY {date} DESC LIMIT 1"
    today = timezone.localdate()
    # The query annotates the first two; `.latest` is set below.
    projects = cast(
        "list[WithAnnotations[Project, LatestMetricAnnotations]]",
        list(
            queryset.select_related("organization")
            .annotate(
                campaign_count=_OfProject(
                    f"(SELECT COUNT(*) FROM {_of_project(Campaign)})",  # noqa: S608
                    output_field=models.IntegerField(),
                ),
                has_activity=_OfProject(
                    f"EXISTS(SELECT 1 FROM {_of_project(ContractInteraction)})",  # noqa: S608
                    output_field=models.BooleanField(),
                ),
                # The last complete day's, or today's when there is none before it.
                latest_metric_id=_OfProject(
                    f"COALESCE(({latest} AND {date} < %s {newest}), ({latest} {newest}))",
                    [today],
                    output_field=models.BigIntegerField(),
                ),
            )
            .order_by("name")
        ),
    )
    latest_rows = ActivityMetric.objects.in_bulk([p.latest_metric_id for p in projects])
    for project in projects:
        project.latest = latest_rows.get(project.latest_metric_id)
    return projects


def project_latest_complete_metric(
    project: Project, *, until: dt.date | None = None
) -> ActivityMetric | None:
    """The last finished day's metrics (today's are partial: DAU near 0 at midnight);
    today's only when there is nothing before it. Up to `until` (included) when given."""
    metrics = ActivityMetric.objects.filter(project=project).order_by("-date")
    if until is not None:
        metrics = metrics.filter(date__lte=until)
    return metrics.filter(date__lt=timezone.localdate()).first() or metrics.first()


def campaign_daily(*, campaign: Campaign, days: list[dt.date]) -> dict[str, list[int]]:
    """The campaign's human clicks and credited conversions of each day (0 when none),
    from its rollup: one row a day."""
    rows: dict[dt.date, Mapping[str, Any]] = {}
    if days:
        in_range = CampaignDay.objects.filter(
            campaign=campaign, date__gte=min(days), date__lte=max(days)
        )
        rows = {row["date"]: row for row in in_range.values("date", "clicks", "conversions")}
    return {
        name: [rows[day][name] if day in rows else 0 for day in days]
        for name in ("clicks", "conversions")
    }


class LatestPriceAnnotations(TypedDict):
    latest_price_usd: Decimal | None
    latest_price_day: dt.date | None
    latest_price_fetched_at: dt.datetime | None


def assets_with_latest_price(
    queryset: QuerySet[Asset],
) -> QuerySet[WithAnnotations[Asset, LatestPriceAnnotations]]:
    """`queryset` annotated with its latest price (`latest_price_usd`, `latest_price_day`,
    `latest_price_fetched_at`; None when it has none), in the one SELECT. Staleness:
    `trace.models.price_is_stale`."""
    latest = AssetPrice.objects.filter(asset=OuterRef("pk")).order_by("-day")
    return queryset.annotate(
        latest_price_usd=Subquery(latest.values("price_usd")[:1]),
        latest_price_day=Subquery(latest.values("day")[:1]),
        latest_price_fetched_at=Subquery(latest.values("fetched_at")[:1]),
    )


class IndexerState(TextChoices):
    NOT_CONFIGURED = "not_configured", "indexer not configured"
    WAITING = "waiting", "waiting for the first block"
    INDEXED = "indexed", "indexed"
    WEBHOOKS_ONLY = "webhooks_only", "no chain indexer for this chain: webhooks only"


@dataclass(frozen=True)
class IngestState:
    """How a project's on-chain data is coming in, for its page to say in words."""

    indexer: IndexerState
    last_indexed_block: int | None
    last_indexed_at: dt.datetime | None
    webhook_source: str | None  # the provider's label
    webhook_received_at: dt.datetime | None


WEBHOOK_SOURCES = (InteractionSource.ALCHEMY, InteractionSource.HELIUS)


def project_ingest_state(*, project: Project) -> IngestState:
    """The indexer's progress (EVM chains with an RPC in CHAIN_RPC_URLS) and the latest
    interaction a provider's webhook delivered."""
    if not is_evm_chain(project.chain):
        indexer = IndexerState.WEBHOOKS_ONLY
    elif not settings.CHAIN_RPC_URLS.get(project.chain):
        indexer = IndexerState.NOT_CONFIGURED
    elif project.last_indexed_block is None:
        indexer = IndexerState.WAITING
    else:
        indexer = IndexerState.INDEXED
    latest = (
        ContractInteraction.objects.filter(project=project, source__in=WEBHOOK_SOURCES)
        .order_by("-created_at")
        .values("source", "created_at")
        .first()
    )
    return IngestState(
        indexer=indexer,
        last_indexed_block=project.last_indexed_block,
        last_indexed_at=project.last_indexed_at,
        webhook_source=InteractionSource(latest["source"]).label if latest else None,
        webhook_received_at=latest["created_at"] if latest else None,
    )


RECENT_INTERACTIONS = 10


def project_recent_interactions(*, project: Project) -> list[ContractInteraction]:
    """The newest interactions stored for the project (its page's "latest transactions");
    empty when nothing has come in yet."""
    newest = ContractInteraction.objects.filter(project=project).order_by("-occurred_at", "-id")
    return list(
        newest.only(
            "chain", "transaction_hash", "wallet_address", "event_type", "occurred_at", "source"
        )[:RECENT_INTERACTIONS]
    )


def project_latest_backfill(project: Project) -> Backfill | None:
    """The project's most recent backfill (running, done or failed), for its page."""
    return Backfill.objects.filter(project=project).order_by("-started_at", "-id").first()


# --- one campaign: lists, breakdowns, click quality, converted wallets ------------------


def organization_projects(*, organization_id: uuid.UUID) -> QuerySet[Project]:
    """An organization's live projects, by name (FABRIC links a listing to one of them)."""
    return Project.objects.live().filter(organization_id=organization_id).order_by("name", "pk")


def campaigns_listed(
    queryset: QuerySet[Campaign], *, status: str | None = None
) -> QuerySet[Campaign]:
    """The campaigns a list shows: those with `status`, or all but archived ones."""
    if status:
        return queryset.filter(status=status)
    return queryset.exclude(status=CampaignStatus.ARCHIVED)


@dataclass(frozen=True)
class BreakdownRow:
    label: str  # "" for visits without one (direct, untagged)
    clicks: int  # human clicks


# The UTM parameters a breakdown shows, in this order.
UTM_KEYS: tuple[str, ...] = tuple(UTM_DIMENSIONS)


@dataclass(frozen=True)
class BotReasonRow:
    reason: str
    clicks: int


@dataclass(frozen=True)
class ClickQuality:
    human: int
    bots: int
    bot_reasons: list[BotReasonRow]  # most first
    during_pause: int  # clicks (human or not) that came while the campaign was paused


@dataclass(frozen=True)
class ClickSources:
    """Where a campaign's clicks came from, as its page shows them."""

    referrers: list[BreakdownRow]  # by referring host, most first
    utm: dict[str, list[BreakdownRow]]  # per UTM parameter of UTM_KEYS carried, most first
    quality: ClickQuality


def _day_range(start: dt.datetime | None, end: dt.datetime | None) -> list[Bound]:
    """_day_bounds for a page's range of whole UTC days: an end within a day includes
    that day."""
    if end is not None and end.astimezone(dt.UTC).time() != dt.time.min:
        end = dt.datetime.combine(end.astimezone(dt.UTC).date(), dt.time.min, dt.UTC)
        end += dt.timedelta(days=1)
    return _day_bounds(start, end)


_NO_LIMIT = 2**62


def _click_sources_sql(bounds: Sequence[Bound]) -> str:
    """campaign_click_sources' statement for these bounds (the SQL depends only on which
    bounds are given): the breakdowns' (dimension, value) sums over the days, ranked
    within their dimension (most clicks first, then by value) and cut to the dimension's
    limit, then one row with the days' human and bot totals (dimension ''), ordered by
    dimension and rank. Written out: one statement where querysets took four, with no
    queryset to build and compile per request."""
    quote = db_connection.ops.quote_name

    def where(model: type[models.Model]) -> str:
        meta = model._meta
        table = quote(meta.db_table)
        conditions = [f"{table}.{quote('campaign_id')} = %s"]
        conditions += [f"{table}.{quote('date')} {comparison} %s" for _, comparison, _ in bounds]
        return f"{table} WHERE {' AND '.join(conditions)}"

    dimension, value, clicks = quote("dimension"), quote("value"), quote("clicks")
    total = f"SUM({clicks})"
    dimensions = ", ".join(["%s"] * len(BreakdownDimension.values))
    return (
        f"SELECT {dimension}, {value}, total, 0 AS bots, place FROM ("  # noqa: S608
        f"SELECT {dimension}, {value}, {total} AS total, ROW_NUMBER() OVER ("
        f"PARTITION BY {dimension} ORDER BY {total} DESC, {value}) AS place "
        f"FROM {where(CampaignDayBreakdown)} AND {dimension} IN ({dimensions}) "
        f"GROUP BY {dimension}, {value} HAVING {total} > 0) AS ranked "
        f"WHERE place <= CASE WHEN {dimension} = %s THEN %s "
        f"WHEN {dimension} IN ({', '.join(['%s'] * len(UTM_KEYS))}) THEN %s ELSE %s END "
        f"UNION ALL SELECT '', '', COALESCE({total}, 0), "
        f"COALESCE(SUM({quote('bot_clicks')}), 0), 0 FROM {where(CampaignDay)} "
        "ORDER BY 1, 5"
    )  # (quoted names and fixed comparisons only: every value is a parameter)


def campaign_click_sources(
    *,
    campaign: Campaign,
    referrer_limit: int | None = 10,
    utm_limit: int | None = 5,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> ClickSources:
    """The campaign's human clicks in [start, end) by referring host (top
    `referrer_limit`) and by each UTM parameter's values (top `utm_limit` per parameter),
    human against bot clicks, bots by reason, and clicks during a pause: one statement
    over the daily rollups and their breakdowns, one row a day and value, whatever the
    traffic."""
    bounds = _day_range(start, end)
    campaign_id = Campaign._meta.pk.get_db_prep_value(campaign.pk, db_connection)
    days = [db_connection.ops.adapt_datefield_value(day) for _, _, day in bounds]
    params = [
        campaign_id,
        *days,
        *BreakdownDimension.values,
        BreakdownDimension.REFERRER,
        _NO_LIMIT if referrer_limit is None else referrer_limit,
        *UTM_KEYS,
        _NO_LIMIT if utm_limit is None else utm_limit,
        _NO_LIMIT,
        campaign_id,
        *days,
    ]
    with db_connection.cursor() as cursor:
        cursor.execute(_click_sources_sql(bounds), params)
        rows = cursor.fetchall()
    referrers: list[BreakdownRow] = []
    utm: dict[str, list[BreakdownRow]] = {}
    reasons: list[BotReasonRow] = []
    human = bots = during_pause = 0
    for dimension, value, clicks, bot_clicks, _ in rows:
        if dimension == "":
            human, bots = int(clicks), int(bot_clicks)
        elif dimension == BreakdownDimension.REFERRER:
            referrers.append(BreakdownRow(value, int(clicks)))
        elif dimension == BreakdownDimension.BOT_REASON:
            reasons.append(BotReasonRow(value or "unspecified", int(clicks)))
        elif dimension == BreakdownDimension.PAUSED:
            during_pause = int(clicks)
        else:
            utm.setdefault(dimension, []).append(BreakdownRow(value, int(clicks)))
    return ClickSources(
        referrers=referrers,
        utm={key: utm[key] for key in UTM_KEYS if key in utm},
        quality=ClickQuality(human, bots, reasons, during_pause),
    )


def campaign_referrer_breakdown(
    *,
    campaign: Campaign,
    limit: int = 10,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> list[BreakdownRow]:
    """campaign_click_sources' referrers alone."""
    return campaign_click_sources(
        campaign=campaign, referrer_limit=limit, start=start, end=end
    ).referrers


def campaign_utm_breakdown(
    *,
    campaign: Campaign,
    limit: int = 5,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> dict[str, list[BreakdownRow]]:
    """campaign_click_sources' UTM breakdown alone."""
    return campaign_click_sources(campaign=campaign, utm_limit=limit, start=start, end=end).utm


def campaign_click_quality(
    *, campaign: Campaign, start: dt.datetime | None = None, end: dt.datetime | None = None
) -> ClickQuality:
    """campaign_click_sources' human against bot clicks alone."""
    return campaign_click_sources(campaign=campaign, start=start, end=end).quality


def converted_wallets_listed(
    start: dt.datetime | None, end: dt.datetime | None
) -> CombinedExpression:
    """How many wallets `campaign_converted_wallets` lists for the outer campaign (its
    pager's total), without counting them: the wallet-days of the range's days
    (CampaignDay.converted_wallets) less those followed by a later day of the same wallet
    (CampaignDayWalletGap rows whose previous date is in the range), one row per day (and
    previous day). An expression, so a page annotates it on the campaign it reads."""
    followed: list[Bound] = []
    if start is not None:
        first = start.astimezone(dt.UTC).date()
        followed += [("date", ">", first), ("previous_date", ">=", first)]
    else:
        followed.append(("previous_date", "<>", NO_PREVIOUS_DATE))
    if end is not None:
        followed.append(("previous_date", "<", end.astimezone(dt.UTC).date()))
    wallet_days = _RollupSum(
        CampaignDay, "converted_wallets", _day_bounds(start, end), output_field=_COUNT
    )
    return wallet_days - _RollupSum(CampaignDayWalletGap, "wallets", followed, output_field=_COUNT)


def campaign_converted_wallet_count(
    *, campaign: Campaign, start: dt.datetime | None = None, end: dt.datetime | None = None
) -> int:
    """`converted_wallets_listed` of one campaign."""
    row = (
        Campaign.objects.filter(pk=campaign.pk)
        .values(count=converted_wallets_listed(start, end))
        .get()
    )
    return int(row["count"])


class ConvertedWalletAnnotations(TypedDict):
    wallet_address: str
    conversions: int
    value_usd: Decimal
    last_converted_at: dt.datetime
    proven: bool


@dataclass(frozen=True)
class WalletCursor:
    """Where a page of `campaign_converted_wallets` starts: after this row."""

    last_converted_at: dt.datetime
    wallet_address: str

    def __str__(self) -> str:
        return f"{self.last_converted_at.isoformat()}~{self.wallet_address}"

    @classmethod
    def parse(cls, text: str | None) -> WalletCursor | None:
        """The cursor written by str(); None for anything else."""
        moment, _, wallet = (text or "").partition("~")
        try:
            at = dt.datetime.fromisoformat(moment)
        except ValueError:
            return None
        if at.tzinfo is None or not wallet or len(wallet) > 64:
            return None
        return cls(at, wallet)


def campaign_converted_wallets(
    *,
    campaign: Campaign,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    after: WalletCursor | None = None,
) -> QuerySet[CampaignWallet, ConvertedWalletAnnotations]:
    """The wallets with conversions credited to the campaign whose last conversion is in
    [start, end) (when the range ends today: the wallets that converted in it), latest
    first, from `after` on: their conversions, credited value and last conversion, all
    time (CampaignWallet), and whether one of their links to the campaign's clicks is
    proven (signed by the wallet). Meant to be sliced: the index on (campaign, last
    conversion, wallet) serves a page by seeking, whatever the wallets before it, and
    `proven` is looked up for the page's rows only."""
    rows = CampaignWallet.objects.filter(campaign=campaign)
    if start is not None:
        rows = rows.filter(last_converted_at__gte=start)
    if end is not None:
        rows = rows.filter(last_converted_at__lt=end)
    if after is not None:
        rows = rows.filter(
            Q(last_converted_at__lt=after.last_converted_at)
            | Q(
                last_converted_at=after.last_converted_at,
                wallet_address__gt=after.wallet_address,
            )
        )
    proven = WalletLink.objects.filter(
        campaign=campaign, wallet_address=OuterRef("wallet_address"), proof=LinkProof.PROVEN
    )
    return cast(
        "QuerySet[CampaignWallet, ConvertedWalletAnnotations]",
        rows.annotate(proven=Exists(proven))
        .values("wallet_address", "conversions", "value_usd", "last_converted_at", "proven")
        .order_by("-last_converted_at", "wallet_address"),
    )


# --- for other products (FABRIC's proof of funds and revenue verifier) -----------------


def registry_tokens(*, chain: str) -> QuerySet[Asset]:
    """The enabled fungible tokens (not the native coin) the asset registry lists on a
    chain: what a wallet's balances are read for when nobody named the tokens."""
    return Asset.objects.filter(chain=chain, enabled=True).exclude(address=NATIVE_ASSET)


def _addresses_q(field: str, chain: str, addresses: Sequence[str]) -> Q:
    """`field` equal to one of `addresses`: case-insensitive for EVM hex, exact for base58."""
    q = Q(pk__in=[])
    for address in addresses:
        lookup = f"{field}__iexact" if is_evm_chain(chain) else field
        q |= Q(**{lookup: address})
    return q


def project_treasury_inflows(
    *,
    project: Project,
    chain: str,
    treasuries: Sequence[str],
    since: dt.datetime,
    until: dt.datetime,
) -> QuerySet[ContractInteraction]:
    """The fungible transfers TRACE stored for `project` that paid one of `treasuries` on
    `chain` in [since, until), in transactions that went through a contract of the project
    whose control is verified (a row of the same transaction names it as its contract or
    recipient; a verified contract that is itself the treasury qualifies). Moves between
    the treasuries are not inflows. Oldest first.

    TRACE stores what touches the addresses a project watches (its contracts and treasury
    addresses): transfers to a treasury reach it through Alchemy's or Helius's address
    activity, and the indexer's rows of transactions that pay a watched contract directly.
    """
    verified = project_verified_contracts(project=project) if chain == project.chain else []
    if not verified or not treasuries:
        return ContractInteraction.objects.none()
    same_transaction = ContractInteraction.objects.filter(
        project=project, chain=chain, transaction_hash=OuterRef("transaction_hash")
    ).filter(
        _addresses_q("contract_address", chain, verified)
        | _addresses_q("to_address", chain, verified)
    )
    return (
        ContractInteraction.objects.filter(
            _addresses_q("to_address", chain, treasuries),
            project=project,
            chain=chain,
            occurred_at__gte=since,
            occurred_at__lt=until,
        )
        .exclude(asset_address="")
        .exclude(_addresses_q("from_address", chain, treasuries))
        .filter(Exists(same_transaction))
        .order_by("occurred_at", "id")
    )
