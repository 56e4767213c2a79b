"""Benchmark: a full PULSE score recalculation over 1,000,000 contributions of 20,000
contributors in 200 teams.

    .venv/bin/python bench/scores.py [--contributions 1000000] [--teams 200]
                                     [--contributors 20000] [--repeat 3]

Loads the data set-based (COPY) into its own PostgreSQL database (BENCH_DATABASE_URL,
default postgres://postgres@127.0.0.1:5432/fab_bench_scores, created and migrated if
missing), then times `scores_calculate()` over every team (target < 15 s) and measures
its peak memory: the Python heap at its highest during one run (tracemalloc) and the
process's peak resident set. Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import random
import resource
import statistics
import sys
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fab_bench_scores"
DAYS = 365
# (type, share of GitHub events)
GITHUB_TYPES = [
    ("commit", 0.45),
    ("pull_request_opened", 0.08),
    ("pull_request_merged", 0.07),
    ("review_approved", 0.07),
    ("review_changes_requested", 0.03),
    ("review_commented", 0.05),
    ("issue_opened", 0.05),
    ("issue_closed", 0.04),
    ("issue_comment", 0.16),
]
DISCORD_TYPES = [("message", 0.55), ("reply", 0.25), ("reaction", 0.15), ("thread_message", 0.05)]


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
    call_command("migrate", "pulse", verbosity=0)


def _picker(table: list[tuple[str, float]]) -> tuple[list[str], list[float]]:
    names = [name for name, _ in table]
    return names, list(itertools.accumulate(weight for _, weight in table))


def contribution_lines(
    *, teams: list[Any], people: dict[Any, list[Any]], rows: int, seed: int = 11
) -> Iterator[str]:
    """COPY text lines. Activity is skewed: within a team a few people do most of it
    (a power law), most events are recent, 5 % come from identities nobody claimed."""
    rng = random.Random(seed)
    github_types, github_cumulative = _picker(GITHUB_TYPES)
    discord_types, discord_cumulative = _picker(DISCORD_TYPES)
    discord_weights = [f"{w:.2f}" for w in (0.05, 0.2, 0.35, 0.6, 0.9, 1.0, 1.2, 1.5, 3.0)]
    now = dt.datetime.now(dt.UTC)
    created = now.isoformat()
    for n in range(rows):
        team = teams[n % len(teams)]
        members = people[team]
        contributor = (
            r"\N" if rng.random() < 0.05 else members[int(len(members) * rng.random() ** 3)].hex
        )
        if rng.random() < 0.7:
            kind = rng.choices(github_types, cum_weights=github_cumulative)[0]
            platform, weight = "github", "1.00"
        else:
            kind = rng.choices(discord_types, cum_weights=discord_cumulative)[0]
            platform, weight = "discord", rng.choice(discord_weights)
        occurred = now - dt.timedelta(days=DAYS * rng.random() ** 1.5)
        verification = "verified" if rng.random() < 0.8 else "self_reported"
        yield (
            f"{team.hex}\t{contributor}\t{platform}\tbench:{n}\t\t{kind}\t{weight}\t{{}}\t"
            f"{occurred.isoformat()}\t{verification}\t\t{created}\n"
        )


def load(args: argparse.Namespace) -> tuple[float, int]:
    from django.db import connection

    from accounts.models import Organization
    from pulse.models import Contribution, Contributor, Team

    with connection.cursor() as cursor:  # its own database: start empty each run
        cursor.execute(
            "TRUNCATE pulse_contribution, pulse_scoresnapshot, pulse_contributor, pulse_team "
            "CASCADE"
        )
    started = time.perf_counter()
    organization, _ = Organization.objects.get_or_create(
        slug="bench-scores", defaults={"name": "Bench scores"}
    )
    teams = Team.objects.bulk_create(
        Team(organization=organization, team_name=f"Bench team {n}", discord_guild_id=str(n + 1))
        for n in range(args.teams)
    )
    rng = random.Random(3)
    contributors = Contributor.objects.bulk_create(
        (
            Contributor(
                id=uuid.uuid4(),
                team=teams[n % len(teams)],
                wallet_address=f"0x{n:040x}",
                github_login=f"dev-{n}",
                discord_id=str(10**17 + n),
                github_identity="linked" if rng.random() < 0.6 else "asserted",
                discord_identity="linked" if rng.random() < 0.4 else "asserted",
            )
            for n in range(args.contributors)
        ),
        batch_size=5000,
    )
    people: dict[Any, list[Any]] = {team.pk: [] for team in teams}
    for contributor in contributors:
        people[contributor.team_id].append(contributor.pk)
    columns = (
        "team_id, contributor_id, platform, source_id, source_login, contribution_type, weight, "
        "metadata, occurred_at, verification, repository, created_at"
    )
    table = Contribution._meta.db_table
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            lines = contribution_lines(
                teams=[t.pk for t in teams], people=people, rows=args.contributions
            )
            while chunk := "".join(itertools.islice(lines, 20_000)):
                copy.write(chunk)
        cursor.execute(f"ANALYZE {table}")
        cursor.execute("ANALYZE pulse_contributor")
    return time.perf_counter() - started, len(contributors)


def reusable(args: argparse.Namespace) -> bool:
    """Whether the database holds what this run would load; if so, its scores are reset so
    the first calculation writes every contributor again."""
    from django.db import connection

    from pulse.models import Contribution, Contributor, Team

    if (
        Contribution.objects.count() != args.contributions
        or Contributor.objects.count() != args.contributors
        or Team.objects.count() != args.teams
    ):
        return False
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE pulse_scoresnapshot")
        cursor.execute(
            "UPDATE pulse_contributor SET contribution_score = 0, verified_contribution_score = 0, "
            "verified_share = NULL, last_active_at = NULL"
        )
        cursor.execute("ANALYZE pulse_contributor")
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--contributions", type=int, default=1_000_000)
    parser.add_argument("--teams", type=int, default=200)
    parser.add_argument("--contributors", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the contributions a previous run loaded (their scores are reset)",
    )
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    ensure_database(url)
    setup_django(url)

    from pulse.models import ScoreSnapshot, Team
    from pulse.services.scores import scores_calculate

    if args.reuse and reusable(args):
        print(f"reusing the {args.contributions:,} contributions loaded before (scores reset)")
    else:
        load_seconds, contributors = load(args)
        print(
            f"loaded {args.contributions:,} contributions of {contributors:,} contributors in "
            f"{args.teams} teams (COPY) in {load_seconds:.1f} s"
        )
    timings = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        run = scores_calculate()
        timings.append(time.perf_counter() - started)
    assert run.teams == args.teams
    tracemalloc.start()
    scores_calculate()
    _, python_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    first, best = timings[0], min(timings)
    print(
        f"full recalculation ({run.teams} teams, {run.contributors:,} contributors): first "
        f"{first:.2f} s (every contributor's figures written), then best {best:.2f} s, "
        f"median {statistics.median(timings):.2f} s of {len(timings)} "
        f"(target < 15 s: {'met' if max(timings) < 15 else 'MISSED'})"
    )
    print(
        f"memory: Python heap peak during one recalculation {python_peak / 2**20:.1f} MiB "
        f"(tracemalloc); process peak RSS {peak_rss_kib / 1024:.0f} MiB (load included)"
    )
    print(f"load average during the run: {os.getloadavg()[0]:.1f} (2 cores)")
    sample = Team.objects.order_by("team_name").first()
    assert sample is not None
    print(
        f"sample: {sample.team_name} vitality {sample.vitality_score}, developer activity "
        f"{sample.developer_activity_score}, retention {sample.team_retention_score}, "
        f"community {sample.community_score}, verified share {sample.verified_share}; "
        f"{ScoreSnapshot.objects.count():,} snapshots stored"
    )


if __name__ == "__main__":
    main()
