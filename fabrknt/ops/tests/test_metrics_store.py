"""The metrics store: records stay in memory until flushed, flushes of several processes add
up in Redis, a Redis outage keeps them for later, and without Redis the process keeps its
own. Real Redis (REDIS_URL), and a redis-server of the test's own for the outage."""

from __future__ import annotations

import time

import pytest

from fabrknt.ops.metrics.families import CACHE_REQUESTS, HTTP_REQUEST_DURATION, WEBHOOK_DELIVERIES
from fabrknt.ops.metrics.store import (
    CLICKS,
    ERRORS,
    REQUESTS,
    SUM,
    TOTALS_KEY,
    VALUE,
    LocalBackend,
    MetricsStore,
    default_backend,
    latency_field,
    minute_key,
    minute_of,
)
from fabrknt.redis_backoff import redis_skipped

pytestmark = pytest.mark.redis

ROUTE = ("/api/v1/things/<uuid:pk>", "GET", "2xx")


def record_requests(store: MetricsStore) -> None:
    store.request(*ROUTE, seconds=0.004, queries=2)  # bucket 0 (le 0.005)
    store.request(*ROUTE, seconds=0.06, queries=3)  # bucket 4 (le 0.075)
    store.request("/api/v1/things", "POST", "5xx", seconds=0.2, queries=0)  # bucket 7 (le 0.25)


def test_records_reach_redis_only_when_flushed(shared_metrics, one_minute):
    store = MetricsStore(flush_interval=None)
    record_requests(store)
    store.count(CACHE_REQUESTS, ("hit",), 3)

    assert shared_metrics.exists(TOTALS_KEY) == 0  # nothing written on the request path
    assert store.flush() is True

    totals = default_backend().totals()
    duration = HTTP_REQUEST_DURATION.name
    assert totals[(duration, ROUTE, 0)] == 1
    assert totals[(duration, ROUTE, 4)] == 1
    assert totals[(duration, ROUTE, SUM)] == pytest.approx(0.064)
    assert totals[(duration, ("/api/v1/things", "POST", "5xx"), 7)] == 1
    assert totals[("fabrknt_http_request_db_queries", ROUTE[:2], SUM)] == 5
    assert totals[(CACHE_REQUESTS.name, ("hit",), VALUE)] == 3
    minute = shared_metrics.hgetall(minute_key(minute_of(time.time())))
    assert int(minute[REQUESTS.encode()]) == 3
    assert int(minute[ERRORS.encode()]) == 1
    assert int(minute[latency_field(7).encode()]) == 1
    ttl = shared_metrics.ttl(minute_key(minute_of(time.time())))
    assert 7000 < ttl <= 7200
    assert store.flush() is True  # nothing left: nothing written twice
    assert default_backend().totals()[(duration, ROUTE, 0)] == 1


def test_two_processes_add_up_in_redis(shared_metrics, one_minute):
    web, worker = MetricsStore(flush_interval=None), MetricsStore(flush_interval=None)
    record_requests(web)
    record_requests(worker)
    web.count(WEBHOOK_DELIVERIES, ("github", "accepted"))
    worker.count(WEBHOOK_DELIVERIES, ("github", "accepted"), 2)
    worker.clicks(7)

    web.flush()
    worker.flush()

    totals = default_backend().totals()
    assert totals[(HTTP_REQUEST_DURATION.name, ROUTE, 0)] == 2
    assert totals[(HTTP_REQUEST_DURATION.name, ROUTE, SUM)] == pytest.approx(0.128)
    assert totals[(WEBHOOK_DELIVERIES.name, ("github", "accepted"), VALUE)] == 3
    assert totals[("fabrknt_clicks_ingested", (), VALUE)] == 7
    minute = default_backend().minutes(minute_of(time.time()) - 1, minute_of(time.time()))
    assert minute[minute_of(time.time())][REQUESTS] == 6
    assert minute[minute_of(time.time())][CLICKS] == 7


def test_the_background_thread_flushes_within_about_a_second(shared_metrics):
    store = MetricsStore(flush_interval=0.2)
    store.count(CACHE_REQUESTS, ("miss",))
    deadline = time.monotonic() + 5
    while not shared_metrics.exists(TOTALS_KEY):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert default_backend().totals()[(CACHE_REQUESTS.name, ("miss",), VALUE)] == 1


def test_a_redis_outage_keeps_the_records_for_the_next_flush(redis_server, settings):
    settings.REDIS_BACKOFF_SECONDS = 0.2
    store = MetricsStore(flush_interval=None)
    record_requests(store)
    redis_server.stop()

    assert store.flush() is False  # no exception: a request never sees it
    assert redis_skipped()
    record_requests(store)  # still recording meanwhile
    redis_server.start()
    time.sleep(0.25)

    assert store.flush() is True
    assert default_backend().totals()[(HTTP_REQUEST_DURATION.name, ROUTE, 0)] == 2


def test_without_redis_the_process_keeps_the_sums(settings, one_minute):
    settings.REDIS_URL = ""
    local = LocalBackend()
    one = MetricsStore(lambda: local, flush_interval=None)
    other = MetricsStore(lambda: local, flush_interval=None)
    record_requests(one)
    record_requests(other)
    one.flush()
    other.flush()

    assert local.totals()[(HTTP_REQUEST_DURATION.name, ROUTE, 4)] == 2
    now = minute_of(time.time())
    assert local.minutes(now, now)[now][REQUESTS] == 6
    assert local.click_backlog() is None
