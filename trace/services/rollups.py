"""Campaign rollups (CampaignDay): one row per campaign and UTC day, exact at every commit.

The rules, in one place:

- clicks, bot_clicks: the day's clicks (people's, bots'), deleted ones included
  (`retained_*`); unique_visitors: distinct visitor hashes of the day's human clicks.
  The flush adds a batch's clicks in the statement that inserts them: the visitor hashes
  go into CampaignDayVisitor ON CONFLICT DO NOTHING, and what that inserted are the new
  visitors; the counters are incremented with INSERT ... ON CONFLICT DO UPDATE. A
  concurrent flush of the same visitor waits on the unique index and then skips it, so
  concurrent flushes count exactly.
- conversions, converted_wallets, conversion_value_usd, proven_value_usd: the conversions
  credited to the campaign that day (through their credit rows, or wholly to their own
  campaign when they have none), their distinct wallets (CampaignDayWallet), the credited
  value, and the part of it credited through clicks whose link to the converting wallet is
  proven. A new conversion adds itself (increments; its wallet inserted ON CONFLICT DO
  NOTHING, counted when new); a wallet link made or proven, which changes the proven value
  of conversions already counted, recounts the days it touches from the raw rows. Both
  lock the days' rows first, in (campaign, day) order, so two writers of one day follow
  each other.
- bot marking after the fact recounts the clicks of the days it touched.
- click retention moves the counts of the rows it deletes into `retained_*` (totals do
  not change) and drops the day's visitor hashes.
- breakdowns (CampaignDayBreakdown, the campaign page's): the day's clicks by referring
  host and UTM value (human clicks), by bot reason (bots) and during a pause (all). The
  flush adds them in its statement, after the days' rows; bot marking recounts them for
  the days it touched; retention retains them whole (no click of the day keeps the
  details they count), and a rebuild counts the clicks whose details are kept plus
  `retained_clicks`. Unique visitors per value are not kept (clicks only).
- converted wallets (CampaignDayWallet) carry the wallet's conversions of the day, their
  credited value, its proven part and the last one's moment, kept by the same writes as
  `conversions`, and the wallet's previous day with the campaign (`previous_date`). Every
  write of wallet-days goes through `_wallet_days_write`, which locks the wallets'
  CampaignWallet rows (after the days', in (campaign, wallet) order), reads all their
  days, and keeps in the same transaction: each row's previous date,
  CampaignDayWalletGap (wallets per day and previous day, by increments) and
  CampaignWallet (the wallet's sums, all time).
- contracts (CampaignDayContract): the day's credited value per contract the conversions
  name, and its proven part; kept by the same writes as `conversion_value_usd`.

`rollups_rebuild` recounts whole campaigns from the raw rows plus `retained_*`; a test
holds that it always equals what the writes kept.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Substr, TruncDate

from trace.cache import campaigns_figures_changed
from trace.models import (
    NO_PREVIOUS_DATE,
    BreakdownDimension,
    Campaign,
    CampaignDay,
    CampaignDayBreakdown,
    CampaignDayContract,
    CampaignDayVisitor,
    CampaignDayWallet,
    CampaignDayWalletGap,
    CampaignWallet,
    Click,
    Conversion,
    ConversionCredit,
    LinkProof,
    WalletLink,
)

# (campaign id, UTC day)
Cell = tuple[uuid.UUID, dt.date]
ZERO = Decimal("0.00")
# Visitor hashes are kept to their first 32 hex digits (128 bits): half the index.
VISITOR_DIGITS = 32
CONVERSION_FIELDS = ["conversions", "converted_wallets", "conversion_value_usd", "proven_value_usd"]
CLICK_FIELDS = ["clicks", "bot_clicks", "unique_visitors"]
# Breakdowns: the UTM parameters kept, a value's length, and a referrer's host (lower
# case, after the scheme and any user info; none when the referrer has no scheme).
UTM_DIMENSIONS = (
    BreakdownDimension.UTM_SOURCE,
    BreakdownDimension.UTM_MEDIUM,
    BreakdownDimension.UTM_CAMPAIGN,
    BreakdownDimension.UTM_TERM,
    BreakdownDimension.UTM_CONTENT,
)
VALUE_CHARS = 512
REFERRER_HOST = "^[a-z][a-z0-9+.-]*://(?:[^/?#@]*@)?([^/?#:]+)"


def utc_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(dt.UTC).date()


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def _cells_q(cells: Iterable[Cell], *, date_field: str = "", occurred: str = "occurred_at") -> Q:
    """Rows of these cells: by campaign and `date_field` (a date) when given, else by
    campaign and `occurred` (a moment) within the day."""
    days: dict[uuid.UUID, set[dt.date]] = defaultdict(set)
    for campaign_id, day in cells:
        days[campaign_id].add(day)
    matches = Q()
    for campaign_id, dates in days.items():
        if date_field:
            matches |= Q(**{"campaign_id": campaign_id, f"{date_field}__in": dates})
            continue
        for day in dates:
            matches |= Q(
                **{
                    "campaign_id": campaign_id,
                    f"{occurred}__gte": _midnight(day),
                    f"{occurred}__lt": _midnight(day + dt.timedelta(days=1)),
                }
            )
    return matches


# --- the flush ------------------------------------------------------------------------


def _table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


_ALL_COLUMNS = (
    "campaign_id, date, clicks, bot_clicks, unique_visitors, conversions, converted_wallets, "
    "conversion_value_usd, proven_value_usd, retained_clicks, retained_bot_clicks, "
    "retained_unique_visitors"
)
_ADD_CLICKS = (
    "ON CONFLICT (campaign_id, date) DO UPDATE SET clicks = d.clicks + excluded.clicks, "
    "bot_clicks = d.bot_clicks + excluded.bot_clicks, "
    "unique_visitors = d.unique_visitors + excluded.unique_visitors"
)


def _breakdown_values_sql(source: str, day: str) -> str:
    """One row (campaign_id, dimension, day, value) per breakdown value of each click of
    `source` (a table or CTE with the click's columns and `day`, its UTC day): the
    referring host and the UTM values of human clicks, the reason of bot clicks, and
    clicks during a pause. Constants only: no parameters."""
    postgres = connection.vendor == "postgresql"
    cut = f"substr(%s, 1, {VALUE_CHARS})"
    if postgres:
        host = f"substring(lower(s.referrer) from '{REFERRER_HOST}')"
        unnest = "jsonb_each_text(s.utm_params) AS u(key, value)"
    else:  # SQLite (the embedded default)
        host = _sqlite_host("s.referrer")
        unnest = "json_each(s.utm_params) AS u"
    utm = ", ".join(f"'{key}'" for key in UTM_DIMENSIONS)
    return f"""
        SELECT s.campaign_id, '{BreakdownDimension.REFERRER}' AS dimension, s.{day} AS day,
               {cut % f"coalesce({host}, '')"} AS value
        FROM {source} s WHERE NOT s.is_bot
        UNION ALL
        SELECT s.campaign_id, u.key, s.{day}, {cut % "coalesce(u.value, '')"}
        FROM {source} s, {unnest} WHERE NOT s.is_bot AND u.key IN ({utm})
        UNION ALL
        SELECT s.campaign_id, '{BreakdownDimension.BOT_REASON}', s.{day}, s.bot_reason
        FROM {source} s WHERE s.is_bot
        UNION ALL
        SELECT s.campaign_id, '{BreakdownDimension.PAUSED}', s.{day}, ''
        FROM {source} s WHERE s.during_pause
    """  # noqa: S608 (constants and quoted names only)


def _sqlite_host(column: str) -> str:
    """SQLite has no regular expressions: what follows "://", cut at the first of / ? #,
    after any user info ("…@"), cut at ":"; NULL when empty or without "://"."""
    host = f"substr(lower({column}), instr({column}, '://') + 3)"
    for stop in "/?#@:":
        if stop == "@":
            host = f"substr({host}, instr({host}, '@') + 1)"
            continue
        host = f"substr({host}, 1, instr({host} || '{stop}', '{stop}') - 1)"
    return f"CASE WHEN instr({column}, '://') > 0 THEN nullif({host}, '') END"


def referrer_host(referrer: str) -> str:
    """The breakdown value of a referrer, as the database computes it ("" for none)."""
    if connection.vendor == "postgresql":
        found = re.match(REFERRER_HOST, referrer.lower())
        return found.group(1)[:VALUE_CHARS] if found else ""
    if "://" not in referrer:
        return ""
    host = referrer.lower()[referrer.find("://") + 3 :]
    for stop in "/?#@:":
        host = host.split("@", 1)[-1] if stop == "@" else host.split(stop, 1)[0]
    return host[:VALUE_CHARS]


def clicks_insert_with_rollup_sql(insert_sql: str) -> str:
    """PostgreSQL: the flush's `INSERT INTO click ... ON CONFLICT DO NOTHING` as one
    statement that also adds the rows it inserted to the campaigns' days; it returns one
    row, the number of clicks inserted. Rows go in (campaign, day, visitor) order, so
    concurrent flushes lock them in one order."""
    return f"""
        WITH inserted AS (
            {insert_sql}
            RETURNING campaign_id, occurred_at, is_bot, visitor_hash, referrer, utm_params,
                      bot_reason, during_pause
        ),
        days AS (
            SELECT campaign_id, (occurred_at AT TIME ZONE 'UTC')::date AS day, is_bot,
                   left(visitor_hash, {VISITOR_DIGITS}) AS visitor, referrer, utm_params,
                   bot_reason, during_pause
            FROM inserted
        ),
        visitors AS (
            INSERT INTO {_table(CampaignDayVisitor)} (campaign_id, date, visitor)
            SELECT DISTINCT campaign_id, day, visitor FROM days
            WHERE NOT is_bot AND visitor <> '' ORDER BY 1, 2, 3
            ON CONFLICT DO NOTHING
            RETURNING campaign_id, date
        ),
        fresh AS (SELECT campaign_id, date, count(*) AS visitors FROM visitors GROUP BY 1, 2),
        counts AS (
            SELECT campaign_id, day, count(*) FILTER (WHERE NOT is_bot) AS clicks,
                   count(*) FILTER (WHERE is_bot) AS bot_clicks
            FROM days GROUP BY 1, 2
        ),
        rolled AS (
            INSERT INTO {_table(CampaignDay)} AS d ({_ALL_COLUMNS})
            SELECT c.campaign_id, c.day, c.clicks, c.bot_clicks, coalesce(f.visitors, 0),
                   0, 0, 0, 0, 0, 0, 0
            FROM counts c LEFT JOIN fresh f ON f.campaign_id = c.campaign_id AND f.date = c.day
            ORDER BY 1, 2
            {_ADD_CLICKS}
            RETURNING 1
        ),
        breakdown AS (
            INSERT INTO {_table(CampaignDayBreakdown)} AS b
                (campaign_id, dimension, date, value, clicks, retained_clicks)
            SELECT campaign_id, dimension, day, value, count(*), 0
            FROM ({_breakdown_values_sql("days", "day")}) v
            -- after the days' rows (locked first, as every writer of a day locks them)
            WHERE (SELECT count(*) FROM rolled) >= 0
            GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
            ON CONFLICT (campaign_id, dimension, date, value)
            DO UPDATE SET clicks = b.clicks + excluded.clicks
            RETURNING 1
        )
        SELECT count(*) FROM inserted
    """  # noqa: S608 (only quoted table names and the caller's statement are interpolated)


@dataclass(frozen=True)
class InsertedClick:
    campaign_id: uuid.UUID | str
    occurred_at: dt.datetime
    is_bot: bool
    visitor_hash: str
    referrer: str = ""
    utm_params: dict[str, Any] = field(default_factory=dict)
    bot_reason: str = ""
    during_pause: bool = False

    def breakdown_values(self) -> list[tuple[str, str]]:
        """(dimension, value) of each breakdown row the click counts in (see
        `_breakdown_values_sql`)."""
        values: list[tuple[str, str]] = []
        if self.is_bot:
            values.append((BreakdownDimension.BOT_REASON, self.bot_reason))
        else:
            values.append((BreakdownDimension.REFERRER, referrer_host(self.referrer)))
            values += [
                (key, ("" if value is None else str(value))[:VALUE_CHARS])
                for key, value in self.utm_params.items()
                if key in UTM_DIMENSIONS
            ]
        if self.during_pause:
            values.append((BreakdownDimension.PAUSED, ""))
        return values


def campaign_days_clicks_add(clicks: Sequence[InsertedClick]) -> None:
    """Add clicks just inserted (in this transaction) to their days: the portable form of
    `clicks_insert_with_rollup_sql`, for SQLite (the embedded default)."""
    if not clicks:
        return
    counts: dict[Cell, list[int]] = defaultdict(lambda: [0, 0, 0])
    visitors: set[tuple[uuid.UUID, dt.date, str]] = set()
    for click in clicks:
        cell = (_campaign_id(click.campaign_id), utc_day(click.occurred_at))
        counts[cell][1 if click.is_bot else 0] += 1
        if not click.is_bot and click.visitor_hash:
            visitors.add((*cell, click.visitor_hash[:VISITOR_DIGITS]))
    prep = _cell_params
    with connection.cursor() as cursor:
        for chunk in _chunks(sorted(visitors), 300):
            cursor.execute(
                f"INSERT INTO {_table(CampaignDayVisitor)} (campaign_id, date, visitor) "  # noqa: S608
                f"VALUES {', '.join(['(%s, %s, %s)'] * len(chunk))} "
                "ON CONFLICT DO NOTHING RETURNING campaign_id, date",
                [
                    value
                    for campaign, day, visitor in chunk
                    for value in (*prep(campaign, day), visitor)
                ],
            )
            for campaign, day in cursor.fetchall():
                counts[(_campaign_id(campaign), _date(day))][2] += 1
        for chunk in _chunks(sorted(counts.items()), 300):
            cursor.execute(
                f"INSERT INTO {_table(CampaignDay)} AS d ({_ALL_COLUMNS}) "  # noqa: S608
                f"VALUES {', '.join(['(%s, %s, %s, %s, %s, 0, 0, 0, 0, 0, 0, 0)'] * len(chunk))} "
                + _ADD_CLICKS,
                [value for cell, figures in chunk for value in (*prep(*cell), *figures)],
            )
        breakdowns: dict[tuple[uuid.UUID, str, dt.date, str], int] = defaultdict(int)
        for click in clicks:
            campaign, day = _campaign_id(click.campaign_id), utc_day(click.occurred_at)
            for dimension, value in click.breakdown_values():
                breakdowns[(campaign, dimension, day, value)] += 1
        for part in _chunks(sorted(breakdowns.items()), 300):
            cursor.execute(
                f"INSERT INTO {_table(CampaignDayBreakdown)} AS b "  # noqa: S608
                "(campaign_id, dimension, date, value, clicks, retained_clicks) "
                f"VALUES {', '.join(['(%s, %s, %s, %s, %s, 0)'] * len(part))} "
                "ON CONFLICT (campaign_id, dimension, date, value) "
                "DO UPDATE SET clicks = b.clicks + excluded.clicks",
                [
                    value
                    for (campaign, dimension, day, label), count in part
                    for value in (
                        *prep(campaign, day)[:1],
                        dimension,
                        prep(campaign, day)[1],
                        label,
                        count,
                    )
                ],
            )


def _cell_params(campaign_id: uuid.UUID, day: dt.date) -> tuple[Any, Any]:
    return (
        Campaign._meta.pk.get_db_prep_value(campaign_id, connection),
        CampaignDay._meta.get_field("date").get_db_prep_value(day, connection),
    )


def _campaign_id(value: object) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _chunks(values: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# --- recounts -------------------------------------------------------------------------


def _lock(cells: list[Cell]) -> None:
    """Make sure the cells' rows exist, and lock them, in (campaign, day) order. Every
    write of the rollups but the click insert's starts here: the campaigns' cached figures
    are retired (trace/cache.py)."""
    campaigns_figures_changed({campaign for campaign, _ in cells})
    CampaignDay.objects.bulk_create(
        [CampaignDay(campaign_id=campaign, date=day) for campaign, day in cells],
        ignore_conflicts=True,
    )
    list(
        CampaignDay.objects.select_for_update()
        .filter(_cells_q(cells, date_field="date"))
        .order_by("campaign_id", "date")
        .values_list("pk", flat=True)
    )


@dataclass
class _WalletDay:
    conversions: int = 0
    value_usd: Decimal = ZERO
    proven_value_usd: Decimal = ZERO
    last_converted_at: dt.datetime | None = None

    def add(self, conversions: int, value: Decimal, proven: Decimal, last: dt.datetime) -> None:
        self.conversions += conversions
        self.value_usd += value
        self.proven_value_usd += proven
        if self.last_converted_at is None or last > self.last_converted_at:
            self.last_converted_at = last


@dataclass
class _Figures:
    clicks: int = 0
    bot_clicks: int = 0
    unique_visitors: int = 0
    conversions: int = 0
    conversion_value_usd: Decimal = ZERO
    proven_value_usd: Decimal = ZERO
    # wallet -> its conversions, credited value and last conversion that day
    wallets: dict[str, _WalletDay] = field(default_factory=dict)
    # contract (as the conversions name it) -> [credited value, its proven part]
    contracts: dict[str, list[Decimal]] = field(default_factory=dict)


def _by_day(queryset: QuerySet[Any], occurred: str = "occurred_at") -> QuerySet[Any]:
    by_day: QuerySet[Any] = queryset.annotate(day=TruncDate(occurred, tzinfo=dt.UTC))
    return by_day.order_by()


def _click_figures(clicks: QuerySet[Click], figures: dict[Cell, _Figures]) -> None:
    human = Q(is_bot=False)
    rows = (
        _by_day(clicks)
        .values("campaign_id", "day")
        .annotate(
            human=Count("pk", filter=human),
            bots=Count("pk", filter=~human),
            visitors=Count("visitor_hash", distinct=True, filter=human & ~Q(visitor_hash="")),
        )
    )
    for row in rows:
        cell = figures[(row["campaign_id"], row["day"])]
        cell.clicks, cell.bot_clicks, cell.unique_visitors = (
            row["human"],
            row["bots"],
            row["visitors"],
        )


def _visitors_insert(clicks: QuerySet[Click]) -> None:
    """INSERT ... SELECT the distinct visitors of these clicks' days (rows of those days
    deleted first by the caller)."""
    select = (
        _by_day(clicks.filter(is_bot=False).exclude(visitor_hash=""))
        .annotate(visitor=Substr("visitor_hash", 1, VISITOR_DIGITS))
        .values_list("campaign_id", "day", "visitor")
        .distinct()
    )
    sql, params = select.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_table(CampaignDayVisitor)} (campaign_id, date, visitor) {sql}",
            params,
        )


def _breakdowns_recount(clicks: QuerySet[Click], rows: QuerySet[CampaignDayBreakdown]) -> None:
    """Recount the breakdown `rows` (those of the cells of `clicks`) from these raw clicks
    whose details are kept, plus what retention erased (`retained_clicks`)."""
    rows.update(clicks=F("retained_clicks"))
    kept = clicks.filter(details_erased=False).order_by().values("pk")
    where, params = kept.query.sql_with_params()
    day = (
        "(c.occurred_at AT TIME ZONE 'UTC')::date"
        if connection.vendor == "postgresql"
        else "date(c.occurred_at)"
    )
    source = f"SELECT c.*, {day} AS day FROM {_table(Click)} c WHERE c.id IN ({where})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH src AS ({source}) "  # noqa: S608 (quoted names and the ORM's SQL)
            f"INSERT INTO {_table(CampaignDayBreakdown)} AS b "
            "(campaign_id, dimension, date, value, clicks, retained_clicks) "
            "SELECT campaign_id, dimension, day, value, count(*), 0 "
            f"FROM ({_breakdown_values_sql('src', 'day')}) v WHERE true "
            "GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4 "
            "ON CONFLICT (campaign_id, dimension, date, value) "
            "DO UPDATE SET clicks = b.retained_clicks + excluded.clicks",
            params,
        )
    rows.filter(clicks=0, retained_clicks=0).delete()


def _proven(click: str, wallet: str) -> Exists:
    return Exists(
        WalletLink.objects.filter(
            click_id=OuterRef(click), wallet_address=OuterRef(wallet), proof=LinkProof.PROVEN
        )
    )


def _conversion_figures(
    credits: QuerySet[ConversionCredit],
    uncredited: QuerySet[Conversion],
    figures: dict[Cell, _Figures],
) -> None:
    """Add the conversions of these credit rows and of these conversions without credits
    (a conversion is one or the other) to their cells."""
    sources: list[tuple[QuerySet[Any], str, str, str]] = [
        (credits, "conversion__occurred_at", "conversion_id", "conversion__wallet_address"),
        (uncredited.filter(credits__isnull=True), "occurred_at", "pk", "wallet_address"),
    ]
    for queryset, occurred, conversion, wallet in sources:
        rows = (
            _by_day(queryset, occurred)
            .values("campaign_id", "day")
            .annotate(
                conversions=Count(conversion, distinct=True),
                value=Sum("value_usd", default=ZERO),
                proven=Sum("value_usd", default=ZERO, filter=Q(_proven("click_id", wallet))),
            )
        )
        for row in rows:
            cell = figures[(row["campaign_id"], row["day"])]
            cell.conversions += row["conversions"]
            cell.conversion_value_usd += Decimal(row["value"])
            cell.proven_value_usd += Decimal(row["proven"])
        wallets = (
            _by_day(queryset, occurred)
            .values_list("campaign_id", "day", wallet)
            .annotate(
                n=Count(conversion, distinct=True),
                value=Sum("value_usd", default=ZERO),
                proven=Sum("value_usd", default=ZERO, filter=Q(_proven("click_id", wallet))),
                last=Max(occurred),
            )
        )
        for campaign, day, address, count, value, proven, last in wallets:
            wallet_days = figures[(campaign, day)].wallets
            wallet_days.setdefault(address, _WalletDay()).add(
                count, Decimal(value), Decimal(proven), last
            )
        contract = wallet.replace("wallet_address", "contract_address")
        contracts = (
            _by_day(queryset.exclude(**{contract: ""}), occurred)
            .values_list("campaign_id", "day", contract)
            .annotate(
                value=Sum("value_usd", default=ZERO),
                proven=Sum("value_usd", default=ZERO, filter=Q(_proven("click_id", wallet))),
            )
        )
        for campaign, day, address, value, proven in contracts:
            sums = figures[(campaign, day)].contracts.setdefault(address, [ZERO, ZERO])
            sums[0] += Decimal(value)
            sums[1] += Decimal(proven)


def _write_conversions(
    figures: dict[Cell, _Figures], cells: list[Cell], *, campaign_id: uuid.UUID | None = None
) -> None:
    """Write the conversion figures of these (locked) cells: the days' rows, their wallets
    (and what follows from those, see `_wallet_days_write`) and their contracts.
    `campaign_id`: the cells are the whole of that campaign, rebuilt under its row's lock."""
    cells_q = _cells_q(cells, date_field="date")
    new = {
        (campaign, day, wallet): wallet_day
        for campaign, day in cells
        for wallet, wallet_day in figures[(campaign, day)].wallets.items()
    }
    old = _wallet_days(
        CampaignDayWallet.objects.filter(Q(campaign_id=campaign_id) if campaign_id else cells_q)
    )
    changes = {
        key: new.get(key)
        for key in old.keys() | new.keys()
        if key not in old or old[key][0] != new.get(key)
    }
    _wallet_days_write(changes, campaign_id=campaign_id)
    CampaignDayContract.objects.filter(cells_q).delete()
    CampaignDayContract.objects.bulk_create(
        CampaignDayContract(
            campaign_id=campaign,
            date=day,
            contract_address=address,
            conversion_value_usd=value,
            proven_value_usd=proven,
        )
        for campaign, day in cells
        for address, (value, proven) in sorted(figures[(campaign, day)].contracts.items())
    )
    CampaignDay.objects.bulk_create(
        [
            CampaignDay(
                campaign_id=campaign,
                date=day,
                conversions=figures[(campaign, day)].conversions,
                converted_wallets=len(figures[(campaign, day)].wallets),
                conversion_value_usd=figures[(campaign, day)].conversion_value_usd,
                proven_value_usd=figures[(campaign, day)].proven_value_usd,
            )
            for campaign, day in cells
        ],
        update_conflicts=True,
        unique_fields=["campaign", "date"],
        update_fields=CONVERSION_FIELDS,
    )


# (campaign id, UTC day, wallet) of a CampaignDayWallet row; (campaign id, wallet)
WalletKey = tuple[uuid.UUID, dt.date, str]
Pair = tuple[uuid.UUID, str]


def _wallet_days(rows: QuerySet[CampaignDayWallet]) -> dict[WalletKey, tuple[_WalletDay, dt.date]]:
    """These rows' figures and previous dates, by key."""
    return {
        (campaign, day, wallet): (_WalletDay(count, value, proven, last), previous)
        for campaign, day, wallet, count, value, proven, last, previous in rows.values_list(
            "campaign_id",
            "date",
            "wallet_address",
            "conversions",
            "value_usd",
            "proven_value_usd",
            "last_converted_at",
            "previous_date",
        )
    }


def _pairs_q(pairs: Iterable[Pair]) -> Q:
    wallets: dict[uuid.UUID, set[str]] = defaultdict(set)
    for campaign_id, wallet in pairs:
        wallets[campaign_id].add(wallet)
    matches = Q()
    for campaign_id, addresses in wallets.items():
        matches |= Q(campaign_id=campaign_id, wallet_address__in=sorted(addresses))
    return matches


def _pairs_lock(pairs: list[Pair]) -> None:
    """Lock the wallets' CampaignWallet rows, in (campaign, wallet) order (after the days'
    rows, as every writer does): a row missing is inserted first (a placeholder until
    `_campaign_wallets_write` fills or removes it, in this transaction), so two writers
    of one wallet follow each other here even when it is new."""
    CampaignWallet.objects.bulk_create(
        [
            CampaignWallet(
                campaign_id=campaign_id,
                wallet_address=wallet,
                first_date=NO_PREVIOUS_DATE,
                last_converted_at=_midnight(NO_PREVIOUS_DATE),
            )
            for campaign_id, wallet in pairs
        ],
        ignore_conflicts=True,
    )
    list(
        CampaignWallet.objects.select_for_update()
        .filter(_pairs_q(pairs))
        .order_by("campaign_id", "wallet_address")
        .values_list("wallet_address", flat=True)
    )


def _wallet_days_write(
    changes: dict[WalletKey, _WalletDay | None], *, campaign_id: uuid.UUID | None = None
) -> None:
    """Set these wallet-days (None: remove), in cells whose days are locked, and what
    follows: the previous date of each of those wallets' rows, CampaignDayWalletGap and
    CampaignWallet. The wallets' CampaignWallet rows are locked first, then all their rows
    read (a wallet's days are few); `campaign_id`: the whole campaign is being rebuilt
    under its row's lock, so all its rows are read and its derived rows written anew."""
    if not changes and campaign_id is None:
        return
    pairs = sorted({(campaign, wallet) for campaign, _day, wallet in changes})
    if campaign_id is None:
        _pairs_lock(pairs)
        before = _wallet_days(CampaignDayWallet.objects.filter(_pairs_q(pairs)))
    else:
        before = _wallet_days(CampaignDayWallet.objects.filter(campaign_id=campaign_id))
    after = {key: figures for key, (figures, _previous) in before.items()}
    for key, figures in changes.items():
        if figures is None:
            after.pop(key, None)
        else:
            after[key] = figures
    days_of: dict[Pair, list[dt.date]] = defaultdict(list)
    for campaign, day, wallet in after:
        days_of[(campaign, wallet)].append(day)
    previous: dict[WalletKey, dt.date] = {}
    for (campaign, wallet), days in days_of.items():
        days.sort()
        for earlier, day in zip([NO_PREVIOUS_DATE, *days], days, strict=False):
            previous[(campaign, day, wallet)] = earlier
    rewritten = sorted(key for key in after if key in changes or previous[key] != before[key][1])
    gone = [key for key in (*changes, *rewritten) if key in before]
    for part in _chunks(sorted(set(gone)), 500):
        matches = Q()
        for campaign, day, wallet in part:
            matches |= Q(campaign_id=campaign, date=day, wallet_address=wallet)
        CampaignDayWallet.objects.filter(matches).delete()
    CampaignDayWallet.objects.bulk_create(
        (
            CampaignDayWallet(
                campaign_id=campaign,
                date=day,
                wallet_address=wallet,
                conversions=after[(campaign, day, wallet)].conversions,
                value_usd=after[(campaign, day, wallet)].value_usd,
                proven_value_usd=after[(campaign, day, wallet)].proven_value_usd,
                last_converted_at=after[(campaign, day, wallet)].last_converted_at,
                previous_date=previous[(campaign, day, wallet)],
            )
            for campaign, day, wallet in rewritten
        ),
        batch_size=2000,
    )
    _gaps_write(before, previous, campaign_id)
    if campaign_id is not None:
        pairs = sorted(set(days_of))
    _campaign_wallets_write(pairs, after, campaign_id)


def _gaps_write(
    before: dict[WalletKey, tuple[_WalletDay, dt.date]],
    previous: dict[WalletKey, dt.date],
    campaign_id: uuid.UUID | None,
) -> None:
    """CampaignDayWalletGap: the change from `before` to `previous`, added (rows locked in
    key order, in one statement a chunk); or, for a whole campaign, counted anew."""
    gaps: Counter[tuple[uuid.UUID, dt.date, dt.date]] = Counter()
    for (campaign, day, _wallet), earlier in previous.items():
        gaps[(campaign, day, earlier)] += 1
    if campaign_id is not None:
        CampaignDayWalletGap.objects.filter(campaign_id=campaign_id).delete()
        CampaignDayWalletGap.objects.bulk_create(
            (
                CampaignDayWalletGap(campaign_id=c, date=d, previous_date=p, wallets=n)
                for (c, d, p), n in sorted(gaps.items())
            ),
            batch_size=2000,
        )
        return
    for (campaign, day, _wallet), (_figures, earlier) in before.items():
        gaps[(campaign, day, earlier)] -= 1
    changed = sorted((key, delta) for key, delta in gaps.items() if delta)
    prep = _cell_params
    with connection.cursor() as cursor:
        for part in _chunks(changed, 300):
            cursor.execute(
                f"INSERT INTO {_table(CampaignDayWalletGap)} AS g "  # noqa: S608
                "(campaign_id, date, previous_date, wallets) "
                f"VALUES {', '.join(['(%s, %s, %s, %s)'] * len(part))} "
                "ON CONFLICT (campaign_id, date, previous_date) "
                "DO UPDATE SET wallets = g.wallets + excluded.wallets",
                [
                    value
                    for (campaign, day, earlier), delta in part
                    for value in (*prep(campaign, day), prep(campaign, earlier)[1], delta)
                ],
            )
    if changed:
        matches = Q()
        for (campaign, day, earlier), _delta in changed:
            matches |= Q(campaign_id=campaign, date=day, previous_date=earlier)
        CampaignDayWalletGap.objects.filter(matches, wallets=0).delete()


def _campaign_wallets_write(
    pairs: list[Pair], after: dict[WalletKey, _WalletDay], campaign_id: uuid.UUID | None
) -> None:
    """CampaignWallet of these wallets: the sums of their rows `after`; removed when they
    have none. A whole campaign's are written anew."""
    wallets: dict[Pair, CampaignWallet] = {}
    for (campaign, day, address), figures in sorted(after.items()):
        # A wallet-day has a conversion, so a moment (the column allows none: older rows).
        last = figures.last_converted_at or _midnight(day)
        wallet = wallets.get((campaign, address))
        if wallet is None:
            wallet = wallets[(campaign, address)] = CampaignWallet(
                campaign_id=campaign,
                wallet_address=address,
                first_date=day,
                last_converted_at=last,
                conversions=0,
                value_usd=ZERO,
                proven_value_usd=ZERO,
            )
        wallet.conversions += figures.conversions
        wallet.value_usd += figures.value_usd
        wallet.proven_value_usd += figures.proven_value_usd
        if last > wallet.last_converted_at:
            wallet.last_converted_at = last
    if campaign_id is not None:
        CampaignWallet.objects.filter(campaign_id=campaign_id).delete()
        CampaignWallet.objects.bulk_create(
            (wallets[pair] for pair in pairs if pair in wallets), batch_size=2000
        )
        return
    empty = [pair for pair in pairs if pair not in wallets]
    if empty:
        CampaignWallet.objects.filter(_pairs_q(empty)).delete()
    CampaignWallet.objects.bulk_create(
        [wallets[pair] for pair in pairs if pair in wallets],
        update_conflicts=True,
        unique_fields=["campaign", "wallet_address"],
        update_fields=[
            "first_date",
            "last_converted_at",
            "conversions",
            "value_usd",
            "proven_value_usd",
        ],
    )


def campaign_days_conversions_refresh(cells: Iterable[Cell]) -> None:
    """Recount the conversion figures of these campaign-days from the raw rows."""
    ordered = sorted(set(cells))
    if not ordered:
        return
    with transaction.atomic():
        _lock(ordered)
        figures: dict[Cell, _Figures] = defaultdict(_Figures)
        _conversion_figures(
            ConversionCredit.objects.filter(_cells_q(ordered, occurred="conversion__occurred_at")),
            Conversion.objects.filter(_cells_q(ordered)),
            figures,
        )
        _write_conversions(figures, ordered)


def campaign_days_conversion_add(conversion: Conversion) -> None:
    """Add a conversion just created (with its credits, in this transaction) to its
    campaigns' day: increments, the day's rows locked first (in campaign order, as every
    recount locks them) so a concurrent recount of the day follows or precedes it whole."""
    day = utc_day(conversion.occurred_at)
    wallet = conversion.wallet_address
    credits = list(
        ConversionCredit.objects.filter(conversion=conversion)
        .annotate(proven=_proven("click_id", "conversion__wallet_address"))
        .values_list("campaign_id", "value_usd", "proven")
    )
    if not credits:
        proven = conversion.click_id is not None and (
            WalletLink.objects.filter(
                click_id=conversion.click_id, wallet_address=wallet, proof=LinkProof.PROVEN
            ).exists()
        )
        credits = [(conversion.campaign_id, conversion.value_usd, proven)]
    added: dict[uuid.UUID, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for campaign_id, value, proven in credits:
        added[campaign_id][0] += value
        if proven:
            added[campaign_id][1] += value
    cells = sorted((campaign_id, day) for campaign_id in added)
    contract = conversion.contract_address
    with transaction.atomic():
        _lock(cells)
        # The days' rows are locked: no other writer changes these wallet-days meanwhile.
        current = _wallet_days(
            CampaignDayWallet.objects.filter(
                _cells_q(cells, date_field="date"), wallet_address=wallet
            )
        )
        changes: dict[WalletKey, _WalletDay | None] = {}
        for campaign_id, _day in cells:
            value, proven_value = added[campaign_id]
            key = (campaign_id, day, wallet)
            figures = replace(current[key][0]) if key in current else _WalletDay()
            figures.add(1, value, proven_value, conversion.occurred_at)
            changes[key] = figures
            CampaignDay.objects.filter(campaign_id=campaign_id, date=day).update(
                conversions=F("conversions") + 1,
                converted_wallets=F("converted_wallets") + (0 if key in current else 1),
                conversion_value_usd=F("conversion_value_usd") + value,
                proven_value_usd=F("proven_value_usd") + proven_value,
            )
            if contract:
                # The day's row is locked: no other writer adds this contract's row meanwhile.
                known = CampaignDayContract.objects.filter(
                    campaign_id=campaign_id, date=day, contract_address=contract
                ).update(
                    conversion_value_usd=F("conversion_value_usd") + value,
                    proven_value_usd=F("proven_value_usd") + proven_value,
                )
                if not known:
                    CampaignDayContract.objects.create(
                        campaign_id=campaign_id,
                        date=day,
                        contract_address=contract,
                        conversion_value_usd=value,
                        proven_value_usd=proven_value,
                    )
        _wallet_days_write(changes)


def conversion_cells(conversion_ids: Iterable[uuid.UUID]) -> set[Cell]:
    """The campaign-days whose figures these conversions are part of."""
    ids = list(conversion_ids)
    owned = Conversion.objects.filter(pk__in=ids).values_list("campaign_id", "occurred_at")
    credited = ConversionCredit.objects.filter(conversion_id__in=ids).values_list(
        "campaign_id", "conversion__occurred_at"
    )
    return {(campaign, utc_day(moment)) for rows in (owned, credited) for campaign, moment in rows}


def click_wallet_cells(*, click_id: int, wallet_address: str) -> set[Cell]:
    """The campaign-days of the conversions of `wallet_address` credited through (or made
    on) the click: the ones whose proven value a link between them changes."""
    conversions = Conversion.objects.filter(
        Q(click_id=click_id) | Q(credits__click_id=click_id), wallet_address=wallet_address
    ).values_list("pk", flat=True)
    return conversion_cells(set(conversions))


def campaign_days_clicks_recount(cells: Iterable[Cell]) -> None:
    """Recount the click figures of these campaign-days from the raw rows (after clicks
    were marked as bots): `retained_*` plus what the rows say now."""
    ordered = sorted(set(cells))
    if not ordered:
        return
    with transaction.atomic():
        _lock(ordered)
        figures: dict[Cell, _Figures] = defaultdict(_Figures)
        clicks = Click.objects.filter(_cells_q(ordered))
        _click_figures(clicks, figures)
        CampaignDayVisitor.objects.filter(_cells_q(ordered, date_field="date")).delete()
        _visitors_insert(clicks)
        _write_clicks(figures, ordered)
        _breakdowns_recount(
            clicks, CampaignDayBreakdown.objects.filter(_cells_q(ordered, date_field="date"))
        )


def click_cells(clicks: QuerySet[Click]) -> set[Cell]:
    return {
        (campaign, day)
        for campaign, day in _by_day(clicks).values_list("campaign_id", "day").distinct()
    }


# --- rebuild --------------------------------------------------------------------------


@dataclass(frozen=True)
class RebuildResult:
    campaigns: int
    days: int


def rollups_rebuild(*, campaign_ids: Iterable[uuid.UUID] | None = None) -> RebuildResult:
    """Recount the rollups of these campaigns (all when None) from the raw rows and
    `retained_*`, one campaign per transaction. The campaign's row is locked FOR UPDATE
    first: a click or conversion insert (whose foreign key shares that lock) waits until
    the campaign is recounted, and one already running is committed before it counts."""
    ids = (
        list(Campaign.objects.order_by("pk").values_list("pk", flat=True))
        if campaign_ids is None
        else sorted(set(campaign_ids))
    )
    days = 0
    for campaign_id in ids:
        days += _campaign_rebuild(campaign_id)
    return RebuildResult(campaigns=len(ids), days=days)


def _campaign_rebuild(campaign_id: uuid.UUID) -> int:
    with transaction.atomic():
        if not Campaign.objects.select_for_update().filter(pk=campaign_id).exists():
            return 0
        existing = list(
            CampaignDay.objects.select_for_update()
            .filter(campaign_id=campaign_id)
            .order_by("date")
            .values_list("date", flat=True)
        )
        figures: dict[Cell, _Figures] = defaultdict(_Figures)
        _click_figures(Click.objects.filter(campaign_id=campaign_id), figures)
        _conversion_figures(
            ConversionCredit.objects.filter(campaign_id=campaign_id),
            Conversion.objects.filter(campaign_id=campaign_id),
            figures,
        )
        cells = sorted({(campaign_id, day) for day in existing} | set(figures))
        _lock(cells)
        CampaignDayVisitor.objects.filter(campaign_id=campaign_id).delete()
        _visitors_insert(Click.objects.filter(campaign_id=campaign_id))
        _write_clicks(figures, cells)
        _write_conversions(figures, cells, campaign_id=campaign_id)
        _breakdowns_recount(
            Click.objects.filter(campaign_id=campaign_id),
            CampaignDayBreakdown.objects.filter(campaign_id=campaign_id),
        )
        return len(cells)


def _write_clicks(figures: dict[Cell, _Figures], cells: list[Cell]) -> None:
    """Click totals: what was retained plus what the raw rows counted."""
    retained = {
        (row.campaign_id, row.date): row
        for row in CampaignDay.objects.filter(_cells_q(cells, date_field="date"))
    }
    rows = []
    for cell in cells:
        figure, kept = figures[cell], retained[cell]
        kept.clicks = kept.retained_clicks + figure.clicks
        kept.bot_clicks = kept.retained_bot_clicks + figure.bot_clicks
        kept.unique_visitors = kept.retained_unique_visitors + figure.unique_visitors
        rows.append(kept)
    CampaignDay.objects.bulk_update(rows, CLICK_FIELDS, batch_size=500)
