"""Benchmark: what one request of each read path costs, measured in-process.

    .venv/bin/python bench/request_cost.py [--requests 200] [--rounds 5] [--clicks 0]
        [--profile LABEL] [--naive-database-url URL] [--no-naive]

bench/reads.py measures throughput with wrk, which a machine shared with other work turns
into noise. This measures what a request costs the server instead, which the load changes
much less: each read path of bench/reads.py is called through the WSGI application
gunicorn serves (`fabrknt.wsgi`, same settings: DEBUG off, persistent database
connections, rate limits raised), `--requests` times a round, and the script prints per
request:

- CPU ms of this process (time.process_time: Python, Django, DRF, templates, drivers,
  the system calls of its sockets), in the best round (the one other work disturbed
  least) and the median round;
- CPU ms of this process's PostgreSQL backend (its /proc/<pid>/stat, when the server runs
  on this machine; 10 ms ticks, so use a few hundred requests): the other half of what a
  request costs the two cores;
- SQL queries and Redis round trips (one write to a Redis socket: a command or a
  pipeline), counted over one more round (an API key held in process is looked up again
  every few seconds, so its paths average slightly above one round trip);
- the ratio of the naive read's CPU ms to the path's: the throughput a CPU-bound server
  would reach, as a share of the naive read's (issue 10's targets: API reads >= 0.6x,
  pages >= 0.25x).

The naive read (bench/naive's `GET /clicks`) is its own Django project, so it is measured
the same way in a child process with its settings, on its own database (created and filled
with 1,000 rows when missing), its rounds interleaved with the app's (`--rounds` rounds,
each of every path in turn), so the ratio compares like moments. The app's database is
DATABASE_URL's (migrated first): the demo is seeded when missing, and `--clicks N` loads N
more clicks onto the demo campaign over 90 days with bench/reads.py's set-based SQL and
rebuilds the rollups. Redis is REDIS_URL's (not flushed). `--profile LABEL` (a row's label, e.g.
"campaign page") then runs pyinstrument over that path's requests and prints where the
time went (PROFILE_ALL=1 shows library frames too).
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
NAIVE_LABEL = "naive 20-row read"


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
    queries: float = 0
    round_trips: float = 0

    def add(self, measured: tuple[float, float, float]) -> None:
        cpu, database, wall = measured
        self.cpu_ms.append(cpu)
        self.db_cpu_ms.append(database)
        self.wall_ms.append(wall)


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


class Runner:
    """Calls targets through the WSGI application: warmed first (keys held, templates
    compiled, connections open), then measured a round at a time."""

    def __init__(self, targets: list[Target]) -> None:
        self.call = wsgi_caller()
        for target in targets:
            for _ in range(3):
                status = self.call(target)
                if status != 200:
                    raise SystemExit(f"{target.label}: {target.path} answered {status}")
        self.db_cpu = backend_cpu_seconds()

    def round(self, target: Target, requests: int) -> tuple[float, float, float]:
        """CPU ms (this process, its database backend) and wall ms per request."""
        wall, cpu, database = time.perf_counter(), time.process_time(), self.db_cpu()
        for _ in range(requests):
            self.call(target)
        return (
            (time.process_time() - cpu) * 1000 / requests,
            (self.db_cpu() - database) * 1000 / requests,
            (time.perf_counter() - wall) * 1000 / requests,
        )

    def counts(self, target: Target, requests: int) -> tuple[float, float]:
        """SQL queries and Redis round trips per request."""
        with counted() as seen:
            for _ in range(requests):
                self.call(target)
        return seen.queries / requests, seen.round_trips / requests


def profiled(call: Callable[[Target], int], target: Target, requests: int) -> None:
    """pyinstrument over `requests` calls: the call tree, then the functions that spent
    the most time themselves."""
    from pyinstrument import Profiler
    from pyinstrument.renderers import ConsoleRenderer

    with Profiler(interval=0.0002) as profiler:
        for _ in range(requests):
            call(target)
    session = profiler.last_session
    assert session is not None
    tree = ConsoleRenderer(unicode=True, show_all=os.environ.get("PROFILE_ALL") == "1")
    print(tree.render(session))
    flat = ConsoleRenderer(unicode=True, flat=True).render(session)
    print("\n".join(flat.splitlines()[:60]))


def app_targets(args: argparse.Namespace) -> list[Target]:
    """The demo (seeded when missing), optionally `--clicks` more, an API key with the
    read scope and the demo operator's session: bench/reads.py's read paths."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db.models import Count
    from django.test import Client

    from accounts.models import Organization
    from accounts.services.api_keys import api_key_issue
    from accounts.services.demo import DEMO_ORGANIZATION_SLUG, demo_accounts_ensure
    from trace.models import Campaign, Project

    call_command("migrate", verbosity=0)
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


class NaiveChild:
    """The naive read, served by bench/naive's own Django in a child process that measures
    a round whenever asked, so its rounds interleave with the app's."""

    def __init__(self, args: argparse.Namespace) -> None:
        import psycopg

        parsed = urlparse(args.naive_database_url)
        name = parsed.path.lstrip("/")
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
        command = [sys.executable, __file__, "--naive-child", f"--requests={args.requests}"]
        self.process = subprocess.Popen(
            command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.queries, self.round_trips = self._answer()

    def _answer(self) -> list[float]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit("the naive read's process ended")
        return json.loads(line)

    def round(self) -> tuple[float, float, float]:
        assert self.process.stdin is not None
        self.process.stdin.write("round\n")
        self.process.stdin.flush()
        cpu, database, wall = self._answer()
        return cpu, database, wall

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


def naive_child(args: argparse.Namespace) -> None:
    """bench/naive's tables and 1,000 rows (when missing), then a round per line read."""
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
    target = Target(NAIVE_LABEL, "/clicks")
    runner = Runner([target])
    print(json.dumps(runner.counts(target, args.requests)), flush=True)
    for _ in sys.stdin:
        print(json.dumps(runner.round(target, args.requests)), flush=True)


def measure(
    targets: list[Target], naive: NaiveChild | None, *, requests: int, rounds: int
) -> dict[str, Cost]:
    """`rounds` rounds, each of every target (the naive read first) in turn."""
    runner = Runner(targets)
    costs = {target.label: Cost() for target in targets}
    if naive is not None:
        costs[NAIVE_LABEL] = Cost(queries=naive.queries, round_trips=naive.round_trips)
    for _ in range(rounds):
        if naive is not None:
            costs[NAIVE_LABEL].add(naive.round())
        for target in targets:
            costs[target.label].add(runner.round(target, requests))
    for target in targets:
        costs[target.label].queries, costs[target.label].round_trips = runner.counts(
            target, requests
        )
    return costs


def report(costs: dict[str, Cost], order: list[str]) -> None:
    naive = costs.get(NAIVE_LABEL)
    print(
        f"{'read':<22} {'CPU ms':>7} {'median':>7} {'DB CPU ms':>9} {'wall ms':>8} "
        f"{'queries':>7} {'Redis RT':>8} {'x naive':>7}"
    )
    for label in order:
        cost = costs[label]
        ratio = f"{min(naive.cpu_ms) / min(cost.cpu_ms):.2f}" if naive else "-"
        print(
            f"{label:<22} {min(cost.cpu_ms):>7.2f} {statistics.median(cost.cpu_ms):>7.2f} "
            f"{statistics.median(cost.db_cpu_ms):>9.2f} {statistics.median(cost.wall_ms):>8.2f} "
            f"{cost.queries:>7.2f} {cost.round_trips:>8.2f} {ratio:>7}"
        )
    rounds = len(next(iter(costs.values())).cpu_ms)
    print(
        f"per request over {rounds} rounds: CPU ms of the best round (the least disturbed by "
        "other work) and the median, the database backend's CPU and the wall time (medians); "
        f"load average {os.getloadavg()[0]:.1f}; x naive = the naive read's CPU ms / the "
        "read's (best rounds; this process only)"
    )


def default_naive_url() -> str:
    parsed = urlparse(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/x"))
    return parsed._replace(path=f"{parsed.path}_naive").geturl()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="requests a round")
    parser.add_argument("--rounds", type=int, default=5)
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
    naive = None if args.no_naive else NaiveChild(args)
    try:
        costs = measure(targets, naive, requests=args.requests, rounds=args.rounds)
    finally:
        if naive is not None:
            naive.close()
    order = [target.label for target in targets]
    if naive is not None:
        order.insert(1, NAIVE_LABEL)
    report(costs, order)
    profiled_targets = [target for target in targets if target.label == args.profile]
    if profiled_targets:
        profiled(Runner(profiled_targets).call, profiled_targets[0], args.requests)


if __name__ == "__main__":
    main()
