"""Daily activity rollups: DAU, WAU, MAU, transactions and volume per project and UTC day.

One SQL statement computes a whole date range for a project, on PostgreSQL and SQLite:

1. the distinct (wallet, day) pairs of the project's interactions, leaving out wallets an
   operator confirmed as bots;
2. per wallet and W-day window, its active days split into runs whose gaps are shorter
   than W days (LAG/LEAD over the wallet's days). A run from day a to day b keeps the
   wallet in the window on the days [a, b + W − 1], so the window's count is a running
   sum of +1 on each run's first day and −1 W days after each run's last day. Both are
   counted per day in one GROUP BY; the −1s are shifted W days with LAG over the
   contiguous day series. Linear in the number of (wallet, day) pairs, instead of W
   joins per day;
3. days are integers (days since 1970-01-01), so the arithmetic is the same SQL on both
   databases; only "which day is this timestamp", money sums and collation hints differ.

Money is summed as the NUMERIC column itself on PostgreSQL: exact, and no sum of stored
values can overflow (a 64-bit integer of cents overflows at about 92 quadrillion dollars,
which three spam transfers reached). SQLite has no NUMERIC arithmetic; it sums whole cents
with TOTAL(), a float that never overflows and is exact up to 2^53 cents. A day above
METRICS_DAILY_VOLUME_CAP_USD is stored with its volume as summed and a flag saying why it
is implausible.

The same pass yields the 14-day window and MAU 30 days earlier, which the activity score
needs for retention and growth (see `trace.services.scoring`). Results are upserted on
(project, date), so re-running a range rewrites the same rows.

The rollup can also be restricted to some of the project's contracts (`contract_addresses`,
compared as `address_key` does: EVM hex in any case, base58 exactly): the same statement
with one more condition on the interactions it reads. Growth certificates use it for the
metrics of control-verified contracts only; those figures are returned, never stored.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import logging
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any, TypedDict
from uuid import UUID

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from fabrknt.chain.addresses import address_key
from trace.cache import projects_changed
from trace.models import ActivityMetric, ContractInteraction, FlagStatus, Project, WalletFlag
from trace.services.scoring import ScoreInputs, activity_score_calculate

logger = logging.getLogger(__name__)

EPOCH = dt.date(1970, 1, 1)
# The days a period may name. No chain has activity before 1970 (day zero of the daily
# rollups), and the bounds keep a period's arithmetic — rollups read 59 days before it
# and a day after, defaults reach 30 days back — inside Python's calendar, whose ends
# (0001-01-01, 9999-12-31) would otherwise raise OverflowError.
EARLIEST_DATE = EPOCH
LATEST_DATE = dt.date(9998, 12, 31)
# How far before the first day the rollup reads: MAU 30 days earlier needs 30 + 29 days.
LOOKBACK_DAYS = 59
# Backfills run in chunks of this many days, so progress shows and memory stays flat.
BACKFILL_CHUNK_DAYS = 120


# "Which UTC day is this" as an integer, and a value as money summed exactly: dollars as
# NUMERIC on PostgreSQL, whole cents as a float on SQLite (`money_unit` turns either into
# dollars).
class _Dialect(TypedDict):
    day: str
    money: str
    money_sum: str
    money_unit: Decimal
    wallet: str
    flag_wallet: str
    tx: str
    base: str


_DIALECTS: dict[str, _Dialect] = {
    "postgresql": {
        "day": "((i.occurred_at AT TIME ZONE 'UTC')::date - DATE '1970-01-01')",
        "money": "i.value_usd",
        "money_sum": "SUM",
        "money_unit": Decimal(1),
        # Byte order, not the database locale's: the sorts and hashes over a million
        # addresses and hashes are several times faster, and equality is the same.
        "wallet": 'i.wallet_address COLLATE "C"',
        "flag_wallet": 'f.wallet_address COLLATE "C"',
        "tx": 'i.transaction_hash COLLATE "C"',
        # Read the table once for both the wallet-days and the transactions.
        "base": "MATERIALIZED",
    },
    # Django stores SQLite datetimes as naive UTC text. Only its date part is read: SQLite
    # rounds fractions to milliseconds, which would move 23:59:59.9999 to the next day.
    "sqlite": {
        "day": "(CAST(strftime('%%s', substr(i.occurred_at, 1, 10)) AS INTEGER) / 86400)",
        "money": "ROUND(i.value_usd * 100)",
        "money_sum": "TOTAL",
        "money_unit": Decimal("0.01"),
        "wallet": "i.wallet_address",
        "flag_wallet": "f.wallet_address",
        "tx": "i.transaction_hash",
        "base": "",
    },
}

# For this transaction only: hash the (wallet, day) and (day, tx) sets in memory rather
# than spilling to disk, and skip JIT compilation, which costs more than it saves here.
_SESSION_SETTINGS = {
    "postgresql": ("SET LOCAL work_mem = '128MB'", "SET LOCAL jit = off"),
}

_ROLLUP_SQL = """
WITH RECURSIVE
base AS {base} (
    SELECT {wallet} AS wallet, {day} AS d, {tx} AS tx, {money} AS money, i.source AS source,
           CASE WHEN i.unpriced_reason = '' THEN 0 ELSE 1 END AS unpriced
    FROM {interaction} i
    WHERE i.project_id = %(project)s
      AND i.occurred_at >= %(read_from)s AND i.occurred_at < %(read_to)s
      {contracts}
      AND NOT EXISTS (
          SELECT 1 FROM {flag} f
          WHERE f.project_id = i.project_id AND f.wallet_address = i.wallet_address
            AND f.status = %(confirmed)s
      )
),
active AS (SELECT DISTINCT wallet, d FROM base),
gaps AS (
    SELECT wallet, d,
           d - LAG(d) OVER w AS since_previous,
           LEAD(d) OVER w - d AS until_next
    FROM active
    WINDOW w AS (PARTITION BY wallet ORDER BY d)
),
suspected AS (
    SELECT DISTINCT {flag_wallet} AS wallet FROM {flag} f
    WHERE f.project_id = %(project)s AND f.status = %(suspected)s
),
per_day AS (
    SELECT g.d,
           COUNT(*) AS dau,
           COUNT(s.wallet) AS suspected,
           SUM(CASE WHEN since_previous IS NULL OR since_previous >= 7 THEN 1 ELSE 0 END) AS in7,
           SUM(CASE WHEN since_previous IS NULL OR since_previous >= 14 THEN 1 ELSE 0 END) AS in14,
           SUM(CASE WHEN since_previous IS NULL OR since_previous >= 30 THEN 1 ELSE 0 END) AS in30,
           SUM(CASE WHEN until_next IS NULL OR until_next >= 7 THEN 1 ELSE 0 END) AS out7,
           SUM(CASE WHEN until_next IS NULL OR until_next >= 14 THEN 1 ELSE 0 END) AS out14,
           SUM(CASE WHEN until_next IS NULL OR until_next >= 30 THEN 1 ELSE 0 END) AS out30
    FROM gaps g LEFT JOIN suspected s ON s.wallet = g.wallet
    GROUP BY g.d
),
days(d) AS (
    SELECT CAST(%(series_from)s AS INTEGER)
    UNION ALL
    SELECT d + 1 FROM days WHERE d < %(last)s
),
deltas AS (
    SELECT days.d, COALESCE(p.dau, 0) AS dau, COALESCE(p.suspected, 0) AS suspected,
           COALESCE(p.in7, 0) - COALESCE(LAG(p.out7, 7) OVER o, 0) AS delta7,
           COALESCE(p.in14, 0) - COALESCE(LAG(p.out14, 14) OVER o, 0) AS delta14,
           COALESCE(p.in30, 0) - COALESCE(LAG(p.out30, 30) OVER o, 0) AS delta30
    FROM days LEFT JOIN per_day p ON p.d = days.d
    WINDOW o AS (ORDER BY days.d)
),
rolling AS (
    SELECT d, dau, suspected,
           SUM(delta7) OVER r AS wau, SUM(delta14) OVER r AS w14, SUM(delta30) OVER r AS mau
    FROM deltas
    WINDOW r AS (ORDER BY d ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),
lagged AS (
    SELECT d, dau, suspected, wau, w14, mau,
           LAG(mau, 30) OVER (ORDER BY d) AS mau_30,
           LAG(wau, 7) OVER (ORDER BY d) AS wau_7
    FROM rolling
),
-- A transaction's value (and unpriced transfers) are summed within each source, and the
-- sources that saw it are not added up: Alchemy and the indexer store the same transfer
-- as different rows.
source_transactions AS (
    SELECT d, tx, {money_sum}(money) AS money, SUM(unpriced) AS unpriced
    FROM base WHERE d >= %(first)s GROUP BY d, tx, source
),
day_transactions AS (
    SELECT d, tx, MAX(money) AS money, MAX(unpriced) AS unpriced
    FROM source_transactions GROUP BY d, tx
),
daily_tx AS (
    SELECT d, COUNT(*) AS tx_count, {money_sum}(money) AS money, SUM(unpriced) AS unpriced
    FROM day_transactions GROUP BY d
)
SELECT l.d, l.dau, l.wau, l.mau, l.w14, l.mau_30, l.wau_7,
       COALESCE(t.tx_count, 0), COALESCE(t.money, 0), l.suspected, COALESCE(t.unpriced, 0)
FROM lagged l
LEFT JOIN daily_tx t ON t.d = l.d
WHERE l.d >= %(first)s
ORDER BY l.d
"""

_UPDATED_FIELDS = [
    "dau",
    "wau",
    "mau",
    "transaction_count",
    "transaction_volume_usd",
    "unpriced_transfers",
    "volume_flag_reason",
    "bot_share",
    "activity_score",
    "score_components",
    "computed_at",
]


def _day_number(day: dt.date) -> int:
    return (day - EPOCH).days


def _utc_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def _contracts_condition(contract_addresses: Sequence[str] | None) -> tuple[str, dict[str, str]]:
    """The SQL condition (and its parameters) keeping the interactions with these contracts;
    none for None (every interaction of the project)."""
    if contract_addresses is None:
        return "", {}
    keys = sorted({address_key(address) for address in contract_addresses})
    if not keys:
        return "AND 1 = 0", {}
    params = {f"contract_{n}": key for n, key in enumerate(keys)}
    placeholders = ", ".join(f"%({name})s" for name in params)
    # address_key in SQL: EVM hex compares in lower case, base58 as it is.
    key = (
        "CASE WHEN i.contract_address LIKE '0x%%' THEN LOWER(i.contract_address) "
        "ELSE i.contract_address END"
    )
    return f"AND {key} IN ({placeholders})", params


def _rollup_rows(
    *,
    project_id: UUID,
    date_from: dt.date,
    date_to: dt.date,
    contract_addresses: Sequence[str] | None = None,
) -> list[tuple[Any, ...]]:
    dialect = _DIALECTS.get(connection.vendor)
    if dialect is None:
        raise NotImplementedError(
            f"metrics rollups support PostgreSQL and SQLite, not {connection.vendor}"
        )
    contracts, contract_params = _contracts_condition(contract_addresses)
    sql = _ROLLUP_SQL.format(
        interaction=connection.ops.quote_name(ContractInteraction._meta.db_table),
        flag=connection.ops.quote_name(WalletFlag._meta.db_table),
        contracts=contracts,
        **dialect,
    )
    read_from = date_from - dt.timedelta(days=LOOKBACK_DAYS)
    params = {
        "project": ContractInteraction._meta.get_field("project").get_db_prep_value(
            project_id, connection
        ),
        "read_from": connection.ops.adapt_datetimefield_value(_utc_midnight(read_from)),
        "read_to": connection.ops.adapt_datetimefield_value(
            _utc_midnight(date_to + dt.timedelta(days=1))
        ),
        "series_from": _day_number(read_from),
        "first": _day_number(date_from),
        "last": _day_number(date_to),
        "confirmed": FlagStatus.CONFIRMED.value,
        "suspected": FlagStatus.SUSPECTED.value,
        **contract_params,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in _SESSION_SETTINGS.get(connection.vendor, ()):
            cursor.execute(statement)
        cursor.execute(sql, params)
        rows: list[tuple[Any, ...]] = cursor.fetchall()  # Django's CursorWrapper is untyped
        return rows


def _dollars(money: Decimal | float | int) -> Decimal:
    """A money sum of the rollup (see `_DIALECTS`) in dollars and cents, never rounded."""
    with decimal.localcontext(prec=100):
        unit = _DIALECTS[connection.vendor]["money_unit"]
        return (Decimal(money) * unit).quantize(Decimal("0.01"))


def volume_flag_reason(volume_usd: Decimal) -> str:
    """Why a day's volume is implausible, or "" when it is not."""
    cap = settings.METRICS_DAILY_VOLUME_CAP_USD
    if volume_usd <= cap:
        return ""
    return f"volume above the daily cap of {cap} USD (METRICS_DAILY_VOLUME_CAP_USD)"


def _metric_from_row(project_id: UUID, row: tuple[Any, ...], now: dt.datetime) -> ActivityMetric:
    day, dau, wau, mau, w14, mau_30, wau_7, tx_count, money, suspected, unpriced = row
    wau, mau, w14, mau_30, wau_7 = (int(v or 0) for v in (wau, mau, w14, mau_30, wau_7))
    bot_share = suspected / dau if dau else 0.0
    score = activity_score_calculate(
        inputs=ScoreInputs(
            dau=dau,
            wau=wau,
            mau=mau,
            mau_30_days_ago=mau_30,
            wau_7_days_ago=wau_7,
            # |A ∩ B| = |A| + |B| − |A ∪ B| with A = t−13…t−7, B = t−6…t.
            retained=wau_7 + wau - w14,
            bot_share=bot_share,
        )
    )
    volume = _dollars(money)
    date = EPOCH + dt.timedelta(days=int(day))
    flag = volume_flag_reason(volume)
    if flag:
        logger.warning(
            "project %s on %s: volume %s USD flagged: %s", project_id, date, volume, flag
        )
    return ActivityMetric(
        project_id=project_id,
        date=date,
        dau=dau,
        wau=wau,
        mau=mau,
        transaction_count=tx_count,
        transaction_volume_usd=volume,
        unpriced_transfers=int(unpriced),
        volume_flag_reason=flag,
        bot_share=round(bot_share, 4),
        activity_score=score.value,
        score_components=score.components,
        computed_at=now,
    )


def metrics_rollup(
    *,
    project_id: UUID,
    date_from: dt.date,
    date_to: dt.date,
    contract_addresses: Sequence[str] | None = None,
) -> list[ActivityMetric]:
    """A project's daily metrics for [date_from, date_to], oldest first, computed and not
    stored; with `contract_addresses`, from the interactions with those contracts only."""
    if date_from > date_to:
        raise ValueError("date_from must not be after date_to")
    rows = _rollup_rows(
        project_id=project_id,
        date_from=date_from,
        date_to=date_to,
        contract_addresses=contract_addresses,
    )
    now = timezone.now()
    return [_metric_from_row(project_id, row, now) for row in rows]


def metrics_save(*, metrics: list[ActivityMetric]) -> int:
    """Upsert daily metrics on (project, date); returns how many."""
    with transaction.atomic():
        ActivityMetric.objects.bulk_create(
            metrics,
            update_conflicts=True,
            unique_fields=["project", "date"],
            update_fields=_UPDATED_FIELDS,
        )
        projects_changed({metric.project_id for metric in metrics})  # the dashboard's cards
    return len(metrics)


def metrics_aggregate(*, project_id: UUID, date_from: dt.date, date_to: dt.date) -> int:
    """Recompute a project's daily metrics for [date_from, date_to]; returns days written."""
    metrics = metrics_rollup(project_id=project_id, date_from=date_from, date_to=date_to)
    return metrics_save(metrics=metrics)


def _chunks(date_from: dt.date, date_to: dt.date) -> Iterator[tuple[dt.date, dt.date]]:
    start = date_from
    while start <= date_to:
        end = min(date_to, start + dt.timedelta(days=BACKFILL_CHUNK_DAYS - 1))
        yield start, end
        start = end + dt.timedelta(days=1)


# What one project's rollup can fail with and the others survive: the database refusing a
# statement or a value, or a figure that does not convert.
ROLLUP_FAILURES = (DatabaseError, ArithmeticError, ValueError)


@dataclasses.dataclass
class BackfillResult:
    written: int = 0  # project-days
    failed: dict[str, str] = dataclasses.field(default_factory=dict)  # project id -> error


def metrics_backfill(
    *,
    date_from: dt.date,
    date_to: dt.date,
    project_id: UUID | str | None = None,
    on_start: Callable[[int], None] | None = None,
    on_step: Callable[[], object] | None = None,
) -> BackfillResult:
    """Aggregate one project (or all) over a range in chunks.

    Each project is computed on its own: one whose rollup fails is logged with its id and
    reported in `failed` (its remaining chunks skipped), and the others are still computed.
    `on_start(total_steps)` and `on_step()` let a command draw a progress bar.
    """
    if date_from > date_to:
        raise ValueError("date_from must not be after date_to")
    projects = Project.objects.order_by("created_at", "id")
    if project_id is not None:
        projects = projects.filter(id=project_id)
    project_ids = list(projects.values_list("id", flat=True))
    if project_id is not None and not project_ids:
        raise Project.DoesNotExist(f"no project {project_id}")
    chunks = list(_chunks(date_from, date_to))
    if on_start:
        on_start(len(project_ids) * len(chunks))
    result = BackfillResult()
    for pid in project_ids:
        for done, (chunk_from, chunk_to) in enumerate(chunks, start=1):
            try:
                result.written += metrics_aggregate(
                    project_id=pid, date_from=chunk_from, date_to=chunk_to
                )
            except ROLLUP_FAILURES as error:
                logger.exception(
                    "metrics of project %s failed (%s to %s)", pid, chunk_from, chunk_to
                )
                first_line = next(iter(str(error).splitlines()), "")
                result.failed[str(pid)] = f"{type(error).__name__}: {first_line}"
                _steps(on_step, len(chunks) - done + 1)
                break
            _steps(on_step, 1)
    return result


def _steps(on_step: Callable[[], object] | None, count: int) -> None:
    if on_step is None:
        return
    for _ in range(count):
        on_step()


def metrics_for_period(
    *, project_id: UUID, date_from: dt.date, date_to: dt.date
) -> QuerySet[ActivityMetric]:
    """The stored daily metrics of a project, oldest first."""
    return ActivityMetric.objects.filter(
        project_id=project_id, date__gte=date_from, date__lte=date_to
    ).order_by("date")
