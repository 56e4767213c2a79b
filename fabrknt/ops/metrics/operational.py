"""The operational figures: request rate, latency percentiles, error rate and click ingest
over the last 1, 5 and 15 minutes, the click backlog, and a per-minute series of the last
hour, all computed from the per-minute buckets of the shared store (`store.py`); beside
them, the task queues' depths and dead letters as the broker tells them now.

Windows are whole minutes: the last N minutes that have ended, and ended at least
FLUSH_GRACE_SECONDS ago, so that every process has flushed them (each flushes about once a
second). The minute in progress is left out rather than shown half counted. Percentiles
are interpolated inside the latency bucket where they fall, as Prometheus'
`histogram_quantile` does; a window without requests has none (null), never a zero."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from fabrknt.api.errors import Unavailable
from fabrknt.ops.alarms import AlarmState, alarms_evaluate
from fabrknt.ops.metrics.families import LATENCY_BUCKETS
from fabrknt.ops.metrics.store import (
    BACKLOG,
    CLICKS,
    ERRORS,
    REQUESTS,
    Minutes,
    default_backend,
    latency_buckets,
    minute_of,
    store,
)
from fabrknt.redis_backoff import REDIS_ERRORS, redis_failed, redis_skipped

if TYPE_CHECKING:
    from fabrknt.ops.queues import QueueStats

WINDOW_MINUTES = (1, 5, 15)
SERIES_MINUTES = 60
FLUSH_GRACE_SECONDS = 2.0


@dataclass(frozen=True)
class Window:
    minutes: int
    requests: int
    request_rate: float  # per second
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    server_errors: int  # 5xx answers
    error_rate: float | None  # 5xx share of the answers; None without requests
    clicks: int
    click_ingest_rate: float  # per second


@dataclass(frozen=True)
class MinutePoint:
    minute: datetime  # its start
    requests: int
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    server_errors: int  # 5xx answers
    clicks: int
    click_backlog: int | None  # the largest seen in the minute; None: not sampled


@dataclass(frozen=True)
class OperationalMetrics:
    generated_at: datetime
    complete_until: datetime  # the end of the last whole minute counted
    windows: list[Window]
    click_backlog: int | None  # entries in the click streams now; None without Redis
    series: list[MinutePoint]
    queues: list[QueueStats] | None = None  # None: the broker cannot be reached
    alarms: list[AlarmState] = field(default_factory=list)

    def window(self, minutes: int) -> Window | None:
        return next((window for window in self.windows if window.minutes == minutes), None)


def latency_percentile(counts: list[float], quantile: float) -> float | None:
    """The `quantile` (0-1) of latency bucket counts (not cumulative, +Inf last), in
    seconds; the largest finite bound when it falls in +Inf; None without observations."""
    total = sum(counts)
    if not total:
        return None
    rank = quantile * total
    cumulative = 0.0
    for index, count in enumerate(counts):
        if count and cumulative + count >= rank:
            if index == len(LATENCY_BUCKETS):
                return LATENCY_BUCKETS[-1]
            lower = LATENCY_BUCKETS[index - 1] if index else 0.0
            upper = LATENCY_BUCKETS[index]
            return lower + (upper - lower) * (rank - cumulative) / count
        cumulative += count
    return LATENCY_BUCKETS[-1]


def _milliseconds(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


def _window(minutes: Minutes, last: int, length: int) -> Window:
    fields = [minutes.get(minute, {}) for minute in range(last - length + 1, last + 1)]
    requests = int(sum(minute.get(REQUESTS, 0) for minute in fields))
    errors = int(sum(minute.get(ERRORS, 0) for minute in fields))
    clicks = int(sum(minute.get(CLICKS, 0) for minute in fields))
    counts = latency_buckets(fields)
    seconds = length * 60
    return Window(
        minutes=length,
        requests=requests,
        request_rate=round(requests / seconds, 4),
        latency_p50_ms=_milliseconds(latency_percentile(counts, 0.5)),
        latency_p99_ms=_milliseconds(latency_percentile(counts, 0.99)),
        server_errors=errors,
        error_rate=round(errors / requests, 6) if requests else None,
        clicks=clicks,
        click_ingest_rate=round(clicks / seconds, 4),
    )


def _point(minute: int, fields: dict[str, float]) -> MinutePoint:
    counts = latency_buckets([fields])
    backlog = fields.get(BACKLOG)
    return MinutePoint(
        minute=datetime.fromtimestamp(minute * 60, tz=UTC),
        requests=int(fields.get(REQUESTS, 0)),
        latency_p50_ms=_milliseconds(latency_percentile(counts, 0.5)),
        latency_p99_ms=_milliseconds(latency_percentile(counts, 0.99)),
        server_errors=int(fields.get(ERRORS, 0)),
        clicks=int(fields.get(CLICKS, 0)),
        click_backlog=None if backlog is None else int(backlog),
    )


def operational_metrics(*, now: float | None = None) -> OperationalMetrics:
    """The figures as of `now` (Unix seconds; default: this moment), this process's
    latest records flushed first. Unavailable (503) when Redis cannot be read."""
    from fabrknt.ops.readings import queues_read  # the queues import the Celery app

    now = time.time() if now is None else now
    store.flush()
    backend = default_backend()
    last = minute_of(now - FLUSH_GRACE_SECONDS) - 1
    first = last - max(SERIES_MINUTES, *WINDOW_MINUTES) + 1
    try:
        if redis_skipped():
            raise Unavailable("The metrics store (Redis) is unavailable.")
        minutes = backend.minutes(first, last)
        backlog = backend.click_backlog()
    except REDIS_ERRORS as error:
        redis_failed(error, during="reading the operational metrics")
        raise Unavailable("The metrics store (Redis) is unavailable.") from error
    metrics = OperationalMetrics(
        generated_at=datetime.fromtimestamp(now, tz=UTC),
        complete_until=datetime.fromtimestamp((last + 1) * 60, tz=UTC),
        windows=[_window(minutes, last, length) for length in WINDOW_MINUTES],
        click_backlog=None if backlog is None else sum(backlog.values()),
        series=[
            _point(minute, minutes.get(minute, {}))
            for minute in range(last - SERIES_MINUTES + 1, last + 1)
        ],
        queues=queues_read(),
    )
    metrics.alarms.extend(alarms_evaluate(metrics))
    return metrics
