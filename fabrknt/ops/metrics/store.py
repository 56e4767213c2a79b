"""The metrics store: counters and histograms shared by every process and container
through Redis, with per-minute buckets from which windows are computed.

Prometheus' own multiprocess mode shares files in one directory, so one host's scrape sees
one host's processes; our web and worker containers run on many. Here each process adds
what it records to a table in memory (a lock and a few dict updates, no I/O on the request
path) and a background thread writes that table to Redis in one MULTI/EXEC pipeline at most
once a second, and at exit or when this process serves a scrape. Redis holds:

- `fabrknt:metrics:totals`: one hash of cumulative values, the counters `/metrics` exposes;
- `fabrknt:metrics:minute:<unix minute>`: one hash per minute (kept two hours) with the
  requests, 5xx answers, latency buckets, clicks accepted and the largest click backlog
  seen in that minute, from which `operational_metrics()` computes its windows.

Both are written from the same recorded events in the same pipeline. Without REDIS_URL
(the embedded default) the same tables live in this process. A flush that fails is kept
for the next one and tells `fabrknt.redis_backoff`, so a Redis outage never reaches a
request and loses nothing recorded meanwhile (a flush cut off after Redis ran it may count
twice: the reply is what got lost)."""

from __future__ import annotations

import atexit
import json
import logging
import os
import threading
import time
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Protocol

import redis
from django.conf import settings

from fabrknt.ops.metrics.families import (
    CLICKS_INGESTED,
    HTTP_REQUEST_DB_QUERIES,
    HTTP_REQUEST_DURATION,
    LATENCY_BUCKETS,
    QUERY_BUCKETS,
    Family,
)
from fabrknt.redis_backoff import REDIS_ERRORS, redis_failed, redis_skipped

logger = logging.getLogger(__name__)

FLUSH_INTERVAL_SECONDS = 1.0
MINUTE_TTL_SECONDS = 2 * 3600
KEY_PREFIX = "fabrknt:metrics"
TOTALS_KEY = f"{KEY_PREFIX}:totals"

# A series value: (family name, label values, part); the part is a histogram bucket's
# index (len(buckets) for +Inf), SUM for a histogram's sum, or VALUE for a counter.
SUM = "sum"
VALUE = "value"
SeriesKey = tuple[str, tuple[str, ...], int | str]
Totals = dict[SeriesKey, float]
# Per minute (unix time // 60): REQUESTS, ERRORS, CLICKS, BACKLOG and latency_field(i).
Minutes = dict[int, dict[str, float]]
MinutesDelta = Mapping[int, Mapping[str, float]]
REQUESTS = "requests"
ERRORS = "errors"
CLICKS = "clicks"
BACKLOG = "backlog"
SERVER_ERROR = "5xx"


def latency_field(index: int) -> str:
    return f"le:{index}"


def minute_key(minute: int) -> str:
    return f"{KEY_PREFIX}:minute:{minute}"


def minute_of(timestamp: float) -> int:
    return int(timestamp // 60)


class MetricsBackend(Protocol):
    """Where flushed values are added up: Redis, or this process without it."""

    def apply(self, totals: Totals, minutes: MinutesDelta) -> None: ...
    def totals(self) -> Totals: ...
    def minutes(self, first: int, last: int) -> Minutes: ...
    def click_backlog(self) -> dict[str, int] | None: ...


def _click_streams() -> dict[str, str]:
    # Imported here: the click stream module records its clicks through this store.
    from trace.services.clicks.stream import stream_keys

    singles, batches = stream_keys()
    return {"singles": singles, "batches": batches}


# The click backlog of this moment (entries in both click streams) into the minute's hash,
# kept if larger than what the minute holds. KEYS: the minute's hash, the streams.
# ARGV: the hash's time to live.
_SAMPLE_BACKLOG = f"""
local n = 0
for i = 2, #KEYS do n = n + redis.call('XLEN', KEYS[i]) end
local seen = tonumber(redis.call('HGET', KEYS[1], '{BACKLOG}') or '-1')
if n > seen then redis.call('HSET', KEYS[1], '{BACKLOG}', n) end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return n
"""


class RedisBackend:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def apply(self, totals: Totals, minutes: MinutesDelta) -> None:
        pipe = self.client.pipeline(transaction=True)
        for key, amount in totals.items():
            field = _encode(key)
            if key[2] == SUM:
                pipe.hincrbyfloat(TOTALS_KEY, field, amount)
            else:
                pipe.hincrby(TOTALS_KEY, field, int(amount))
        for minute, fields in minutes.items():
            name = minute_key(minute)
            for field, amount in fields.items():
                pipe.hincrby(name, field, int(amount))
            pipe.expire(name, MINUTE_TTL_SECONDS)
        streams = list(_click_streams().values())
        name = minute_key(minute_of(time.time()))
        pipe.eval(_SAMPLE_BACKLOG, 1 + len(streams), name, *streams, MINUTE_TTL_SECONDS)
        pipe.execute()

    def totals(self) -> Totals:
        raw = self.client.hgetall(TOTALS_KEY)
        return {_decode(field): float(value) for field, value in raw.items()}

    def minutes(self, first: int, last: int) -> Minutes:
        pipe = self.client.pipeline(transaction=False)
        span = range(first, last + 1)
        for minute in span:
            pipe.hgetall(minute_key(minute))
        return {
            minute: {field.decode(): float(value) for field, value in raw.items()}
            for minute, raw in zip(span, pipe.execute(), strict=True)
            if raw
        }

    def click_backlog(self) -> dict[str, int] | None:
        streams = _click_streams()
        pipe = self.client.pipeline(transaction=False)
        for key in streams.values():
            pipe.xlen(key)
        return dict(zip(streams, pipe.execute(), strict=True))


class LocalBackend:
    """The embedded default: this process is the only one, so it keeps the sums itself."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._totals: defaultdict[SeriesKey, float] = defaultdict(float)
        self._minutes: defaultdict[int, defaultdict[str, float]] = _minute_table()

    def apply(self, totals: Totals, minutes: MinutesDelta) -> None:
        oldest = minute_of(time.time() - MINUTE_TTL_SECONDS)
        with self._lock:
            for key, amount in totals.items():
                self._totals[key] += amount
            for minute, fields in minutes.items():
                for field, amount in fields.items():
                    self._minutes[minute][field] += amount
            for minute in [minute for minute in self._minutes if minute < oldest]:
                del self._minutes[minute]

    def totals(self) -> Totals:
        with self._lock:
            return dict(self._totals)

    def minutes(self, first: int, last: int) -> Minutes:
        with self._lock:
            return {
                minute: dict(fields)
                for minute, fields in self._minutes.items()
                if first <= minute <= last
            }

    def click_backlog(self) -> dict[str, int] | None:
        return None  # no stream: clicks go straight to the database


def _minute_table() -> defaultdict[int, defaultdict[str, float]]:
    return defaultdict(lambda: defaultdict(float))


def _encode(key: SeriesKey) -> str:
    name, labels, part = key
    return json.dumps([name, list(labels), part], separators=(",", ":"))


def _decode(field: bytes | str) -> SeriesKey:
    name, labels, part = json.loads(field)
    return name, tuple(labels), part


@lru_cache(maxsize=4)
def _redis_client(url: str) -> redis.Redis:
    # Short timeouts: a flush is never worth a request's wait, and a scrape retries.
    return redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)


_LOCAL = LocalBackend()


def default_backend() -> MetricsBackend:
    """Redis when REDIS_URL is set (read at each call: tests point it elsewhere)."""
    if settings.REDIS_URL:
        return RedisBackend(_redis_client(settings.REDIS_URL))
    return _LOCAL


class MetricsStore:
    """What this process recorded since its last flush, and the flush.

    `flush_interval` None: no background thread; flushed only when asked (a second store
    in tests, standing for another process)."""

    def __init__(
        self,
        backend: Callable[[], MetricsBackend] = default_backend,
        *,
        flush_interval: float | None = FLUSH_INTERVAL_SECONDS,
    ) -> None:
        self.backend = backend
        self.flush_interval = flush_interval
        self._lock = threading.Lock()
        # One flush at a time: a flush that returns has written all that came before it.
        self._flushing = threading.Lock()
        self._pending: defaultdict[SeriesKey, float] = defaultdict(float)
        self._minutes = _minute_table()
        self._flusher: threading.Thread | None = None

    # --- recording: in memory only ---------------------------------------------------------

    def count(self, family: Family, labels: tuple[str, ...] = (), amount: float = 1) -> None:
        self._ensure_flusher()
        with self._lock:
            self._pending[(family.name, labels, VALUE)] += amount

    def observe(self, family: Family, labels: tuple[str, ...], value: float) -> None:
        bucket = bisect_left(family.buckets, value)  # the first bound >= value (`le`)
        self._ensure_flusher()
        with self._lock:
            self._pending[(family.name, labels, bucket)] += 1
            self._pending[(family.name, labels, SUM)] += value

    def request(self, route: str, method: str, status: str, seconds: float, queries: int) -> None:
        """One HTTP request: its latency and queries by route, and the minute's figures."""
        bucket = bisect_left(LATENCY_BUCKETS, seconds)
        query_bucket = bisect_left(QUERY_BUCKETS, queries)
        minute = minute_of(time.time())
        self._ensure_flusher()
        labels = (route, method, status)
        with self._lock:
            pending = self._pending
            pending[(HTTP_REQUEST_DURATION.name, labels, bucket)] += 1
            pending[(HTTP_REQUEST_DURATION.name, labels, SUM)] += seconds
            pending[(HTTP_REQUEST_DB_QUERIES.name, labels[:2], query_bucket)] += 1
            pending[(HTTP_REQUEST_DB_QUERIES.name, labels[:2], SUM)] += queries
            fields = self._minutes[minute]
            fields[REQUESTS] += 1
            fields[_LATENCY_FIELDS[bucket]] += 1
            if status == SERVER_ERROR:
                fields[ERRORS] += 1

    def clicks(self, count: int) -> None:
        """Clicks accepted: the counter, and the minute's ingest figure."""
        minute = minute_of(time.time())
        self._ensure_flusher()
        with self._lock:
            self._pending[(CLICKS_INGESTED.name, (), VALUE)] += count
            self._minutes[minute][CLICKS] += count

    # --- flushing ----------------------------------------------------------------------

    def flush(self) -> bool:
        """Add what this process recorded to the shared store; False when Redis failed
        (what was recorded is kept for the next flush)."""
        with self._flushing:
            with self._lock:
                if not self._pending and not self._minutes:
                    return True
                totals, minutes = self._pending, self._minutes
                self._pending, self._minutes = defaultdict(float), _minute_table()
            if settings.REDIS_URL and redis_skipped():
                self._keep(totals, minutes)
                return False
            try:
                self.backend().apply(totals, minutes)
            except REDIS_ERRORS as error:
                redis_failed(error, during="the metrics flush")
                self._keep(totals, minutes)
                return False
            return True

    def discard(self) -> None:
        """Forget what was recorded and not flushed (a forked child: its parent's)."""
        self._lock = threading.Lock()  # a thread of the parent may have held them
        self._flushing = threading.Lock()
        self._pending = defaultdict(float)
        self._minutes = _minute_table()
        self._flusher = None

    def _keep(self, totals: Totals, minutes: MinutesDelta) -> None:
        oldest = minute_of(time.time() - MINUTE_TTL_SECONDS)
        with self._lock:
            for key, amount in totals.items():
                self._pending[key] += amount
            for minute, fields in minutes.items():
                if minute >= oldest:  # older minutes have expired in Redis anyway
                    for field, amount in fields.items():
                        self._minutes[minute][field] += amount

    def _ensure_flusher(self) -> None:
        if self._flusher is None and self.flush_interval:
            self._start_flusher()

    def _start_flusher(self) -> None:
        with self._lock:
            if self._flusher is not None:
                return
            self._flusher = threading.Thread(
                target=self._flush_forever, name="metrics-flush", daemon=True
            )
            self._flusher.start()

    def _flush_forever(self) -> None:
        interval = self.flush_interval or FLUSH_INTERVAL_SECONDS
        while True:
            time.sleep(interval)
            try:
                self.flush()
            # The thread must outlive a bug in one flush: dead, it would leave this
            # process recording into memory that nothing empties, and say nothing.
            except Exception:  # noqa: BLE001
                logger.exception("The metrics flush failed")


_LATENCY_FIELDS = tuple(latency_field(index) for index in range(len(LATENCY_BUCKETS) + 1))

# This process's store. A forked child (gunicorn and Celery workers) starts empty, with a
# flusher thread of its own at its first record; at exit, what is left is flushed.
store = MetricsStore()
os.register_at_fork(after_in_child=store.discard)
atexit.register(store.flush)


def latency_buckets(fields: Iterable[dict[str, float]]) -> list[float]:
    """The latency bucket counts (not cumulative, +Inf last) summed over minutes."""
    counts = [0.0] * len(_LATENCY_FIELDS)
    for minute in fields:
        for index, field in enumerate(_LATENCY_FIELDS):
            counts[index] += minute.get(field, 0.0)
    return counts
