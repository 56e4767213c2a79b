"""Soak: minutes of mixed traffic on loopback, then what the processes grew and what was kept.

    .venv/bin/python bench/soak.py [--minutes 10] [--users 20] [--think 1.0]
        [--subscribers 200] [--max-growth 10] [--clicks 10000]

The stack of bench/load.py, all real: gunicorn (deploy/gunicorn.conf.py, 4 sync workers, no
max-requests recycling, which would hide a leak) on a fresh PostgreSQL database
(fab_bench_soak on DATABASE_URL's server, the demo seeded with --clicks clicks of history by
bench/reads.py), REDIS_URL, the rate limits raised; the ASGI server of /ws/ (uvicorn,
fabrknt/live/tests/server.py); a Celery worker (solo pool) and beat (django-celery-beat,
fabrknt/celery.py's schedule: the click flush every 5 s and the rest).

--users visitors (threads of this process) each sign in with Ethereum (SIWE, a real
eth-account key of bench/load.py's wallet pool, members of the demo organization), then
loop, thinking --think seconds between steps, over a weighted mix (MIX): a click on the
tracking link (/t/), a click through the ingest API (an `ingest` key; one in ten repeats an
earlier click id, which must not be stored twice), an API read (campaign detail, the JWT),
the /trace/ dashboard and the campaign page (the session), a GitHub push delivery to the
team's repository webhook (GitHub's shape and headers, HMAC-SHA256 signed with the team's
secret; one in ten a redelivery of an earlier id, answered as a duplicate) and a fresh
sign-in. --subscribers WebSocket connections (bench/ws.py's lean clients, in their own
processes) stay subscribed to the campaign's channel on /ws/live the whole run and receive
the click counters each flush pushes.

It prints requests served per kind (rate, p50, p99, errors), the resident memory (RSS) of
the web server (gunicorn master and workers), the ASGI server, the worker and beat at the
start of the traffic, after a warm-up (the baseline: first requests import and fill
caches), at the peak and at the end, with the growth from the baseline; then, once the
worker has processed every delivery and beat's flushes have drained the click stream,
database rows against what was accepted: click rows == distinct click ids answered 202 or
redirected (a last flush in this process must find nothing left), webhook deliveries ==
distinct delivery ids, contributions == distinct commits, spent sign-in nonces == SIWE
answers; the WebSocket pushes lost (distinct events x subscribers - deliveries) and their
latency from the publish. A verdict line: no data lost, memory growth within --max-growth
% of the baseline, errors under 0.1 %. Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import importlib
import json
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.clicks import django_setup, flush_all, recreate_database, start_server, stop  # noqa: E402
from bench.load import TARGETS, signed_in_payload, wallet_account, wallets_ensure  # noqa: E402
from bench.stack import beat_start, server_arguments, signed_in_env, worker_start  # noqa: E402
from bench.ws import (  # noqa: E402
    LeanClient,
    Subscribers,
    load_average,
    percentile,
    process_tree,
    server_rss_mib,
)

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"
# A visitor's steps and how often each comes (weights).
MIX = {
    "click /t/": 3,
    "click API": 3,
    "api read": 3,
    "page /trace/": 1,
    "page campaign": 1,
    "webhook github": 1,
    "sign-in": 0.5,
}
REPEATS = 0.1  # share of API clicks and webhook deliveries sent again
CONTRIBUTOR = "soak-dev"
REPOSITORY = "Soak-Org/Soak-Repo"
_CLICK_ID = re.compile(r"fab_click=([A-Za-z0-9_-]+)")


@dataclass(frozen=True)
class Site:
    """What the visitors need to know of the served stack."""

    port: int
    domain: str
    campaign: str
    ingest_key: str
    team: str  # pulse_id
    team_secret: str
    wallets: int
    session_cookie: str


@dataclass
class Ledger:
    """What was served (latency by kind, errors) and what the server accepted."""

    times: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    clicks: set[str] = field(default_factory=set)
    deliveries: set[str] = field(default_factory=set)
    commits: set[str] = field(default_factory=set)
    sign_ins: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def served(self, kind: str, ms: float, error: str | None) -> None:
        with self.lock:
            self.times.setdefault(kind, []).append(ms)
            self.errors.setdefault(kind, [])
            if error is not None:
                self.errors[kind].append(error)

    def wrong(self, kind: str, error: str) -> None:
        """A request counted as served whose answer turned out wrong: an error too."""
        with self.lock:
            self.errors[kind].append(error)


class Visitor(threading.Thread):
    """One user: signs in, then steps through MIX until `stopping` is set."""

    think = 1.0  # mean seconds between steps (--think)

    def __init__(self, index: int, site: Site, ledger: Ledger, stopping: threading.Event):
        super().__init__(daemon=True)
        self.site, self.ledger, self.stopping = site, ledger, stopping
        self.random = random.Random(index)  # noqa: S311 - a traffic mix, not a secret
        self.index = index
        self.access = ""
        self.cookie = ""
        self.my_clicks: list[str] = []
        self.my_deliveries: list[tuple[str, bytes]] = []
        self.github = importlib.import_module("pulse.tests.github_support")  # not type-checked

    def call(
        self,
        kind: str,
        method: str,
        path: str,
        *,
        expect: tuple[int, ...] = (200,),
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, http.client.HTTPResponse, bytes] | None:
        """One request, timed and counted; the answer when its status is expected."""
        connection = http.client.HTTPConnection("127.0.0.1", self.site.port, timeout=60)
        started = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers or {})
            reply = connection.getresponse()
            content = reply.read()
        except (OSError, http.client.HTTPException) as error:
            self.ledger.served(kind, (time.perf_counter() - started) * 1000, repr(error))
            return None
        finally:
            connection.close()
        ms = (time.perf_counter() - started) * 1000
        if reply.status not in expect:
            self.ledger.served(kind, ms, f"{reply.status} {content[:120]!r}")
            return None
        self.ledger.served(kind, ms, None)
        return reply.status, reply, content

    def run(self) -> None:
        self.sign_in()
        steps: dict[str, Callable[[], None]] = {
            "click /t/": self.click_link,
            "click API": self.click_api,
            "api read": self.api_read,
            "page /trace/": lambda: self.page("page /trace/", "/trace/"),
            "page campaign": lambda: self.page(
                "page campaign", f"/trace/campaigns/{self.site.campaign}/"
            ),
            "webhook github": self.webhook,
            "sign-in": self.sign_in,
        }
        kinds, weights = list(MIX), list(MIX.values())
        while not self.stopping.wait(self.random.uniform(0.5, 1.5) * self.think):
            steps[self.random.choices(kinds, weights)[0]]()

    def sign_in(self) -> None:
        answer = self.call("sign-in: nonce", "GET", "/api/v1/auth/nonce")
        if answer is None:
            return
        account = wallet_account(self.random.randrange(self.site.wallets))
        payload = signed_in_payload(
            account, domain=self.site.domain, nonce=json.loads(answer[2])["nonce"]
        )
        answer = self.call(
            "sign-in: siwe",
            "POST",
            "/api/v1/auth/siwe",
            body=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
        )
        if answer is None:
            return
        self.access = json.loads(answer[2])["access"]
        for header in answer[1].headers.get_all("Set-Cookie") or []:
            name, value = header.split(";", 1)[0].split("=", 1)
            if name == self.site.session_cookie:
                self.cookie = f"{name}={value}"
        with self.ledger.lock:
            self.ledger.sign_ins += 1

    def click_link(self) -> None:
        answer = self.call(
            "click /t/",
            "GET",
            f"/t/{self.site.campaign}?utm_source=soak&utm_medium=v{self.index}",
            expect=(302, 200),  # 200: the interstitial of an unverified landing domain
            headers={"User-Agent": BROWSER, "Referer": "https://news.example/soak"},
        )
        if answer is None:
            return
        found = _CLICK_ID.search(answer[1].headers.get("Location") or answer[2].decode())
        if found is None:
            self.ledger.wrong("click /t/", "no fab_click in the answer")
            return
        with self.ledger.lock:
            self.ledger.clicks.add(found.group(1))

    def click_api(self) -> None:
        if self.my_clicks and self.random.random() < REPEATS:
            click_id = self.random.choice(self.my_clicks)
        else:
            click_id = f"soak-{uuid.uuid4().hex}"
        body = {
            "campaign_id": self.site.campaign,
            "click_id": click_id,
            "referrer": "https://partner.example/soak",
            "utm_params": {"utm_source": "soak-api"},
            "user_agent": BROWSER,
            "ip_address": f"10.9.{self.index % 256}.{self.random.randrange(1, 255)}",
        }
        answer = self.call(
            "click API",
            "POST",
            "/api/v1/clicks",
            expect=(202, 200),
            body=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "X-API-Key": self.site.ingest_key},
        )
        if answer is None:
            return
        if json.loads(answer[2]).get("click_id") != click_id:
            self.ledger.wrong("click API", f"answered another click id than {click_id}")
            return
        self.my_clicks.append(click_id)
        with self.ledger.lock:
            self.ledger.clicks.add(click_id)

    def api_read(self) -> None:
        answer = self.call(
            "api read",
            "GET",
            f"/api/v1/campaigns/{self.site.campaign}",
            expect=(200, 401),  # 401: the access token expired (15 min): sign in again
            headers={"Authorization": f"Bearer {self.access}"},
        )
        if answer is not None and answer[0] == 401:
            self.sign_in()

    def page(self, kind: str, path: str) -> None:
        # A redirect would be to the sign-in page: an error here.
        self.call(kind, "GET", path, headers={"Cookie": self.cookie, "User-Agent": BROWSER})

    def webhook(self) -> None:
        """A push of 1-3 commits by the team's contributor, as GitHub delivers it."""
        if self.my_deliveries and self.random.random() < REPEATS:
            delivery, body = self.random.choice(self.my_deliveries)
            expect, commits = 200, []  # a redelivery: recorded once already
        else:
            delivery = str(uuid.uuid4())
            commits = [uuid.uuid4().hex + uuid.uuid4().hex[:8] for _ in range(1 + self.index % 3)]
            repository = self.github.repository(REPOSITORY)
            payload = self.github.push(repo=repository, commits=[(c, CONTRIBUTOR) for c in commits])
            body, expect = json.dumps(payload).encode(), 202
        answer = self.call(
            "webhook github",
            "POST",
            f"/api/v1/github/webhook?team={self.site.team}",
            expect=(expect,),
            body=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": "GitHub-Hookshot/a5788b1",
                "X-GitHub-Event": "push",
                "X-GitHub-Delivery": delivery,
                "X-GitHub-Hook-ID": "532461390",
                "X-Hub-Signature-256": self.github.signature(body, self.site.team_secret),
            },
        )
        if answer is None:
            return
        if commits:
            self.my_deliveries.append((delivery, body))
        with self.ledger.lock:
            self.ledger.deliveries.add(delivery)
            self.ledger.commits.update(commits)


class CounterSubscriber(LeanClient):
    """A /ws/live connection on the campaign's channel: each click counter pushed, with its
    latency from the publish time the message carries (`at`)."""

    def _event(self, message: dict) -> None:
        if message.get("event") != "click":
            self._fail(f"not a click counter: {message}")
            return
        sent = dt.datetime.fromisoformat(message["at"]).timestamp()
        self.latencies.append((time.time() - sent, sent))


# --- memory -----------------------------------------------------------------------------


class Memory(threading.Thread):
    """RSS (MiB) of each process group (its process and descendants) every `interval` s."""

    def __init__(self, groups: dict[str, int], interval: float) -> None:
        super().__init__(daemon=True)
        self.groups, self.interval = groups, interval
        self.samples: list[tuple[float, dict[str, float]]] = []
        self.running = threading.Event()

    def sample(self) -> dict[str, float]:
        values = {}
        for name, pid in self.groups.items():
            try:
                values[name] = server_rss_mib(pid)
            except OSError:  # gone: a crash the verdict reports
                values[name] = float("nan")
        self.samples.append((time.monotonic(), values))
        return values

    def run(self) -> None:
        while not self.running.wait(self.interval):
            self.sample()

    def at(self, moment: float) -> dict[str, float]:
        """The first sample at or after `moment` (monotonic)."""
        return next((v for t, v in self.samples if t >= moment), self.samples[-1][1])

    def peak(self) -> dict[str, float]:
        return {name: max(v[name] for _, v in self.samples) for name in self.groups}


# --- setup and checks -------------------------------------------------------------------


def soak_fixture(seeded: dict[str, str], wallets: int) -> dict[str, str]:
    """An ingest key, a PULSE team with the contributor the pushes name, the wallet pool."""
    from accounts.models import Organization
    from accounts.services.api_keys import api_key_issue
    from pulse.services.contributors import contributor_add
    from pulse.services.teams import team_create
    from trace.models import Click

    organization = Organization.objects.get(pk=seeded["organization"])
    ingest = api_key_issue(organization=organization, name="soak ingest", scopes=["ingest"])
    created = team_create(organization=organization, team_name="Soak", github_repos=[REPOSITORY])
    contributor_add(
        team=created.team,
        wallet_address=wallet_account(0).address,
        github_username=CONTRIBUTOR,
    )
    wallets_ensure(organization_id=seeded["organization"], count=wallets)
    return {
        "history": str(Click.objects.filter(campaign_id=seeded["campaign"]).count()),
        "ingest_key": ingest.key,
        "team": created.team.pulse_id,
        "team_secret": created.github_webhook_secret,
    }


def celery_ready(seconds: float = 300) -> bool:
    """The worker answers a ping and beat has seeded its schedule (what it does once its
    imports are done): their memory from here on is their own, not their start's."""
    from django_celery_beat.models import PeriodicTask

    from fabrknt.celery import app

    def ready() -> bool:
        seeded = PeriodicTask.objects.filter(name="trace-flush-clicks").exists()
        return seeded and bool(app.control.ping(timeout=1.0))

    return wait_until(ready, seconds)


def live_tokens(count: int) -> list[str]:
    """Single-use /ws/live tokens of the demo owner (a member of the campaign's
    organization), issued by the service behind POST /api/v1/ws-token, valid 10 minutes
    (not 60 s: on a loaded machine the handshakes outlast that, as bench/ws.py found)."""
    from accounts.services.demo import demo_accounts_ensure
    from fabrknt.live import tokens

    tokens.TOKEN_SECONDS = 600
    user = demo_accounts_ensure().user
    return [tokens.live_token_issue(user=user).token for _ in range(count)]


def wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(1.0)
    return condition()


def rows_counted(site: Site, ledger: Ledger, history: int, since: dt.datetime) -> dict[str, Any]:
    """Database rows against what the server accepted (after the queue and flushes)."""
    from accounts.models import SignInNonce
    from pulse.models import Contribution, DeliveryOutcome, WebhookDelivery
    from trace.models import Click

    accepted = sorted(ledger.clicks)
    stored = sum(
        Click.objects.filter(campaign_id=site.campaign, click_id__in=accepted[i : i + 5000])
        .values("click_id")
        .distinct()
        .count()
        for i in range(0, len(accepted), 5000)
    )
    deliveries = WebhookDelivery.objects.filter(team__pulse_id=site.team)
    return {
        "clicks accepted": len(accepted),
        "click rows": Click.objects.filter(campaign_id=site.campaign).count() - history,
        "accepted ids stored": stored,
        "deliveries accepted": len(ledger.deliveries),
        "delivery rows": deliveries.count(),
        "deliveries unprocessed": deliveries.filter(outcome=DeliveryOutcome.RECEIVED).count(),
        "commits delivered": len(ledger.commits),
        "contribution rows": Contribution.objects.filter(team__pulse_id=site.team).count(),
        "sign-ins answered": ledger.sign_ins,
        "nonces spent": SignInNonce.objects.filter(
            created_at__gte=since, used_at__isnull=False
        ).count(),
    }


def drained(site: Site, ledger: Ledger, history: int) -> bool:
    """The worker has processed every delivery, the flushes have stored every click."""
    from pulse.models import DeliveryOutcome, WebhookDelivery
    from trace.models import Click

    waiting = WebhookDelivery.objects.filter(
        team__pulse_id=site.team, outcome=DeliveryOutcome.RECEIVED
    ).exists()
    stored = Click.objects.filter(campaign_id=site.campaign).count() - history
    return not waiting and stored >= len(ledger.clicks)


# --- the report -------------------------------------------------------------------------


def requests_table(ledger: Ledger, seconds: float) -> tuple[str, int, int]:
    lines = [f"{'kind':<16} {'requests':>9} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"]
    total = failed = 0
    every: list[float] = []
    for kind in sorted(ledger.times):
        times, errors = ledger.times[kind], ledger.errors[kind]
        total, failed = total + len(times), failed + len(errors)
        every += times
        lines.append(
            f"{kind:<16} {len(times):>9,} {len(times) / seconds:>7.1f} "
            f"{statistics.median(times):>8.1f} {percentile(times, 0.99):>8.1f} {len(errors):>7}"
        )
    if every:
        lines.append(
            f"{'all':<16} {total:>9,} {total / seconds:>7.1f} {statistics.median(every):>8.1f} "
            f"{percentile(every, 0.99):>8.1f} {failed:>7}"
        )
    for kind, errors in sorted(ledger.errors.items()):
        for error in errors[:3]:
            lines.append(f"  {kind} error: {error}")
    return "\n".join(lines), total, failed


def memory_table(
    memory: Memory, start: float, baseline_at: float, end: dict, procs: dict[str, int]
) -> list[str]:
    first, baseline, peak = memory.at(start), memory.at(baseline_at), memory.peak()
    lines = [
        f"{'RSS MiB':<8} {'procs':>5} {'start':>8} {'warm':>8} {'peak':>8} {'end':>8} "
        f"{'growth':>8}  (growth: end against warm, the baseline after the warm-up)"
    ]
    for name in memory.groups:
        growth = (end[name] - baseline[name]) / baseline[name] * 100
        lines.append(
            f"{name:<8} {procs[name]:>5} {first[name]:>8.1f} {baseline[name]:>8.1f} "
            f"{peak[name]:>8.1f} {end[name]:>8.1f} {growth:>+7.1f}%"
        )
    return lines


def growth(memory: Memory, baseline_at: float, end: dict) -> dict[str, float]:
    baseline = memory.at(baseline_at)
    return {name: (end[name] - baseline[name]) / baseline[name] * 100 for name in memory.groups}


def push_lines(deliveries: list[tuple[float, float]], errors: list[str], count: int) -> list:
    events = {sent for _, sent in deliveries}
    lost = len(events) * count - len(deliveries)
    ms = [latency * 1000 for latency, _ in deliveries] or [float("nan")]
    return [
        f"WebSocket: {count} subscribers, {len(events)} click-counter pushes, "
        f"{len(deliveries):,} deliveries, lost {lost}, connection errors {len(errors)}"
        + "".join(f"; {error}" for error in errors[:3]),
        f"push latency (publish to client): p50 {statistics.median(ms):.1f} ms, "
        f"p99 {percentile(ms, 0.99):.1f} ms, max {max(ms):.1f} ms",
    ]


# --- the run ----------------------------------------------------------------------------


def main() -> None:
    from bench.reads import seed

    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--users", type=int, default=20, help="visitors (threads)")
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds between steps")
    parser.add_argument("--subscribers", type=int, default=200, help="/ws/live connections")
    parser.add_argument("--clients", type=int, default=1, help="WebSocket client processes")
    parser.add_argument("--asgi-workers", type=int, default=1, help="uvicorn processes")
    parser.add_argument("--warmup", type=float, default=60, help="seconds before the baseline")
    parser.add_argument("--max-growth", type=float, default=10, help="%% RSS growth allowed")
    server_arguments(parser, clicks=10_000, port=8805, database="fab_bench_soak")
    args = parser.parse_args()
    args.worker_class, args.threads = "sync", 1
    seconds = args.minutes * 60
    warmup = min(args.warmup, seconds / 5)

    domain = f"127.0.0.1:{args.port}"
    workdir = Path(tempfile.mkdtemp(prefix="fab-soak-"))
    env = signed_in_env(args, domain)
    env["BACKUP_ROOT"] = str(workdir / "backups")  # beat's hourly backup, if the run spans :25
    recreate_database(args.database_url)
    django_setup(env)
    seeded = seed(args)
    fixture = soak_fixture(seeded, wallets=max(args.users, 1))
    history = int(fixture.pop("history"))  # the campaign's clicks before the run
    tokens = live_tokens(args.subscribers)
    from django.conf import settings
    from django.db import connections

    site = Site(
        port=args.port,
        domain=domain,
        campaign=seeded["campaign"],
        wallets=max(args.users, 1),
        session_cookie=settings.SESSION_COOKIE_NAME,
        **fixture,
    )
    connections.close_all()  # not into the forked WebSocket clients

    from fabrknt.live.tests.server import asgi_server_start

    server = start_server(env, args.port, wait_seconds=300)
    # uvicorn reads WEB_CONCURRENCY too: gunicorn's worker count is not the ASGI server's.
    asgi = asgi_server_start(
        cwd=ROOT,
        log=workdir / "uvicorn.log",
        env={**env, "WEB_CONCURRENCY": str(args.asgi_workers)},
    )
    from fabrknt.celery import app

    app.control.purge()  # an earlier run's messages name rows of a database now recreated
    worker = worker_start(env, workdir / "worker.log", name="soak")
    beat = beat_start(env, workdir / "beat.log")
    processes = {
        "web": server.pid,
        "asgi": asgi.process.pid,
        "worker": worker.pid,
        "beat": beat.pid,
    }
    ledger, stopping = Ledger(), threading.Event()
    subscribers = Subscribers(
        f"ws://127.0.0.1:{asgi.port}/ws/live",
        asgi.port,
        tokens,
        f"campaign:{site.campaign}",
        processes=args.clients,
        client_class=CounterSubscriber,
    )
    try:
        if not celery_ready():
            raise SystemExit(f"the worker or beat did not start: logs in {workdir}")
        connections.close_all()
        subscribers.start()
        memory = Memory(processes, interval=max(5.0, min(30.0, seconds / 40)))
        load_before = load_average()
        since = dt.datetime.now(dt.UTC)
        started = time.monotonic()
        memory.sample()
        memory.start()
        Visitor.think = args.think
        visitors = [Visitor(i, site, ledger, stopping) for i in range(args.users)]
        for visitor in visitors:
            visitor.start()
            time.sleep(min(0.2, warmup / max(args.users, 1)))  # a ramp, not a stampede
        time.sleep(max(0.0, started + seconds - time.monotonic()))
        stopping.set()
        for visitor in visitors:
            visitor.join(timeout=90)
        ended = time.monotonic()
        end = memory.sample()
        procs = {name: len(process_tree(pid)) for name, pid in processes.items()}
        memory.running.set()
        load_after = load_average()
        settled = wait_until(lambda: drained(site, ledger, history), 180)
        last_flush, _ = flush_all()  # what beat's flushes left behind: nothing, if all is well
        time.sleep(3)  # the last counters' push
        pushes, _, push_errors = subscribers.results()
        rows = rows_counted(site, ledger, history, since)
        rows["left for the last flush"] = last_flush
    finally:
        stopping.set()
        subscribers.terminate()
        for process in (beat, worker, server):
            stop(process)
        asgi.stop()

    served, total, failed = requests_table(ledger, ended - started)
    print(
        f"\nSoak, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {args.minutes:g} min, "
        f"{args.users} visitors thinking {args.think:g} s, {args.subscribers} WebSocket "
        f"subscribers, gunicorn {args.workers} sync workers, uvicorn {args.asgi_workers} "
        f"process(es), a Celery worker (solo) and beat, "
        f"{args.clicks:,} clicks of history; load average {load_before} before, {load_after} "
        f"after ({os.cpu_count()} cores)\n"
    )
    print(served)
    error_rate = failed / total if total else 1.0
    print(f"error rate {error_rate * 100:.3f} % ({failed} of {total:,})\n")
    print("\n".join(memory_table(memory, started, started + warmup, end, procs)) + "\n")
    print("\n".join(push_lines(pushes, push_errors, len(tokens))) + "\n")
    for name, value in rows.items():
        print(f"{name:<26} {value:>9,}")
    if not settled:
        print("the queue and the click stream were not drained within 180 s")
    lost = {
        "clicks": rows["click rows"] != rows["clicks accepted"]
        or rows["accepted ids stored"] != rows["clicks accepted"],
        "webhooks": rows["delivery rows"] != rows["deliveries accepted"]
        or rows["deliveries unprocessed"] > 0
        or rows["contribution rows"] != rows["commits delivered"],
        "sign-ins": rows["nonces spent"] != rows["sign-ins answered"],
        "pushes": bool(push_errors)
        or len({s for _, s in pushes}) * len(tokens) != len(pushes)
        or not pushes,
    }
    grown = growth(memory, started + warmup, end)
    bounded = all(value <= args.max_growth for value in grown.values())
    verdict = not any(lost.values()) and bounded and error_rate < TARGETS["errors"]
    print(
        f"\nVERDICT {'PASS' if verdict else 'FAIL'}: "
        + (
            "no data lost"
            if not any(lost.values())
            else "LOST " + ", ".join(k for k, v in lost.items() if v)
        )
        + f"; memory growth {'bounded' if bounded else 'NOT bounded'} ("
        + ", ".join(f"{k} {v:+.1f}%" for k, v in grown.items())
        + f", limit {args.max_growth:g}%); errors {error_rate * 100:.3f} % "
        f"(limit {TARGETS['errors'] * 100:.1f} %)"
    )
    print(f"logs: {workdir}")


if __name__ == "__main__":
    main()
