"""Benchmark: the click fast path against a naive DRF baseline, and the batch endpoint.

    .venv/bin/python bench/clicks.py [--duration 15] [--connections 64]

Serves the app with gunicorn (deploy/gunicorn.conf.py) on 127.0.0.1 against PostgreSQL
(its own database fab_bench, recreated) and Redis (db 12, flushed), seeds an organization,
a campaign and an ingest key, and drives it with wrk (Debian's package; a Lua script gives
every request unique click ids). In one run it prints clicks/s and p50/p99 latency for
(a) POST /api/v1/clicks (served by the lean ingest handler, fabrknt/handlers.py) and the
same view behind Django's whole middleware stack, (b) a naive baseline in the same server
(a DRF ModelSerializer and one ORM insert per request, bench/click_baseline.py), (b') the
naive first version's click insert (bench/naive's `clicks/new`: a standalone minimal Django
project, its own database fab_bench_naive, served by a second gunicorn with the same
settings and worker count/class, as bench/reads.py serves it; --pairs more interleaved
naive / fast-path measurements for the ratio), GET /healthz as the floor
of the full middleware stack, and (c) POST /api/v1/clicks/batch with
500 clicks a request, drained into PostgreSQL by a concurrent flusher (clicks/s counted
until the last row is stored). Then it counts rows: every accepted click must be stored
exactly once. The load generator shares the 2 cores; its CPU time is printed too.
Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/fab_bench"
BENCH_REDIS_URL = "redis://127.0.0.1:6379/12"
NAIVE_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/fab_bench_naive"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def bench_env(args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.click_settings",
            "DJANGO_ENV": "development",
            "DATABASE_URL": args.database_url,
            "REDIS_URL": args.redis_url,
            "CELERY_BROKER_URL": "",
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            "CONN_MAX_AGE": "600",
            # The bench measures capacity, not the per-key allowance.
            "RATE_LIMIT_INGEST": str(10**9),
            "RATE_LIMIT_API_KEY": str(10**9),
            "GUNICORN_BIND": f"127.0.0.1:{args.port}",
            "GUNICORN_WORKER_CLASS": args.worker_class,
            "WEB_CONCURRENCY": str(args.workers),
            # More than one thread would turn the sync workers into gthread ones.
            "GUNICORN_THREADS": str(args.threads if args.worker_class == "gthread" else 1),
            "GUNICORN_LOG_LEVEL": "warning",
            "GUNICORN_MAX_REQUESTS": "0",
        }
    )
    return env


def recreate_database(url: str) -> None:
    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def django_setup(env: dict[str, str]) -> None:
    os.environ.update(env)
    import django

    django.setup()


def seed() -> dict[str, str]:
    from django.core.management import call_command

    from accounts.models import Organization
    from accounts.services.api_keys import api_key_issue
    from trace.models import Campaign

    call_command("migrate", run_syncdb=True, verbosity=0)
    organization = Organization.objects.create(name="Bench", slug="bench")
    campaign = Campaign.objects.create(
        organization=organization, name="Bench", landing_url="https://app.example.com/"
    )
    issued = api_key_issue(organization=organization, name="bench", scopes=["ingest"])
    return {"campaign": str(campaign.pk), "key": issued.key}


def flush_all() -> tuple[int, float]:
    from django.db import connection

    from trace.services.clicks.flush import clicks_flush

    started = time.perf_counter()
    inserted = clicks_flush(batch_size=5000).inserted
    connection.close()
    return inserted, time.perf_counter() - started


def count(prefix: str) -> int:
    from django.db import connection

    from trace.models import Click

    rows = Click.objects.filter(click_id__startswith=f"{prefix}-").count()
    connection.close()
    return rows


def accepted_so_far(campaign_id: str) -> int:
    """Clicks the server accepted (its real-time Redis counter), in flight ones included:
    wrk stops counting responses at its deadline, the server does not."""
    import datetime as dt

    from trace.selectors import campaign_realtime_clicks

    realtime = campaign_realtime_clicks(campaign_id=campaign_id, day=dt.datetime.now(dt.UTC))
    if realtime is None:
        raise SystemExit("the click bench needs Redis (REDIS_URL)")
    return realtime.clicks


def accepted_settled(campaign_id: str) -> int:
    """`accepted_so_far` once the requests in flight at wrk's deadline are answered: on the
    loaded machine a batch request can take over a second, so wait until the count holds
    still for half a second (at most 30 s)."""
    latest, deadline = accepted_so_far(campaign_id), time.monotonic() + 30
    while time.monotonic() < deadline:
        time.sleep(0.5)
        previous, latest = latest, accepted_so_far(campaign_id)
        if latest == previous:
            break
    return latest


def process_tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process and its children, from /proc."""
    total = 0.0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(child) for child in children.read_text().split()]
    for one in pids:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wrk(
    args: argparse.Namespace,
    server: subprocess.Popen,
    *,
    script: str,
    path: str,
    script_args: list[str],
    connections: int,
    duration: int,
    port: int | None = None,
    headers: tuple[str, ...] = (),
) -> dict:
    command = [
        "wrk",
        f"-t{args.wrk_threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        *[flag for header in headers for flag in ("-H", header)],
        "-s",
        str(ROOT / "bench" / script),
        f"http://127.0.0.1:{port or args.port}{path}",
        "--",
        *script_args,
    ]
    server_before, wrk_before = process_tree_cpu(server.pid), children_cpu()
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    printed = re.search(r"^RESULT (.*)$", output, re.M)
    if printed is None:
        raise SystemExit(f"wrk printed no RESULT line:\n{output}")
    result = json.loads(printed.group(1))
    result["wrk_cpu_s"] = children_cpu() - wrk_before
    result["server_cpu_s"] = process_tree_cpu(server.pid) - server_before
    seconds = result["duration_us"] / 1e6
    result["seconds"] = seconds
    result["ok"] = result["requests"] - result["status_errors"]
    result["rps"] = result["ok"] / seconds
    print(f"  {path} {script_args[0]}: {result}", file=sys.stderr)
    return result


def start_server(
    env: dict[str, str],
    port: int,
    *,
    app: str = "fabrknt.wsgi:application",
    chdir: Path = ROOT,
    ready_path: str = "/healthz",
    wait_seconds: float = 90,
) -> subprocess.Popen:
    """gunicorn (deploy/gunicorn.conf.py, configured by env) serving `app` from `chdir`."""
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "-c",
            str(ROOT / "deploy" / "gunicorn.conf.py"),
            "--chdir",
            str(chdir),
            app,
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    # Up to `wait_seconds`: on the shared machine under load, four workers importing Django
    # take more than the 20 s this once allowed.
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{ready_path}", timeout=1) as reply:  # noqa: S310
                if reply.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not come up")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)  # its own session: gunicorn and its workers
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def flush_loop() -> None:
    """--flusher: what the Celery workers do, in a loop, until SIGTERM."""
    from trace.services.clicks.flush import clicks_flush

    running = True

    def halt(*_):
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, halt)
    while running:
        if clicks_flush(batch_size=5000, max_batches=1).read == 0:
            time.sleep(0.05)


def cpu_ms(run: dict) -> float:
    """The server's CPU milliseconds an answered request (its processes only: not
    PostgreSQL's or Redis's), steadier than throughput on a shared machine."""
    return run["server_cpu_s"] * 1000 / max(run["ok"], 1)


def line(label: str, run: dict, clicks_per_request: int = 1) -> str:
    return (
        f"{label:<38} {run['rps'] * clicks_per_request:>9,.0f} clicks/s  "
        f"p50 {run['p50_us'] / 1000:6.1f} ms  p99 {run['p99_us'] / 1000:6.1f} ms  "
        f"requests {run['ok']:>7,}  errors {run['requests'] - run['ok']}/"
        f"{run['connect_errors'] + run['read_errors'] + run['write_errors'] + run['timeouts']}  "
        f"wrk CPU {run['wrk_cpu_s'] / run['seconds']:.0%}  "
        f"server CPU {run['server_cpu_s'] / run['seconds']:.0%}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=15, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--batch-connections", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--worker-class", default="sync", choices=["gthread", "sync"])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--naive-port", type=int, default=8766)
    parser.add_argument(
        "--pairs", type=int, default=3, help="interleaved fast path / naive measurements"
    )
    parser.add_argument("--database-url", default=BENCH_DATABASE_URL)
    parser.add_argument("--naive-database-url", default=NAIVE_DATABASE_URL)
    parser.add_argument("--redis-url", default=BENCH_REDIS_URL)
    parser.add_argument("--flusher", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    env = bench_env(args)
    if args.flusher:
        django_setup(env)
        flush_loop()
        return
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")

    recreate_database(args.database_url)
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()
    django_setup(env)
    seeded = seed()
    from django.db import connection

    connection.close()
    # Imported here: bench.reads imports this module.
    from bench.reads import NAIVE, naive_env, naive_prepare

    naive = naive_env(args)
    naive_prepare(naive, rows=0)
    server = start_server(env, args.port)
    flusher = naive_server = None
    try:
        naive_server = start_server(
            naive, args.naive_port, app="naive.wsgi:application", chdir=NAIVE, ready_path="/clicks"
        )
        fast_args = [seeded["campaign"], seeded["key"]]

        def single_clicks(path: str, prefix: str, duration: int = args.duration) -> dict:
            return wrk(
                args,
                server,
                script="clicks_single.lua",
                path=path,
                script_args=[prefix, *fast_args],
                duration=duration,
                connections=args.connections,
            )

        def naive_clicks(prefix: str, duration: int = args.duration) -> dict:
            return wrk(
                args,
                naive_server,
                script="clicks_single.lua",
                path="/clicks/new",
                script_args=[prefix, *fast_args, "campaign"],
                duration=duration,
                connections=args.connections,
                port=args.naive_port,
            )

        # Warm every worker's imports, caches and connections first.
        single_clicks("/api/v1/clicks", "warm", duration=5)
        single_clicks("/bench/clicks-baseline", "warmbase", duration=5)
        naive_clicks("warmnaive", duration=5)
        flush_all()

        before = accepted_so_far(seeded["campaign"])
        fast = single_clicks("/api/v1/clicks", "fast")
        accepted_fast = accepted_settled(seeded["campaign"]) - before
        flushed, flush_seconds = flush_all()
        full_stack = single_clicks("/bench/clicks-full-stack", "full")
        baseline = single_clicks("/bench/clicks-baseline", "base")
        naive_first = naive_clicks("naive")
        # More pairs, the naive one first, for the ratio alone (the machine is shared and
        # noisy: one pair is one sample); their clicks are stored too, not counted below.
        pairs = [(fast, naive_first)]
        for n in range(2, args.pairs + 1):
            second = naive_clicks(f"naive{n}")
            pairs.append((single_clicks("/api/v1/clicks", f"fast{n}"), second))

        floor = wrk(
            args,
            server,
            script="plain_get.lua",
            path="/healthz",
            script_args=["-"],
            duration=args.duration,
            connections=args.connections,
        )

        flusher = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--flusher",
                f"--database-url={args.database_url}",
                f"--redis-url={args.redis_url}",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        before = accepted_so_far(seeded["campaign"])
        started = time.perf_counter()
        batch = wrk(
            args,
            server,
            script="clicks_batch.lua",
            path="/api/v1/clicks/batch",
            script_args=["batch", *fast_args, str(args.batch_size)],
            connections=args.batch_connections,
            duration=args.duration,
        )
        accepted_batch = accepted_settled(seeded["campaign"]) - before
        while count("batch") < accepted_batch and time.perf_counter() - started < 300:
            time.sleep(0.1)
        batch_seconds = time.perf_counter() - started
        stop(flusher)
        flush_all()
    finally:
        stop(server)
        if naive_server is not None:
            stop(naive_server)
        if flusher is not None:
            stop(flusher)

    stored = {prefix: count(prefix) for prefix in ("fast", "base", "batch")}
    with psycopg.connect(args.naive_database_url) as naive_db:
        row = naive_db.execute(
            "SELECT count(*) FROM naive_click WHERE click_id LIKE %s", ["naive-%"]
        ).fetchone()
        stored["naive"] = row[0] if row else 0
    # The baseline writes synchronously: a stored row is an accepted click; wrk saw the
    # responses of all but the requests in flight at its deadline (<= connections).
    accepted = {
        "fast": accepted_fast,
        "base": stored["base"],
        "naive": stored["naive"],
        "batch": accepted_batch,
    }
    seen = {
        "fast": fast["ok"],
        "base": baseline["ok"],
        "naive": naive_first["ok"],
        "batch": batch["ok"] * args.batch_size,
    }
    print(
        f"\ngunicorn {args.worker_class} workers={args.workers}"
        f"{f' threads={args.threads}' if args.worker_class == 'gthread' else ''}; "
        f"wrk -t{args.wrk_threads} -c{args.connections} -d{args.duration}s; "
        f"{os.cpu_count()} CPUs shared by server, wrk and PostgreSQL/Redis\n"
    )
    print(line("floor: GET /healthz (no work)", floor).replace("clicks/s", "req/s   "))
    print(line("(a) fast path POST /clicks", fast))
    print(line("    same view, full middleware stack", full_stack))
    print(line("(b) baseline DRF serializer + ORM", baseline))
    print(line("(b') naive first version (bench/naive)", naive_first))
    print(
        line(
            f"(c) batch x{args.batch_size}, {args.batch_connections} conn (HTTP)",
            batch,
            args.batch_size,
        )
    )
    print(
        f"    batch into PostgreSQL incl. flush: {accepted_batch / batch_seconds:,.0f} clicks/s "
        f"({accepted_batch:,} clicks stored {batch_seconds:.1f} s after the start)"
    )
    print(
        f"    fast-path stream drained: {flushed:,} clicks in {flush_seconds:.2f} s "
        f"({flushed / max(flush_seconds, 1e-9):,.0f} clicks/s)"
    )
    print(f"\nspeed-up fast path / baseline: {fast['rps'] / baseline['rps']:.2f}x (target >= 2.5x)")
    for n, (fast_run, naive_run) in enumerate(pairs, start=1):
        print(
            f"pair {n}: fast path {fast_run['rps']:,.0f} clicks/s (p99 "
            f"{fast_run['p99_us'] / 1000:.1f} ms), naive first version {naive_run['rps']:,.0f} "
            f"clicks/s (p99 {naive_run['p99_us'] / 1000:.1f} ms): "
            f"{fast_run['rps'] / naive_run['rps']:.2f}x; server CPU a click "
            f"{cpu_ms(fast_run):.2f} / {cpu_ms(naive_run):.2f} ms"
        )
    ratios = sorted(fast_run["rps"] / naive_run["rps"] for fast_run, naive_run in pairs)
    p99s = sorted(fast_run["p99_us"] / 1000 for fast_run, _ in pairs)
    print(
        f"speed-up fast path / naive first version: median {ratios[len(ratios) // 2]:.2f}x "
        f"of {len(pairs)} pairs (target >= 2.5x); fast path p99 median "
        f"{p99s[len(p99s) // 2]:.1f} ms (target < 50 ms)"
    )
    for prefix in ("fast", "base", "naive", "batch"):
        verdict = "exactly once" if stored[prefix] == accepted[prefix] else "MISMATCH"
        print(
            f"rows {prefix:<5}: accepted by the server {accepted[prefix]:>8,}  "
            f"stored {stored[prefix]:>8,}  {verdict}  (responses wrk read: {seen[prefix]:,})"
        )


if __name__ == "__main__":
    main()
