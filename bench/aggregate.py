"""Benchmark: daily rollups over 1,000,000 interactions from 50,000 wallets in 90 days.

    .venv/bin/python bench/aggregate.py [--rows 1000000] [--wallets 50000] [--days 90]

Loads the data with COPY into its own PostgreSQL database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/fab_bench_agg, created and migrated if missing), then
times `metrics_aggregate` over the whole range (target < 10 s) and, in the same run, a
naive baseline of per-day COUNT(DISTINCT) queries (3 per day), checks that both give the
same numbers and prints both timings and their ratio. Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fab_bench_agg"
FIRST_DAY = dt.date(2025, 1, 1)


def ensure_database(url: str) -> None:
    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin_url = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fabrknt.settings")
    os.environ["DJANGO_ENV"] = "development"
    import django
    from django.core.management import call_command

    django.setup()
    # Every app: the models the bench writes (organization, project) may need any of them.
    call_command("migrate", verbosity=0)


def generate_lines(*, project_id, rows: int, wallets: int, days: int, seed: int = 42):
    """COPY text lines. Skewed activity: every wallet appears, a few are very active, most
    come and go; every tenth row is a second log of the previous transaction."""
    rng = random.Random(seed)
    home_day = [rng.randrange(days) for _ in range(wallets)]
    line = _line_writer(project_id, rng)
    first = dt.datetime.combine(FIRST_DAY, dt.time.min)
    previous = ("", "", "")
    for i in range(rows):
        if i % 10 == 9 and i > 0:
            yield line(*previous, log_index=1)
            continue
        w = i if i < wallets else int(wallets * rng.random() ** 2)
        day = (home_day[w] + int(rng.expovariate(1 / 12))) % days
        moment = first + dt.timedelta(days=day, seconds=rng.randrange(86400))
        previous = (f"0x{w:040x}", moment.isoformat(" ") + "+00", f"0x{i:064x}")
        yield line(*previous, log_index=0)


def _line_writer(project_id, rng: random.Random):
    """One COPY text line of an interaction (a random value in dollars and cents)."""
    # Columns after the ones that vary: amount, value_usd, occurred_at, source, created_at.
    prefix = f"{project_id.hex}\teip155:8453\t"
    middle = "\t\ttransfer\tETH\t0\t"
    now = dt.datetime.now(dt.UTC).isoformat()

    def line(wallet: str, when: str, tx: str, *, log_index: int) -> str:
        cents = rng.randrange(0, 50000)
        return (
            f"{prefix}{tx}\t{log_index}\tlog:{log_index}\t\t{wallet}\t\t{middle}"
            f"{cents // 100}.{cents % 100:02d}\t{when}\tindexer\t{now}\n"
        )

    return line


def generate_day_lines(*, project_id, day: int, rows: int, wallets: int, first_row: int):
    """COPY text lines of one day (`day` days after FIRST_DAY) for --growth: a steady
    `rows` a day from a population of wallets that grows by `wallets` a day (a few very
    active, most come and go); every tenth row a second log of the previous transaction."""
    rng = random.Random(day)
    line = _line_writer(project_id, rng)
    population = wallets * (day + 1)
    midnight = dt.datetime.combine(FIRST_DAY + dt.timedelta(days=day), dt.time.min)
    previous = ("", "", "")
    for i in range(first_row, first_row + rows):
        if i % 10 == 9 and i > first_row:
            yield line(*previous, log_index=1)
            continue
        # A wallet new today first, then the whole population, skewed towards the oldest.
        offset = i - first_row
        w = (
            population - wallets + offset
            if offset < wallets
            else int(population * rng.random() ** 2)
        )
        moment = midnight + dt.timedelta(seconds=rng.randrange(86400))
        previous = (f"0x{w:040x}", moment.isoformat(" ") + "+00", f"0x{i:064x}")
        yield line(*previous, log_index=0)


def empty_project():
    """The bench's project, its interactions, flags and metrics emptied (its own database:
    every run starts from empty tables)."""
    from django.db import connection

    from accounts.models import Organization
    from trace.models import Project

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE trace_contractinteraction, trace_walletflag, trace_activitymetric")
    organization, _ = Organization.objects.get_or_create(
        slug="bench-aggregate", defaults={"name": "Bench aggregate"}
    )
    project, _ = Project.objects.get_or_create(
        organization=organization, name="Bench", defaults={"chain": "eip155:8453"}
    )
    return project


def copy_lines(lines) -> float:
    """COPY the lines into the interactions table and ANALYZE it; the seconds it took."""
    from django.db import connection

    from trace.models import ContractInteraction

    table = ContractInteraction._meta.db_table
    columns = (
        "project_id, chain, transaction_hash, log_index, transfer_position, block_hash, "
        "wallet_address, "
        "from_address, to_address, contract_address, event_type, asset, amount, value_usd, "
        "occurred_at, source, created_at"
    )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            while chunk := "".join(itertools.islice(lines, 20_000)):
                copy.write(chunk)
        cursor.execute(f"ANALYZE {table}")
    return time.perf_counter() - started


def flag_wallets(project, wallets: int) -> None:
    """1,500 of the first `wallets` wallets flagged: 500 confirmed bots, 1,000 suspected."""
    from django.db import connection

    from trace.models import WalletFlag

    rng = random.Random(7)
    flagged = rng.sample(range(wallets), 1500)
    WalletFlag.objects.bulk_create(
        WalletFlag(
            project=project,
            wallet_address=f"0x{w:040x}",
            reason="bench",
            score=0.9,
            status="confirmed" if n < 500 else "suspected",
        )
        for n, w in enumerate(flagged)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE trace_walletflag")


def load(args) -> tuple:
    project = empty_project()
    load_seconds = copy_lines(
        generate_lines(project_id=project.id, rows=args.rows, wallets=args.wallets, days=args.days)
    )
    flag_wallets(project, args.wallets)
    return project, load_seconds


NAIVE_SQL = """
SELECT COUNT(DISTINCT i.wallet_address){extra}
FROM trace_contractinteraction i
WHERE i.project_id = %s AND i.occurred_at >= %s AND i.occurred_at < %s
  AND NOT EXISTS (SELECT 1 FROM trace_walletflag f WHERE f.project_id = i.project_id
                  AND f.wallet_address = i.wallet_address AND f.status = 'confirmed')
"""
DAY_EXTRA = """, COUNT(DISTINCT i.transaction_hash), COALESCE(SUM(i.value_usd), 0),
  COUNT(DISTINCT i.wallet_address) FILTER (WHERE EXISTS (
      SELECT 1 FROM trace_walletflag s WHERE s.project_id = i.project_id
      AND s.wallet_address = i.wallet_address AND s.status = 'suspected'))"""


def naive_baseline(project, days: int) -> dict:
    """What one would write first: three COUNT(DISTINCT) queries per day."""
    from django.db import connection

    results = {}
    with connection.cursor() as cursor:
        for offset in range(days):
            day = FIRST_DAY + dt.timedelta(days=offset)
            end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
            counts = []
            for width in (1, 7, 30):
                begin = end - dt.timedelta(days=width)
                extra = DAY_EXTRA if width == 1 else ""
                cursor.execute(NAIVE_SQL.format(extra=extra), [project.id, begin, end])
                counts.append(cursor.fetchone())
            dau, tx_count, volume, suspected = counts[0]
            share = round(suspected / dau, 4) if dau else 0.0
            results[day] = (dau, counts[1][0], counts[2][0], tx_count, volume, share)
    return results


def load_days(project, *, first: int, last: int, per_day: int, wallets: int) -> float:
    """COPY days first..last - 1 (days after FIRST_DAY), `per_day` interactions each."""
    return copy_lines(
        itertools.chain.from_iterable(
            generate_day_lines(
                project_id=project.id,
                day=day,
                rows=per_day,
                wallets=wallets,
                first_row=day * per_day,
            )
            for day in range(first, last)
        )
    )


def growth(args, sizes: list[int]) -> None:
    """--growth: history grows at a steady --rows/--days interactions a day up to each size
    (loaded incrementally with COPY); at each size, time the rollup of the whole range (the
    backfill the `aggregate_metrics` task runs for a range) and, after one more day is
    loaded, the daily run (`aggregate_metrics` with no range: yesterday and today, here the
    new day and the one before). A daily run that reads only its window stays flat."""
    from trace.tasks import aggregate_metrics

    project = empty_project()
    flag_wallets(project, args.wallets)
    per_day = args.rows // args.days
    wallets_per_day = max(1, args.wallets // args.days)
    days = 0
    table = []
    for size in sorted(sizes):
        target = max(days + 1, size // per_day)
        load_seconds = load_days(
            project, first=days, last=target, per_day=per_day, wallets=wallets_per_day
        )
        days = target
        print(
            f"history {days * per_day:,} interactions over {days} days "
            f"(loaded {load_seconds:.0f} s; load average {os.getloadavg()[0]:.1f})",
            flush=True,
        )
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        backfill = aggregate_metrics(
            project_id=str(project.id),
            date_from=FIRST_DAY.isoformat(),
            date_to=(FIRST_DAY + dt.timedelta(days=days - 1)).isoformat(),
        )
        full_seconds = time.perf_counter() - started
        assert backfill == {"written": days, "failed": {}}, backfill
        print(f"  whole range ({days} days): {full_seconds:.2f} s", flush=True)

        load_days(project, first=days, last=days + 1, per_day=per_day, wallets=wallets_per_day)
        days += 1
        new_day = FIRST_DAY + dt.timedelta(days=days - 1)
        daily = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            run = aggregate_metrics(
                project_id=str(project.id),
                date_from=(new_day - dt.timedelta(days=1)).isoformat(),
                date_to=new_day.isoformat(),
            )
            daily.append(time.perf_counter() - started)
            assert run == {"written": 2, "failed": {}}, run
        print(
            f"  daily run (one new day, {new_day}): median {statistics.median(daily):.3f} s "
            f"of {args.repeat}",
            flush=True,
        )
        loads = f"{load_before:.1f} -> {os.getloadavg()[0]:.1f}"
        table.append(
            ((days - 1) * per_day, days - 1, full_seconds, statistics.median(daily), loads)
        )

    print(
        f"\n{per_day:,} interactions a day, {wallets_per_day:,} new wallets a day; "
        f"{os.cpu_count()} CPUs shared with PostgreSQL and whatever else runs\n"
    )
    print(
        f"{'interactions':>12} {'days':>5} {'whole range s':>14} "
        f"{'daily run s (+1 day)':>20}  load avg"
    )
    for rows, span, full_seconds, daily_seconds, loads in table:
        print(f"{rows:>12,} {span:>5} {full_seconds:>14.2f} {daily_seconds:>20.3f}  {loads}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--wallets", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--growth",
        help="sizes, e.g. 1000000,3000000,10000000: history grows at --rows/--days a day; "
        "times the whole range and the daily run at each size",
    )
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    ensure_database(url)
    setup_django(url)
    if args.growth:
        growth(args, [int(size) for size in args.growth.split(",")])
        return

    from trace.models import ActivityMetric
    from trace.services.metrics import metrics_aggregate

    project, load_seconds = load(args)
    print(
        f"loaded {args.rows:,} interactions from {args.wallets:,} wallets over "
        f"{args.days} days with COPY in {load_seconds:.1f} s"
    )

    last_day = FIRST_DAY + dt.timedelta(days=args.days - 1)
    timings = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        written = metrics_aggregate(project_id=project.id, date_from=FIRST_DAY, date_to=last_day)
        timings.append(time.perf_counter() - started)
    assert written == args.days

    started = time.perf_counter()
    naive = naive_baseline(project, args.days)
    naive_seconds = time.perf_counter() - started

    ours = {
        m.date: (m.dau, m.wau, m.mau, m.transaction_count, m.transaction_volume_usd, m.bot_share)
        for m in ActivityMetric.objects.filter(project=project)
    }
    identical = ours == naive
    best, median = min(timings), statistics.median(timings)
    print(
        f"metrics_aggregate, {args.days} days in one query: first {timings[0]:.2f} s, "
        f"best {best:.2f} s, median {median:.2f} s (target < 10 s)"
    )
    print(f"naive baseline, {args.days * 3} COUNT(DISTINCT) queries: {naive_seconds:.2f} s")
    print(f"speed-up: {naive_seconds / median:.1f}x (median)")
    peak = max(ours.values(), key=lambda v: v[2])
    print(f"peak MAU {peak[2]:,}; last day DAU/WAU/MAU {ours[last_day][:3]}")
    print(f"identical numbers: {'yes' if identical else 'NO'}")
    if not identical:
        for day in sorted(ours):
            if ours[day] != naive.get(day):
                print(f"  {day}: ours {ours[day]} naive {naive.get(day)}")
                break
        sys.exit(1)


if __name__ == "__main__":
    main()
