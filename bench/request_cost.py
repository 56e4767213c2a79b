"""Benchmark: what one request of each read path costs, measured in-process.

    .venv/bin/python bench/request_cost.py [--requests 200] [--rounds 3] [--clicks 0]
        [--profile LABEL] [--naive-database-url URL]

bench/reads.py measures throughput with wrk, which a machine shared with other work turns
into noise. This measures what a request costs the server instead, which the load does not
change much: each read path of bench/reads.py is called through the WSGI application
gunicorn serves (`fabrknt.wsgi`, same settings: DEBUG off, persistent database
connections, rate limits raised), `--requests` times a round, `--rounds` rounds
interleaved, and the script prints per request:

- CPU ms of this process (time.process_time: Python, Django, DRF, templates, drivers),
  median over the rounds;
- CPU ms of this process's PostgreSQL backend (its /proc/<pid>/stat, when the server runs
  on this machine): the other half of what a request costs the two cores;
- SQL queries and Redis round trips (one write to a Redis socket: a command or a
  pipeline), counted on one more request;
- the ratio of the naive read's CPU ms to the path's: the throughput a CPU-bound server
  would reach, as a share of the naive read's (issue 10's targets: API reads >= 0.6x,
  pages >= 0.25x).

The naive read (bench/naive's `GET /clicks`) is its own Django project, so it is measured
the same way in a child process with its settings, on its own database (created and filled
with 1,000 rows when missing). The app's database is DATABASE_URL's: the demo is seeded
when missing, and `--clicks N` loads N more clicks onto the demo campaign over 90 days with
bench/reads.py's set-based SQL and rebuilds the rollups. Redis is REDIS_URL's (not
flushed). `--profile LABEL` (a row's label, e.g. "campaign page") also runs pyinstrument
over that path's requests and prints where the time went.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
NAIVE = ROOT / "bench" / "naive"
RAISED = str(10**9)
HOST = "localhost"


@dataclass
class Target:
    label: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Cost:
    cpu_ms: list[float] = field(default_factory=list)
    db_cpu_ms: list[float] = field(default_factory=list)
    wall_ms: list[float] = field(default_factory=list)
    queries: int = 0
    round_trips: int = 0


def wsgi_caller() -> Callable[[Target], int]:
    """Calls the WSGI application as gunicorn does (the response iterated and closed, so
    request_finished runs); returns the status code."""
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()

    def call(target: Target) -> int:
        path, _, query = target.path.partition("?")
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SCRIPT_NAME": "",
            "SERVER_NAME": HOST,
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": HOST,
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0),
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        for name, value in target.headers.items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        status: list[str] = []

        def start_response(line, headers, exc_info=None):
            status.append(line)
            return lambda data: None

        body = application(environ, start_response)
        try:
            for _ in body:
                pass
        finally:
            body.close()
        return int(status[0].split()[0])

    return call


def backend_cpu_seconds() -> Callable[[], float]:
    """CPU seconds used so far by this connection's PostgreSQL backend (0 when the server
    is not on this machine)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    stat = Path(f"/proc/{pid}/stat")
    ticks = os.sysconf("SC_CLK_TCK")

    def read() -> float:
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime

    return read


@contextmanager
def counted() -> Iterator[Cost]:
    """Counts the SQL queries and Redis round trips (one packed write per command or
    pipeline, where redis-py writes to its socket) made inside."""
    from django.db import connection
    from redis.connection import AbstractConnection

    cost = Cost()
    send = AbstractConnection.send_packed_command

    def counting(self, command, check_health=True):
        cost.round_trips += 1
        return send(self, command, check_health)

    def query(execute, sql, params, many, context):
        cost.queries += 1
        return execute(sql, params, many, context)

    AbstractConnection.send_packed_command = counting  # type: ignore[method-assign]
    try:
        with connection.execute_wrapper(query):
            yield cost
    finally:
        AbstractConnection.send_packed_command = send  # type: ignore[method-assign]


def measure(
    targets: list[Target], *, requests: int, rounds: int, profile: str | None
) -> dict[str, Cost]:
    """Every target warmed (keys held, templates compiled, connections open), then
    `rounds` interleaved rounds of `requests` calls each, then one counted call."""
    call = wsgi_caller()
    for target in targets:
        for _ in range(3):
            status = call(target)
            if status != 200:
                raise SystemExit(f"{target.label}: {target.path} answered {status}")
    db_cpu = backend_cpu_seconds()
    costs = {target.label: Cost() for target in targets}
    for _ in range(rounds):
        for target in targets:
            cost = costs[target.label]
            wall, cpu, database = time.perf_counter(), time.process_time(), db_cpu()
            for _ in range(requests):
                call(target)
            cost.cpu_ms.append((time.process_time() - cpu) * 1000 / requests)
            cost.db_cpu_ms.append((db_cpu() - database) * 1000 / requests)
            cost.wall_ms.append((time.perf_counter() - wall) * 1000 / requests)
    for target in targets:
        with counted() as seen:
            call(target)
        costs[target.label].queries = seen.queries
        costs[target.label].round_trips = seen.round_trips
        if target.label == profile:
            from pyinstrument import Profiler

            with Profiler(interval=0.0002) as profiler:
                for _ in range(requests):
                    call(target)
            print(profiler.output_text(unicode=True, color=False, show_all=False))
    return costs


def app_targets(args: argparse.Namespace) -> list[Target]:
    """The demo (seeded when missing), optionally `--clicks` more, an API key with the
    read scope and the demo operator's session: bench/reads.py's read paths."""
    from django.conf import settings
    from django.db.models import Count
    from django.test import Client

    from accounts.models import Organization
    from accounts.services.api_keys import api_key_issue
    from accounts.services.demo import DEMO_ORGANIZATION_SLUG, demo_accounts_ensure
    from trace.models import Campaign, Project

    if not Campaign.objects.filter(organization__slug=DEMO_ORGANIZATION_SLUG).exists():
        from trace.services.demo import trace_demo_seed

        accounts = demo_accounts_ensure()
        trace_demo_seed(organization=accounts.organization, reviewer=accounts.user)
    accounts = demo_accounts_ensure()
    organization: Organization = accounts.organization
    campaign = Campaign.objects.filter(organization=organization).order_by("created_at").first()
    project = (
        Project.objects.filter(organization=organization)
        .annotate(days=Count("metrics"))
        .order_by("-days")
        .first()
    )
    assert campaign is not None and project is not None
    if args.clicks:
        from django.db import connection

        from bench.reads import load_history, rebuild_rollups

        with connection.cursor() as cursor:
            cursor.execute("SELECT coalesce(max(id), 0) FROM trace_click")
            first = cursor.fetchone()[0] + 1
        load_history(
            organization_id=str(organization.pk),
            campaign_id=str(campaign.pk),
            project_id=str(project.pk),
            first=first,
            clicks=args.clicks,
            days=90,
        )
        rebuild_rollups()
    key = api_key_issue(organization=organization, name="bench request cost", scopes=["read"])
    client = Client()
    client.force_login(accounts.user)
    api = {"X-API-Key": key.key}
    cookie = settings.SESSION_COOKIE_NAME
    page = {"Cookie": f"{cookie}={client.cookies[cookie].value}"}
    return [
        Target("/healthz", "/healthz"),
        Target("campaign detail", f"/api/v1/campaigns/{campaign.pk}", api),
        Target("ROI", f"/api/v1/roi/{campaign.pk}", api),
        Target("metrics", f"/api/v1/metrics/{project.pk}", api),
        Target("campaign list", "/api/v1/campaigns", api),
        Target("dashboard page", "/trace/", page),
        Target("campaign page", f"/trace/campaigns/{campaign.pk}/", page),
    ]


def naive_measure(args: argparse.Namespace) -> dict[str, float | int]:
    """The naive read in a child process with bench/naive's settings (its own Django)."""
    parsed = urlparse(args.naive_database_url)
    name = parsed.path.lstrip("/")
    import psycopg

    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "naive.settings",
            "DATABASE_URL": args.naive_database_url,
            "CONN_MAX_AGE": "600",
        }
    )
    command = [
        sys.executable,
        __file__,
        "--naive-child",
        f"--requests={args.requests}",
        f"--rounds={args.rounds}",
    ]
    output = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def naive_child(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(NAIVE))
    import django

    django.setup()
    from django.core.management import call_command
    from naive.models import Click  # type: ignore[import-not-found]

    call_command("migrate", verbosity=0)
    if not Click.objects.exists():
        Click.objects.bulk_create(
            Click(
                campaign="bench",
                click_id=f"c{i}",
                referrer="https://x.example/",
                utm_params={"utm_source": "bench"},
            )
            for i in range(1000)
        )
    target = Target("naive 20-row read", "/clicks")
    cost = measure([target], requests=args.requests, rounds=args.rounds, profile=None)[target.label]
    print(json.dumps(summary(cost)))


def summary(cost: Cost) -> dict[str, float | int]:
    return {
        "cpu_ms": statistics.median(cost.cpu_ms),
        "db_cpu_ms": statistics.median(cost.db_cpu_ms),
        "wall_ms": statistics.median(cost.wall_ms),
        "queries": cost.queries,
        "round_trips": cost.round_trips,
    }


def report(rows: list[tuple[str, dict[str, float | int]]], naive_cpu: float | None) -> None:
    print(
        f"{'read':<22} {'CPU ms':>7} {'DB CPU ms':>9} {'wall ms':>8} {'queries':>7} "
        f"{'Redis RT':>8} {'x naive':>7}"
    )
    for label, row in rows:
        ratio = f"{naive_cpu / row['cpu_ms']:.2f}" if naive_cpu else "-"
        print(
            f"{label:<22} {row['cpu_ms']:>7.2f} {row['db_cpu_ms']:>9.2f} {row['wall_ms']:>8.2f} "
            f"{row['queries']:>7} {row['round_trips']:>8} {ratio:>7}"
        )
    print(
        f"per request, median of the rounds; load average {os.getloadavg()[0]:.1f}; "
        "x naive = the naive read's CPU ms / the read's (this process only)"
    )


def default_naive_url() -> str:
    parsed = urlparse(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/x"))
    return parsed._replace(path=f"{parsed.path}_naive").geturl()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="requests a round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clicks", type=int, default=0, help="load this many more clicks")
    parser.add_argument("--profile", help="a row's label: profile it with pyinstrument")
    parser.add_argument("--naive-database-url", default=default_naive_url())
    parser.add_argument("--no-naive", action="store_true")
    parser.add_argument("--naive-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.update({"DEBUG": "false", "LOG_LEVEL": "WARNING", "CONN_MAX_AGE": "600"})
    if args.naive_child:
        naive_child(args)
        return
    naive = None if args.no_naive else naive_measure(args)
    sys.path.insert(0, str(ROOT))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "fabrknt.settings",
            "RATE_LIMIT_ANONYMOUS": RAISED,
            "RATE_LIMIT_USER": RAISED,
            "RATE_LIMIT_API_KEY": RAISED,
        }
    )
    import django

    django.setup()
    targets = app_targets(args)
    costs = measure(targets, requests=args.requests, rounds=args.rounds, profile=args.profile)
    rows = [(label, summary(cost)) for label, cost in costs.items()]
    if naive:
        rows.insert(1, ("naive 20-row read", naive))
    report(rows, float(naive["cpu_ms"]) if naive else None)


if __name__ == "__main__":
    main()
