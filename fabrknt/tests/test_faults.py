"""Faults with real processes and services: a Celery worker SIGKILLed in the middle of a
click flush; PostgreSQL cut off from a gunicorn-served application, then its Redis (and
broker) stopped. Every click the API accepted ends in the database exactly once.

The services failed are this test's own: a redis-server it starts (the `redis_server`
fixture) and a TCP proxy in front of the run's PostgreSQL (`TcpProxy`), never the
machine's shared ones. (Redis down, in process: test_redis_outage.py.)"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
import requests
from django.conf import settings
from django.db import OperationalError, connection
from django.test import Client

from accounts.services.api_keys import api_key_issue
from accounts.tests.factories import OrganizationFactory
from fabric.models import Listing
from fabrknt.celery import app as celery_app
from fabrknt.ops.tests.workers import wait_for, worker_command
from fabrknt.tests.tcp_proxy import TcpProxy
from trace.models import CampaignDay, Click, Project
from trace.services.clicks.flush import STREAM_GROUP, clicks_flush
from trace.services.clicks.stream import stream_keys
from trace.tests.factories import CampaignFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WALLET = "0x52908400098527886E0F7030069857D2E4169EE7"


class Tenant:
    """An organization with a campaign and its read, write and ingest keys."""

    def __init__(self) -> None:
        self.organization = OrganizationFactory()
        self.campaign = CampaignFactory(
            organization=self.organization, landing_url="https://app.example/"
        )
        self.keys = {
            scope: api_key_issue(organization=self.organization, name=scope, scopes=[scope]).key
            for scope in ("read", "write", "ingest")
        }

    def clicks(self, prefix: str, count: int) -> list[dict]:
        return [
            {"campaign_id": str(self.campaign.pk), "click_id": f"{prefix}-{number}"}
            for number in range(count)
        ]


def _database_url(*, port: int) -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@127.0.0.1:{port}/{db['NAME']}"


def _stored() -> list[str]:
    return sorted(Click.objects.values_list("click_id", flat=True))


# --- a flushing worker SIGKILLed ---------------------------------------------------------


@contextmanager
def _table_locked(table: str) -> Iterator[psycopg.Connection]:
    """Another session holds `table` in SHARE mode: reads go on, every INSERT waits."""
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"] or None, port=db["PORT"] or None, user=db["USER"], dbname=db["NAME"]
    ) as session:
        session.execute(f"LOCK TABLE {table} IN SHARE MODE")
        yield session


def _waiting_for(table: str) -> set[int]:
    """The database sessions waiting for a lock on `table`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_locks WHERE NOT granted AND relation = %s::regclass", [table]
        )
        return {pid for (pid,) in cursor.fetchall()}


# The flush is sent to the workers' broker, not run in this process.
@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
def test_a_worker_killed_mid_flush_loses_and_doubles_no_click(redis_server, tmp_path):
    """Two workers SIGKILLed in the two windows of a flush: after reading clicks, before
    their rows are committed; and after the commit, before the stream entries are
    acknowledged. The next flush stores each accepted click once."""
    tenant = Tenant()
    ingest = Client(HTTP_X_API_KEY=tenant.keys["ingest"])
    accepted = [
        ingest.post("/api/v1/clicks", click, content_type="application/json").json()["click_id"]
        for click in tenant.clicks("single", 10)
    ]
    for number in range(3):
        batch = {"clicks": tenant.clicks(f"batch{number}", 100)}
        answer = ingest.post("/api/v1/clicks/batch", batch, content_type="application/json")
        accepted += answer.json()["accepted"]
    assert len(accepted) == 310
    streams = redis_server.client()
    singles, batches = stream_keys()
    db = connection.settings_dict
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": redis_server.url(0),
        "CELERY_BROKER_URL": redis_server.url(1),
        # The next worker takes over a dead one's entries at once (60 s in production).
        "CLICK_STREAM_CLAIM_IDLE_SECONDS": "0",
    }
    workers = []
    for name in ("first", "second"):  # both start now: their start-up is the slow part
        log = tmp_path / f"worker-{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                worker_command(name=name, options=("--concurrency=1", f"--queues={name}")),
                cwd=settings.BASE_DIR,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        workers.append((process, log))
    (first, first_log), (second, second_log) = workers
    table = Click._meta.db_table

    def consumers() -> dict[str, int]:
        summary = streams.xpending(singles, STREAM_GROUP)
        return {entry["name"].decode(): int(entry["pending"]) for entry in summary["consumers"]}

    def flush_on(queue: str) -> None:
        with celery_app.connection_for_write(redis_server.url(1)) as broker:
            celery_app.send_task("trace.flush_clicks", queue=queue, connection=broker)

    try:
        with _table_locked(table) as lock:
            # 1. The first worker reads the single clicks and waits to insert them: killed.
            flush_on("first")
            first_session = wait_for(lambda: _waiting_for(table), first, first_log)
            assert list(consumers().values()) == [10]
            first.kill()
            first.wait()
            # 2. The second takes them over and waits to insert them too. (The first one's
            # session waits on, until the database notices its client is gone.)
            flush_on("second")
            wait_for(lambda: _waiting_for(table) - first_session, second, second_log)
            assert list(consumers().values()) == [10]
            assert f"-{second.pid}" in next(iter(consumers()))
            # Its rows may commit, but the acknowledgement cannot reach the stream.
            streams.execute_command("CLIENT", "PAUSE", 60_000, "WRITE")
            lock.rollback()
        wait_for(lambda: Click.objects.count() == 10, second, second_log)
        second.kill()
        second.wait()
    finally:
        streams.execute_command("CLIENT", "UNPAUSE")
        for process, log in workers:
            if process.poll() is None:
                process.kill()
                process.wait()
            print(log.read_text())

    # Committed, never acknowledged: still pending in the stream, the batches not read yet.
    assert list(consumers().values()) == [10]
    assert streams.xlen(batches) == 3
    flushed = clicks_flush(claim_idle_seconds=0)

    assert (flushed.read, flushed.reclaimed, flushed.inserted, flushed.duplicates) == (
        310,
        10,
        300,
        10,
    )
    assert _stored() == sorted(accepted)  # 310 rows, each accepted click once
    day = CampaignDay.objects.get(campaign=tenant.campaign)
    assert day.clicks + day.bot_clicks == 310  # the replay added nothing to the rollup
    assert streams.xlen(singles) == streams.xlen(batches) == 0


# --- PostgreSQL cut off -------------------------------------------------------------------


@contextmanager
def _database_through(proxy: TcpProxy) -> Iterator[None]:
    """This process's database connection goes through the proxy meanwhile."""
    direct = {name: connection.settings_dict[name] for name in ("HOST", "PORT")}
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT=str(proxy.port))
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(direct)


UNAVAILABLE = {"detail": "The database is unavailable; retry shortly.", "code": "unavailable"}


def test_postgresql_cut_off_answers_503_then_redis_stopped_answers_2xx(gunicorn, redis_server):
    """One gunicorn-served application, with production's DEBUG off and its broker on its
    Redis: PostgreSQL cut off, then Redis stopped. No accepted click is lost or doubled."""
    tenant = Tenant()
    unused_key = api_key_issue(organization=tenant.organization, name="new", scopes=["ingest"])
    db = connection.settings_dict
    proxy = TcpProxy(upstream=(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))).start()
    through_proxy = {
        "DATABASE_URL": _database_url(port=proxy.port),
        "REDIS_URL": redis_server.url(0),
        "CELERY_BROKER_URL": redis_server.url(1),
    }
    # DEBUG off, as in production: Django's error handlers answer, not its debug page.
    port = gunicorn(DEBUG="0", **through_proxy)
    http = requests.Session()
    accepted: list[str] = []

    def call(method: str, path: str, key: str | None = None, body: dict | None = None):
        headers = {"X-API-Key": key} if key else {}
        url = f"http://127.0.0.1:{port}{path}"
        return http.request(method, url, json=body, headers=headers, timeout=20)

    def serve(phase: str) -> dict[str, requests.Response]:
        answers = {
            "read": call("GET", "/api/v1/projects", tenant.keys["read"]),
            "write": call(
                "POST",
                "/api/v1/projects",
                tenant.keys["write"],
                {
                    "organization": str(tenant.organization.pk),
                    "name": phase,
                    "chain": "eip155:1",
                    "contract_addresses": [WALLET],
                },
            ),
            "click": call(
                "POST", "/api/v1/clicks", tenant.keys["ingest"], tenant.clicks(phase, 1)[0]
            ),
            "batch": call(
                "POST",
                "/api/v1/clicks/batch",
                tenant.keys["ingest"],
                {"clicks": tenant.clicks(f"{phase}-batch", 20)},
            ),
        }
        if answers["click"].status_code == 202:
            accepted.append(answers["click"].json()["click_id"])
        if answers["batch"].status_code == 202:
            accepted.extend(answers["batch"].json()["accepted"])
        return answers

    def statuses(answers: dict[str, requests.Response]) -> dict[str, int]:
        return {name: answer.status_code for name, answer in answers.items()}

    assert call("GET", "/readyz").status_code == 200
    assert statuses(serve("up")) == {"read": 200, "write": 201, "click": 202, "batch": 202}

    proxy.cut()
    readiness = call("GET", "/readyz")
    down = serve("down")
    # A key the process never saw must be looked up in the database: the plain click view.
    unknown_key = call("POST", "/api/v1/clicks", unused_key.key, tenant.clicks("unknown", 1)[0])
    # A flush cut off too fails, and the clicks it read stay pending in the stream.
    with _database_through(proxy), pytest.raises(OperationalError):
        clicks_flush()

    assert (readiness.status_code, readiness.json()) == (
        503,
        {
            "status": "unavailable",
            "down": ["database"],
            "checks": {"database": "down", "cache": "ok", "broker": "ok"},
        },
    )
    # The clicks' fast path needs Redis only: still accepted.
    assert statuses(down) == {"read": 503, "write": 503, "click": 202, "batch": 202}
    assert unknown_key.status_code == 503
    for answer in (down["read"], down["write"], unknown_key):
        assert answer.json() == UNAVAILABLE
        assert answer.headers["Retry-After"] == "5"
    streams = redis_server.client()
    singles, _batches = stream_keys()
    # The single clicks it read before the database refused them (then it stopped).
    assert streams.xpending(singles, STREAM_GROUP)["pending"] == 2

    proxy.restore()
    assert statuses(serve("again")) == {"read": 200, "write": 201, "click": 202, "batch": 202}
    assert call("GET", "/readyz").status_code == 200
    assert _stored() == []
    # A later run takes over the dead flusher's pending entries (long idle in production).
    flushed = clicks_flush(claim_idle_seconds=0)

    assert (flushed.read, flushed.inserted, flushed.duplicates, flushed.reclaimed) == (63, 63, 0, 2)
    assert len(accepted) == 63
    assert _stored() == sorted(accepted)  # every accepted click, once
    written = Project.objects.filter(name__in=["up", "down", "again"]).values_list(
        "name", flat=True
    )
    assert sorted(written) == ["again", "up"]  # the refused write stored nothing

    # Redis stops, the broker with it: clicks go to the database, and a write that queues a
    # task (a new listing's scores) is answered all the same.
    redis_server.stop()
    without_redis = serve("no-redis")
    listing = call(
        "POST",
        "/api/v1/listings",
        tenant.keys["write"],
        {
            "organization": str(tenant.organization.pk),
            "title": "Through an outage",
            "asking_price_usd": "1000.00",
            "blockchain": "eip155:1",
            "visibility": "public",
        },
    )
    readiness = call("GET", "/readyz")

    assert statuses(without_redis) == {"read": 200, "write": 201, "click": 202, "batch": 202}
    assert listing.status_code == 201
    assert Listing.objects.filter(title="Through an outage").count() == 1
    assert (readiness.status_code, readiness.json()["down"]) == (200, ["cache", "broker"])
    assert _stored() == sorted(accepted)  # stored as they were accepted: 84, once each
