"""Benchmark: backup and restore times of the demo data and of a million-click database.

    .venv/bin/python bench/backup.py [--clicks 1000000] [--jobs 2]

Recreates its own database on DATABASE_URL's server (fab_bench_backup, or --database-url),
migrates it and seeds the demo (`seed_demo`'s data), then times `backup_create` (pg_dump's
custom format streamed into the `backups` storage, a local folder under bench/out/backups,
sha256 on the way) and `backup_restore` (checksum, then pg_restore with --jobs workers)
into a second fresh database (its name + `_restore`), and checks that every table has the
same number of rows there. Then it loads --clicks clicks (with their conversions, proven
links and 90 days of metrics) onto a demo campaign with bench/reads.py's set-based loader
and measures both again. Not a test: it prints figures, against the RPO of one hour (a
backup must take well under the hour between two) and the RTO of 15 minutes (restore).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.clicks import recreate_database  # noqa: E402
from bench.reads import database_url, load_history  # noqa: E402

STORE = ROOT / "bench" / "out" / "backups"


def row_counts(url: str) -> dict[str, int]:
    counts = {}
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        ).fetchall()
        for (table,) in tables:
            ((counts[table],),) = conn.execute(f'SELECT count(*) FROM "{table}"').fetchall()
    return counts


def database_size(url: str) -> int:
    with psycopg.connect(url) as conn:
        ((size,),) = conn.execute("SELECT pg_database_size(current_database())").fetchall()
    return int(size)


def measure(label: str, url: str, restore_url: str, jobs: int) -> None:
    from fabrknt.ops.backups import backup_create, backup_restore, database_from_url

    recreate_database(restore_url)
    started = time.perf_counter()
    backup = backup_create()
    backed_up = time.perf_counter() - started
    restored = backup_restore(
        source=str(STORE / backup.name), database=database_from_url(restore_url), jobs=jobs
    )
    source, copy = row_counts(url), row_counts(restore_url)
    assert source == copy, "the restored database differs"
    print(
        f"{label}: {source.get('trace_click', 0):,} clicks, {sum(source.values()):,} rows in "
        f"{len(source)} tables, database {database_size(url) / 2**20:,.0f} MiB\n"
        f"  backup  {backed_up:6.1f} s  dump {backup.size / 2**20:,.1f} MiB "
        f"({backup.size / 2**20 / backed_up:,.1f} MiB/s)\n"
        f"  restore {restored.seconds:6.1f} s  (checksum, pg_restore --jobs={jobs}); every "
        "table's row count equal",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=database_url("fab_bench_backup"))
    parser.add_argument("--clicks", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    restore_url = f"{args.database_url}_restore"

    recreate_database(args.database_url)
    shutil.rmtree(STORE, ignore_errors=True)
    os.environ.update(
        DATABASE_URL=args.database_url,
        DJANGO_SETTINGS_MODULE="fabrknt.settings",
        DJANGO_ENV="development",
        BACKUP_ROOT=str(STORE),
        REDIS_URL="",
        CELERY_BROKER_URL="",
        LOG_LEVEL="WARNING",
        MEDIA_ROOT=str(ROOT / "bench" / "out" / "media"),
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db.models import Count

    from trace.models import Campaign, Project

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    print(f"migrated and seeded the demo in {time.perf_counter() - started:.1f} s")
    measure("demo data", args.database_url, restore_url, args.jobs)

    # The demo's first campaign and its project with the most days of metrics, as
    # bench/reads.py picks them.
    campaign = Campaign.objects.order_by("created_at").first()
    assert campaign is not None
    project = (
        Project.objects.filter(organization=campaign.organization)
        .annotate(days=Count("metrics"))
        .order_by("-days")
        .first()
    )
    assert project is not None
    load_history(
        organization_id=str(campaign.organization_id),
        campaign_id=str(campaign.pk),
        project_id=str(project.pk),
        first=1,
        clicks=args.clicks,
        days=args.days,
    )
    measure(f"demo + {args.clicks:,} clicks", args.database_url, restore_url, args.jobs)


if __name__ == "__main__":
    main()
