"""What Celery workers leave in Redis for the telemetry: a heartbeat record per worker and
the last result per task name.

Workers write them (`fabrknt.ops.worker_telemetry`); `fabrknt.ops.telemetry` reads them.
They live in the cache's Redis (REDIS_URL), so every web process and container reads
what every worker wrote; without REDIS_URL (the embedded default, where tasks run eagerly
in-process) there are none. A worker's record expires WORKER_RECORD_SECONDS after its last
heartbeat: a worker that died without saying goodbye shows as stale for that long, then
disappears.

Writes never raise (telemetry must not fail a task or stop a worker): a Redis error sends
the process into the Redis back-off (`fabrknt.redis_backoff`) and the record is skipped.
Reads raise the Redis error, for the caller to report the records as down.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
from typing import Any

import redis
from django.core.cache import cache

from fabrknt.redis_backoff import REDIS_ERRORS, redis_failed, redis_skipped

WORKER_RECORD_SECONDS = 3600
# A sorted set of worker hostnames scored by their last heartbeat (epoch seconds), so a
# read finds the workers without scanning the keyspace.
WORKERS_KEY = "ops:workers"
# A hash of task name → its last result (task names are a fixed, small set).
TASK_RESULTS_KEY = "ops:task-results"


@dataclasses.dataclass(frozen=True)
class WorkerRecord:
    hostname: str
    pid: int
    queues: list[str]
    pool: str
    concurrency: int | None
    started_at: dt.datetime
    last_seen: dt.datetime
    tasks_run: int
    tasks_active: int


@dataclasses.dataclass(frozen=True)
class TaskResult:
    task_id: str
    status: str  # Celery's final state, lower case: success, failure, retry, ignored, …
    finished_at: dt.datetime
    duration_ms: float | None
    # The exception's class, never its message: messages carry URLs, keys and user data.
    error_class: str | None
    worker: str


def records_client() -> redis.Redis | None:
    """The cache's Redis client (django-redis), or None when the cache is not Redis."""
    get_client = getattr(getattr(cache, "client", None), "get_client", None)
    return None if get_client is None else get_client(write=True)


def _worker_key(hostname: str) -> str:
    return cache.make_key(f"ops:worker:{hostname}")


def _dumps(record: WorkerRecord | TaskResult) -> str:
    return json.dumps(
        dataclasses.asdict(record),
        default=lambda value: value.isoformat(),  # the datetimes
    )


_DATETIME_FIELDS = ("started_at", "last_seen", "finished_at")


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _loads(cls: type[Any], raw: bytes | str) -> Any:
    values = json.loads(raw)
    for name in _DATETIME_FIELDS:
        if name in values:
            values[name] = dt.datetime.fromisoformat(values[name])
    return cls(**values)


def _writer() -> redis.Redis | None:
    """The client to write with, or None when there is no Redis or this process backs off."""
    client = records_client()
    if client is None or redis_skipped():
        return None
    return client


def worker_heartbeat_record(*, worker: WorkerRecord) -> None:
    client = _writer()
    if client is None:
        return
    seen = worker.last_seen.timestamp()
    index = cache.make_key(WORKERS_KEY)
    pipeline = client.pipeline()
    pipeline.set(_worker_key(worker.hostname), _dumps(worker), ex=WORKER_RECORD_SECONDS)
    pipeline.zadd(index, {worker.hostname: seen})
    pipeline.zremrangebyscore(index, "-inf", seen - WORKER_RECORD_SECONDS)
    try:
        pipeline.execute()
    except REDIS_ERRORS as error:
        redis_failed(error, during="a worker heartbeat")


def worker_forget(*, hostname: str) -> None:
    """A worker that shuts down cleanly leaves no record to be taken for a stale one."""
    client = _writer()
    if client is None:
        return
    pipeline = client.pipeline()
    pipeline.delete(_worker_key(hostname))
    pipeline.zrem(cache.make_key(WORKERS_KEY), hostname)
    try:
        pipeline.execute()
    except REDIS_ERRORS as error:
        redis_failed(error, during="a worker's goodbye")


def task_result_record(*, task_name: str, result: TaskResult) -> None:
    client = _writer()
    if client is None:
        return
    try:
        client.hset(cache.make_key(TASK_RESULTS_KEY), task_name, _dumps(result))
    except REDIS_ERRORS as error:
        redis_failed(error, during="a task result")


def workers_list(client: redis.Redis) -> list[WorkerRecord]:
    """Workers heard from within WORKER_RECORD_SECONDS, by hostname."""
    cutoff = time.time() - WORKER_RECORD_SECONDS
    hostnames = client.zrangebyscore(cache.make_key(WORKERS_KEY), cutoff, "+inf")
    if not hostnames:
        return []
    records = client.mget([_worker_key(_text(hostname)) for hostname in hostnames])
    workers = [_loads(WorkerRecord, raw) for raw in records if raw is not None]
    return sorted(workers, key=lambda worker: worker.hostname)


def task_results(client: redis.Redis) -> dict[str, TaskResult]:
    """The last result of every task name a worker has run."""
    stored = client.hgetall(cache.make_key(TASK_RESULTS_KEY))
    return {_text(name): _loads(TaskResult, raw) for name, raw in stored.items()}
