"""Benchmark: the read endpoints and pages against a naive 20-row read, on a big campaign.

    .venv/bin/python bench/reads.py [--clicks 1000000] [--duration 10] [--connections 64]

Serves the app with gunicorn (deploy/gunicorn.conf.py, 4 sync workers) on PostgreSQL and
Redis (DATABASE_URL's server, its own database fab_bench_reads, recreated and migrated;
REDIS_URL as set, not flushed; the rate limits raised: it measures capacity, not the
allowance), seeds the demo (seed_demo's organization, campaigns, projects and daily
metrics), loads --clicks clicks with COPY onto one demo campaign over the last 90 days,
and serves the naive baseline (bench/naive, its own database fab_bench_naive on the same
server) with a second gunicorn. In one run, wrk closed loop (64 connections, 2 threads,
--duration s each) measures /healthz, the naive 20-row read, campaign detail, ROI,
metrics, the campaign list (an API key with the read scope, X-API-Key), the /trace/
dashboard and the campaign page (a signed-in session's cookie), and prints throughput,
p50, p99 and the ratio to the naive read. The open-loop part (p99 at a fixed offered
rate) is not written yet. Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import random
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.clicks import (  # noqa: E402
    bench_env,
    django_setup,
    recreate_database,
    start_server,
    stop,
    wrk,
)

NAIVE = ROOT / "bench" / "naive"
RAISED = str(10**9)


def database_url(name: str) -> str:
    """DATABASE_URL's server, another database."""
    parsed = urlparse(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/x"))
    return parsed._replace(path=f"/{name}").geturl()


def app_env(args: argparse.Namespace) -> dict[str, str]:
    env = bench_env(args)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "fabrknt.settings",
            "RATE_LIMIT_ANONYMOUS": RAISED,
            "RATE_LIMIT_USER": RAISED,
            "RATE_LIMIT_API_KEY": RAISED,
        }
    )
    return env


def naive_env(args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "naive.settings",
            "DATABASE_URL": args.naive_database_url,
            "CONN_MAX_AGE": "600",
            "GUNICORN_BIND": f"127.0.0.1:{args.naive_port}",
            "GUNICORN_WORKER_CLASS": "sync",
            "WEB_CONCURRENCY": str(args.workers),
            "GUNICORN_THREADS": "1",
            "GUNICORN_LOG_LEVEL": "warning",
            "GUNICORN_MAX_REQUESTS": "0",
        }
    )
    return env


def naive_prepare(env: dict[str, str], rows: int = 1000) -> None:
    """Its tables (its own migrations) and `rows` clicks, through its own manage.py."""
    recreate_database(env["DATABASE_URL"])
    manage = [sys.executable, str(NAIVE / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], cwd=NAIVE, env=env, check=True)
    fill = (
        "from naive.models import Click; Click.objects.bulk_create("
        f"Click(campaign='bench', click_id=f'c{{i}}', referrer='https://x.example/', "
        f"utm_params={{'utm_source': 'bench'}}) for i in range({rows}))"
    )
    subprocess.run([*manage, "shell", "-c", fill], cwd=NAIVE, env=env, check=True)


def click_lines(
    *, organization_id: object, campaign_id: object, clicks: int, days: int, seed: int = 42
):
    """COPY text lines: clicks spread over the last `days` days, 3% bots, 50,000 visitors."""
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC)
    span = days * 86400
    head = f"{organization_id}\t{campaign_id}\t"
    tail = "\tMozilla/5.0 (bench)\thttps://ref.example/\t{}\t"
    for i in range(clicks):
        when = (now - dt.timedelta(seconds=rng.randrange(span))).isoformat()
        bot = "t\tbench" if rng.random() < 0.03 else "f\t"
        visitor = f"{rng.randrange(50_000):064x}"
        yield f"{head}bench-{i}\t{when}\t10.0.{i % 256}.0\t{visitor}{tail}{bot}\tf\tf\n"


def seed(args: argparse.Namespace) -> dict[str, str]:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.test import Client

    from accounts.services.api_keys import api_key_issue
    from accounts.services.demo import demo_accounts_ensure
    from trace.models import Campaign, Project
    from trace.services.demo import trace_demo_seed

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    accounts = demo_accounts_ensure()
    trace_demo_seed(organization=accounts.organization, reviewer=accounts.user)
    organization = accounts.organization
    campaign = Campaign.objects.filter(organization=organization).order_by("created_at").first()
    project = (
        Project.objects.filter(organization=organization)
        .annotate(days=Count("metrics"))
        .order_by("-days")
        .first()
    )
    assert campaign is not None and project is not None
    print(f"migrated and seeded the demo in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    columns = (
        "organization_id, campaign_id, click_id, occurred_at, ip_address, visitor_hash, "
        "user_agent, referrer, utm_params, is_bot, bot_reason, during_pause, details_erased"
    )
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY trace_click ({columns}) FROM STDIN") as copy:
            lines = click_lines(
                organization_id=organization.pk,
                campaign_id=campaign.pk,
                clicks=args.clicks,
                days=args.days,
            )
            while chunk := "".join(itertools.islice(lines, 20_000)):
                copy.write(chunk)
        cursor.execute("ANALYZE trace_click")
    print(
        f"loaded {args.clicks:,} clicks over {args.days} days onto campaign {campaign.pk} "
        f"with COPY in {time.perf_counter() - started:.1f} s"
    )

    issued = api_key_issue(organization=organization, name="bench reads", scopes=["read"])
    client = Client()
    client.force_login(accounts.user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    connection.close()
    return {
        "campaign": str(campaign.pk),
        "project": str(project.pk),
        "api": f"X-API-Key: {issued.key}",
        "page": f"Cookie: {settings.SESSION_COOKIE_NAME}={session}",
    }


def check(port: int, path: str, header: str | None) -> None:
    """Each measured URL answers 200 (not a redirect to sign-in, not an error)."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")  # noqa: S310
    if header:
        name, value = header.split(": ", 1)
        request.add_header(name, value)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *_args, **_kwargs):
            return None

    with urllib.request.build_opener(NoRedirect).open(request, timeout=30) as reply:
        if reply.status != 200:
            raise SystemExit(f"{path} answered {reply.status}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clicks", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=8775)
    parser.add_argument("--naive-port", type=int, default=8776)
    parser.add_argument("--database-url", default=database_url("fab_bench_reads"))
    parser.add_argument("--naive-database-url", default=database_url("fab_bench_naive"))
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/12")
    )
    args = parser.parse_args()
    args.worker_class, args.threads = "sync", 1
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")

    env = app_env(args)
    recreate_database(args.database_url)
    django_setup(env)
    seeded = seed(args)
    naive = naive_env(args)
    naive_prepare(naive)

    campaign, project = seeded["campaign"], seeded["project"]
    # (label, port, path, header)
    targets = [
        ("GET /healthz (floor)", args.port, "/healthz", None),
        ("naive 20-row read (bench/naive)", args.naive_port, "/clicks", None),
        ("GET /api/v1/campaigns/{id}", args.port, f"/api/v1/campaigns/{campaign}", "api"),
        ("GET /api/v1/roi/{id}", args.port, f"/api/v1/roi/{campaign}", "api"),
        ("GET /api/v1/metrics/{project}", args.port, f"/api/v1/metrics/{project}", "api"),
        ("GET /api/v1/campaigns", args.port, "/api/v1/campaigns", "api"),
        ("page /trace/ (dashboard)", args.port, "/trace/", "page"),
        ("page /trace/campaigns/{id}/", args.port, f"/trace/campaigns/{campaign}/", "page"),
    ]
    server = start_server(env, args.port)
    naive_server = start_server(
        naive, args.naive_port, app="naive.wsgi:application", chdir=NAIVE, ready_path="/clicks"
    )
    results = []
    try:
        for label, port, path, kind in targets:
            header = seeded[kind] if kind else None
            check(port, path, header)
            serving = naive_server if port == args.naive_port else server

            def measure(
                seconds: int,
                connections: int = args.connections,
                port=port,
                path=path,
                header=header,
                serving=serving,
            ):
                return wrk(
                    args,
                    serving,
                    script="plain_get.lua",
                    path=path,
                    script_args=["-"],
                    connections=connections,
                    duration=seconds,
                    port=port,
                    headers=(header,) if header else (),
                )

            # Warm every worker's imports, caches and connections with one connection a
            # worker, so no backlog is left queued in gunicorn for the timed run to wait on;
            # then one request more, answered once what the warm-up sent is done.
            measure(2, connections=max(args.wrk_threads, args.workers))
            check(port, path, header)
            results.append((label, measure(args.duration)))
    finally:
        stop(server)
        stop(naive_server)

    naive_rps = results[1][1]["rps"]
    print(
        f"\n{args.clicks:,} clicks on one campaign over {args.days} days; gunicorn sync "
        f"workers={args.workers} (app and naive each); wrk -t{args.wrk_threads} "
        f"-c{args.connections} -d{args.duration}s closed loop; {os.cpu_count()} CPUs shared "
        "by servers, wrk, PostgreSQL and Redis\n"
    )
    print(f"{'':<34} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'x naive':>8}  errors")
    for label, run in results:
        errors = run["requests"] - run["ok"] + run["connect_errors"] + run["read_errors"]
        errors += run["write_errors"] + run["timeouts"]
        print(
            f"{label:<34} {run['rps']:>9,.1f} {run['p50_us'] / 1000:>8.1f} "
            f"{run['p99_us'] / 1000:>8.1f} {run['rps'] / naive_rps:>8.3f}  {errors}"
        )
    print("\nopen loop (p99 at a fixed offered rate): not measured yet")


if __name__ == "__main__":
    main()
