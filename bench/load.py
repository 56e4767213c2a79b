"""Load test: users in stages against gunicorn + PostgreSQL + Redis + a Celery worker.

    .venv/bin/pip install -r requirements-bench.txt     # locust, once
    .venv/bin/python bench/load.py [--stages 25,50,100,200,400,700,1000] [--hold 20]
        [--settle 5] [--spawn-rate 50] [--processes 2] [--clicks 100000] [--all-stages]
        [--no-browser]

The operational design's k6 scenario (ramp up to 100, hold 1,000, ramp down; each
iteration a static asset and an API read, `sleep(1)`) rebuilt with locust in headless
mode (bench/load_locustfile.py: FastHttpUser, the generator in its own processes). Every
user signs in with Ethereum (SIWE: a single-use nonce, an EIP-191 signature) as one of a
pool of wallets made members of the demo organization, then loops with 1 s of thinking
between steps: 8 in 10 a static asset (whitenoise) and an API read (campaign detail with
its JWT), 1 in 10 a click on the tracking link, 1 in 10 the /trace/ dashboard (its session).

The server is bench/reads.py's: gunicorn (deploy/gunicorn.conf.py, 4 sync workers) on a
fresh PostgreSQL database (fab_bench_load on DATABASE_URL's server), REDIS_URL, the rate
limits raised, the demo seeded with --clicks clicks; plus a real Celery worker on
CELERY_BROKER_URL and the click flush (`trace.flush_clicks` sent every 5 s, as beat does).

Per stage it measures --hold seconds at the stage's user count (after --settle seconds):
requests/s, p50, p99, error rate (total and per request), and the CPU of the load
generator and of the server (gunicorn, the worker, the bench database's PostgreSQL
backends, Redis' server, which others may share) from /proc; then, outside the measured
window, the page load time (navigation timing, loadEventEnd) of the dashboard and the
campaign page in headless Chromium (/usr/bin/chromium), signed in, as at the idle start.
It prints the largest stage within p50 < 50 ms, p99 < 100 ms and errors < 0.1 % and
stops after the second stage over them (--all-stages runs every stage).
Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.clicks import CLOCK_TICKS, process_tree_cpu, start_server, stop  # noqa: E402
from bench.stack import server_arguments, signed_in_env, worker_start  # noqa: E402

# The targets for a stage to count as held.
TARGETS = {"p50": 50.0, "p99": 100.0, "errors": 0.001}
PAGE_TARGET_MS = 2000.0


def passes(total: dict[str, float]) -> bool:
    return (
        total["requests"] > 0
        and total["p50"] < TARGETS["p50"]
        and total["p99"] < TARGETS["p99"]
        and total["errors"] < TARGETS["errors"]
    )


def histogram_percentile(histogram: dict[int, int], share: float) -> float:
    """The response time (ms) under which `share` of the requests of a locust histogram
    ({rounded ms: count}) finished."""
    count = sum(histogram.values())
    if count <= 0:
        return 0.0
    seen = 0
    for ms in sorted(histogram):
        seen += histogram[ms]
        if seen >= share * count:
            return float(ms)
    return float(max(histogram))


def wallet_account(index: int) -> Any:
    """The index-th wallet of the pool (a key derived from its index: no file to share
    between the setup and the generator's processes)."""
    from eth_account import Account

    return Account.from_key(hashlib.sha256(f"fabrknt-load:{index}".encode()).digest())


def signed_in_payload(account: Any, *, domain: str, nonce: str) -> dict[str, str]:
    """The body of POST /api/v1/auth/siwe: the tests' EIP-4361 text and personal_sign."""
    signing = importlib.import_module("accounts.tests.signing")  # tests: not type-checked
    text = signing.siwe_text(address=account.address, nonce=nonce, domain=domain)
    return {"message": text, "signature": signing.personal_sign(account, text)}


def wallets_ensure(*, organization_id: str, count: int) -> None:
    """The pool: `count` wallet users, members of the organization."""
    from accounts.models import Membership, Role
    from accounts.services.wallets import EIP155, wallet_user_ensure

    users = [
        wallet_user_ensure(
            namespace=EIP155, address=wallet_account(index).address, chain=f"{EIP155}:1"
        )[0].user_id
        for index in range(count)
    ]
    Membership.objects.bulk_create(
        [Membership(organization_id=organization_id, user_id=u, role=Role.MEMBER) for u in users],
        ignore_conflicts=True,
    )


def sign_in(base: str, domain: str, cookie: str) -> str:
    """A real SIWE sign-in over HTTP with wallet 0; the session cookie's value."""
    with urllib.request.urlopen(f"{base}/api/v1/auth/nonce", timeout=30) as reply:  # noqa: S310
        nonce = json.load(reply)["nonce"]
    body = json.dumps(signed_in_payload(wallet_account(0), domain=domain, nonce=nonce))
    request = urllib.request.Request(  # noqa: S310
        f"{base}/api/v1/auth/siwe",
        data=body.encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310
        for header in reply.headers.get_all("Set-Cookie") or []:
            name, value = header.split(";", 1)[0].split("=", 1)
            if name == cookie:
                return value
    raise SystemExit("the SIWE sign-in set no session cookie")


# --- CPU from /proc ---------------------------------------------------------------------


def machine_busy() -> float:
    """CPU seconds all cores spent busy since boot (/proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


def redis_server_pid(url: str) -> int | None:
    """The redis-server listening on the URL's port (read-only use: its CPU)."""
    port = str(urlparse(url).port or 6379)
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if command.startswith("redis-server") and f":{port}" in command:
            return int(proc.name)
    return None


def postgres_backends(database: str) -> list[int]:
    import psycopg

    url = os.environ["DATABASE_URL"]
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [database],
        ).fetchall()
    return [row[0] for row in rows]


class CpuSampler(threading.Thread):
    """Samples every second the CPU seconds of each group of processes."""

    def __init__(self, groups: dict[str, Any]) -> None:
        super().__init__(daemon=True)
        self.groups = groups  # name -> callable returning CPU seconds
        self.samples: list[tuple[float, dict[str, float]]] = []
        self.running = True

    def sample(self) -> None:
        values = {}
        for name, read in self.groups.items():
            try:
                values[name] = read()
            except Exception:  # noqa: BLE001 - a process gone; the next sample has it again
                values[name] = float("nan")
        self.samples.append((time.time(), values))

    def run(self) -> None:
        while self.running:
            self.sample()
            time.sleep(1.0)

    def cores(self, started: float, ended: float) -> dict[str, float]:
        """Cores each group used between two times (the samples closest inside)."""
        inside = [s for s in self.samples if started <= s[0] <= ended]
        if len(inside) < 2:
            return {}
        (t0, first), (t1, last) = inside[0], inside[-1]
        return {name: (last[name] - first[name]) / (t1 - t0) for name in first}


class PgCpu:
    """CPU of the bench database's PostgreSQL backends (each one seen stays counted)."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.last: dict[int, float] = {}

    def __call__(self) -> float:
        for pid in postgres_backends(self.database):
            try:
                self.last[pid] = process_tree_cpu(pid)
            except OSError:
                pass
        return sum(self.last.values())


# --- the browser ------------------------------------------------------------------------


class Browser(threading.Thread):
    """Chromium, signed in, loads the dashboard and the campaign page: at the idle start,
    then whenever the shape hands it a turn (after each stage's measured window)."""

    def __init__(self, base: str, cookie: tuple[str, str], pages: dict[str, str], report: Path):
        super().__init__(daemon=True)
        self.base, self.cookie, self.pages, self.report = base, cookie, pages, report
        self.ack = Path(str(report) + ".browser")
        self.idle = threading.Event()
        self.done = threading.Event()
        self.results: dict[str, dict[str, float]] = {}
        self.error: str | None = None

    def load(self, page: Any, path: str) -> float:
        page.goto(self.base + path, wait_until="load", timeout=60_000)
        if "/sign-in" in page.url or "signin" in page.url:
            raise RuntimeError(f"{path}: not signed in ({page.url})")
        return float(page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd"))

    def measure(self, page: Any, label: str) -> None:
        self.results[label] = {name: self.load(page, path) for name, path in self.pages.items()}

    def run(self) -> None:
        from playwright.sync_api import sync_playwright

        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
                context = browser.new_context()
                context.add_cookies(
                    [{"name": self.cookie[0], "value": self.cookie[1], "url": self.base}]
                )
                page = context.new_page()
                for path in self.pages.values():  # warm: first loads fill caches
                    self.load(page, path)
                self.measure(page, "idle")
                self.idle.set()
                measured: set[int] = set()
                while not self.done.is_set():
                    state = read_state(self.report)
                    if state.get("phase") == "browser" and state["stage"] not in measured:
                        measured.add(state["stage"])
                        self.measure(page, f"stage {state['stage']}")
                        self.ack.touch()
                    time.sleep(0.2)
                browser.close()
        except Exception as error:  # noqa: BLE001 - reported; the shape goes on without it
            self.error = f"{type(error).__name__}: {error}"
            self.idle.set()
            self.ack_forever()

    def ack_forever(self) -> None:
        while not self.done.is_set():
            if read_state(self.report).get("phase") == "browser":
                self.ack.touch()
            time.sleep(0.2)


def read_state(report: Path) -> dict[str, Any]:
    try:
        return json.loads(report.read_text())
    except (OSError, ValueError):
        return {}


def seeded_again() -> dict[str, str]:
    """The organization and campaign bench/reads.py's seed() chose in an earlier run."""
    from accounts.services.demo import demo_accounts_ensure
    from trace.models import Campaign

    organization = demo_accounts_ensure().organization
    campaign = Campaign.objects.filter(organization=organization).order_by("created_at").first()
    if campaign is None:
        raise SystemExit("no seeded campaign: run once without --reuse-database")
    return {"organization": str(organization.pk), "campaign": str(campaign.pk)}


# --- the run ----------------------------------------------------------------------------


def flush_sender(stop_event: threading.Event) -> None:
    """What beat's `trace-flush-clicks` entry does: the task every 5 s, to the worker."""
    from fabrknt.celery import app

    while not stop_event.wait(5.0):
        app.send_task("trace.flush_clicks")


def table(args: argparse.Namespace, stages: list[dict], cpu: CpuSampler, pages: dict) -> str:
    names = ["static asset", "api read", "click /t/", "page /trace/"]
    lines = [
        f"{'users':>6} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'errors':>8}  held  "
        f"{'gen cores':>9} {'server cores':>12} {'(gunicorn/worker/pg/redis)':>28} "
        f"{'others':>6}  page load dashboard/campaign ms   p99 by request ms "
        f"({'/'.join(names)})"
    ]
    for index, stage in enumerate(stages):
        total = stage["requests"]["total"]
        used = cpu.cores(stage["started"], stage["ended"])
        server = [used.get(k, float("nan")) for k in ("gunicorn", "worker", "postgres", "redis")]
        generator = used.get("generator", float("nan"))
        others = used.get("machine", float("nan")) - generator - sum(server)
        page, nan = pages.get(f"stage {index}", {}), float("nan")
        by_name = "/".join(
            f"{stage['requests'][n]['p99']:.0f}" if n in stage["requests"] else "-" for n in names
        )
        lines.append(
            f"{stage['users']:>6} {total['rps']:>7.0f} {total['p50']:>7.0f} {total['p99']:>7.0f} "
            f"{total['errors'] * 100:>7.2f}%  {'yes ' if stage['passes'] else 'no  '}  "
            f"{generator:>9.2f} {sum(server):>12.2f} "
            f"{'/'.join(f'{v:.2f}' for v in server):>28} {others:>6.2f}  "
            f"{page.get('dashboard', nan):>9.0f}/{page.get('campaign', nan):<9.0f}"
            f"               {by_name}"
        )
    return "\n".join(lines)


def main() -> None:
    from bench.reads import seed

    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--stages", default="25,50,100,200,400,700,1000")
    parser.add_argument("--hold", type=float, default=20, help="measured seconds a stage")
    parser.add_argument("--settle", type=float, default=5, help="seconds before measuring")
    parser.add_argument("--spawn-rate", type=float, default=50, help="users started a second")
    parser.add_argument("--ramp-down", type=float, default=10)
    parser.add_argument("--processes", type=int, default=2, help="locust worker processes")
    parser.add_argument("--all-stages", action="store_true", help="not stop after 2 misses")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument(
        "--reuse-database", action="store_true", help="the last run's seeded database as it is"
    )
    server_arguments(parser, clicks=100_000, port=8795, database="fab_bench_load")
    args = parser.parse_args()
    args.worker_class, args.threads = "sync", 1
    stages = [int(n) for n in args.stages.split(",")]

    from bench.clicks import django_setup, recreate_database

    domain = f"127.0.0.1:{args.port}"
    base = f"http://{domain}"
    env = signed_in_env(args, domain)
    if args.reuse_database:
        django_setup(env)
        seeded = seeded_again()
        from trace.models import Click

        args.clicks = Click.objects.count()
    else:
        recreate_database(args.database_url)
        django_setup(env)
        seeded = seed(args)
    from django.core.management import call_command
    from django.db import connection

    started = time.perf_counter()
    wallets_ensure(organization_id=seeded["organization"], count=max(stages))
    print(f"made {max(stages)} wallet users, members, in {time.perf_counter() - started:.1f} s")
    call_command("collectstatic", interactive=False, verbosity=0)  # whitenoise serves these
    connection.close()

    workdir = Path(tempfile.mkdtemp(prefix="fab-load-"))
    report = workdir / "stages.json"
    server = start_server(env, args.port, wait_seconds=300)  # a loaded machine: slow imports
    worker = worker_start(env, workdir / "worker.log")
    flushing = threading.Event()
    threading.Thread(target=flush_sender, args=(flushing,), daemon=True).start()
    from django.conf import settings

    cookie = settings.SESSION_COOKIE_NAME
    session = sign_in(base, domain, cookie)
    pages = {"dashboard": "/trace/", "campaign": f"/trace/campaigns/{seeded['campaign']}/"}
    browser = Browser(base, (cookie, session), pages, report)
    if args.no_browser:
        browser.error = "skipped (--no-browser)"
        browser.run = browser.ack_forever  # type: ignore[method-assign]
        browser.idle.set()
    browser.start()
    browser.idle.wait(timeout=300)

    database = urlparse(args.database_url).path.lstrip("/")
    redis_pid = redis_server_pid(args.redis_url)
    generator: subprocess.Popen | None = None
    locust_env = {
        **env,
        "LOAD_CAMPAIGN": seeded["campaign"],
        "LOAD_WALLETS": str(max(stages)),
        "LOAD_DOMAIN": domain,
        "LOAD_STAGES": args.stages,
        "LOAD_SPAWN_RATE": str(args.spawn_rate),
        "LOAD_SETTLE": str(args.settle),
        "LOAD_HOLD": str(args.hold),
        "LOAD_RAMP_DOWN": str(args.ramp_down),
        "LOAD_ALL_STAGES": "1" if args.all_stages else "0",
        "LOAD_REPORT": str(report),
    }
    cpu = CpuSampler(
        {
            "generator": lambda: process_tree_cpu(generator.pid) if generator else 0.0,
            "gunicorn": lambda: process_tree_cpu(server.pid),
            "worker": lambda: process_tree_cpu(worker.pid),
            "postgres": PgCpu(database),
            "redis": lambda: process_tree_cpu(redis_pid) if redis_pid else float("nan"),
            "machine": machine_busy,
        }
    )
    load_before = os.getloadavg()
    began = time.time()
    try:
        generator = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "locust"),
                "-f",
                str(ROOT / "bench" / "load_locustfile.py"),
                "--headless",
                "--host",
                base,
                "--processes",
                str(args.processes),
                "--only-summary",
                "--loglevel",
                "INFO",
                "--logfile",
                str(workdir / "locust.log"),
            ],
            cwd=ROOT,
            env=locust_env,
            start_new_session=True,
        )
        cpu.start()
        generator.wait()
    finally:
        cpu.running = False
        browser.done.set()
        flushing.set()
        if generator is not None:
            stop(generator)
        stop(worker)
        stop(server)
    results = read_state(report).get("stages", [])
    load_after = os.getloadavg()
    print(
        f"\nLoad test, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(began))}, "
        f"{args.hold:.0f} s measured a stage after {args.settle:.0f} s, locust "
        f"{args.processes} processes, gunicorn {args.workers} sync workers, "
        f"{args.clicks:,} clicks; load average {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after ({os.cpu_count()} cores)"
    )
    print(table(args, results, cpu, browser.results))
    idle = browser.results.get("idle", {})
    if idle:
        print(
            f"page load (loadEventEnd) at the idle start: dashboard {idle['dashboard']:.0f} ms,"
            f" campaign page {idle['campaign']:.0f} ms (target < {PAGE_TARGET_MS:.0f} ms)"
        )
    if browser.error:
        print(f"browser: {browser.error}")
    held = [stage["users"] for stage in results if stage["passes"]]
    print(
        f"largest stage within p50 < {TARGETS['p50']:.0f} ms, p99 < {TARGETS['p99']:.0f} ms, "
        f"errors < {TARGETS['errors'] * 100:.1f} %: "
        + (f"{max(held)} users" if held else "none")
        + " (goal 1,000)"
    )
    print(f"stage results: {report}")


if __name__ == "__main__":
    main()
