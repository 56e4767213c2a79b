"""Celery tasks into the metrics store: how many ran and how each ended, how long they ran,
and how long they waited in their queue.

The publisher stamps its wall-clock time into the message headers (`published_at`); the
worker that starts the task subtracts it (or the task's ETA, when a countdown makes that
later) from its own clock, so hosts' clocks must agree (NTP) for the wait to be right, and
a negative difference counts as zero. Tasks run eagerly
(no broker) never waited and count no wait; an eager task's exception goes to its caller
(CELERY_TASK_EAGER_PROPAGATES) before Celery sends any signal, so there the request counts
it, as a 5xx. Connected once, from OpsConfig.ready, in web and worker processes alike; a
worker flushes what is left when it stops."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any

from celery import Task
from celery.signals import (
    before_task_publish,
    task_postrun,
    task_prerun,
    worker_process_shutdown,
    worker_shutdown,
)

from fabrknt.ops.metrics.families import CELERY_TASK_DURATION, CELERY_TASK_QUEUE_WAIT, CELERY_TASKS
from fabrknt.ops.metrics.store import store

PUBLISHED_AT_HEADER = "published_at"

_started: dict[str, float] = {}  # task id: perf_counter() when it started
_started_lock = threading.Lock()


def _stamp_published_at(headers: dict | None = None, **kwargs: Any) -> None:
    # Set, not defaulted: a retry is published again and waits anew.
    if headers is not None:
        headers[PUBLISHED_AT_HEADER] = time.time()


def _ready_at(task: Task, published_at: float) -> float:
    """When the task could first run: its publication, or its ETA (a countdown) if later."""
    eta = task.request.eta
    if not eta:
        return published_at
    try:
        return max(published_at, datetime.fromisoformat(str(eta)).timestamp())
    except ValueError:
        return published_at


def _task_started(task_id: str | None = None, task: Task | None = None, **kwargs: Any) -> None:
    if task is None or task_id is None:
        return
    published_at = getattr(task.request, PUBLISHED_AT_HEADER, None)
    if published_at is not None and not task.request.is_eager:
        queue = (task.request.delivery_info or {}).get("routing_key") or "unknown"
        waited = max(0.0, time.time() - _ready_at(task, float(published_at)))
        store.observe(CELERY_TASK_QUEUE_WAIT, (task.name, queue), waited)
    with _started_lock:
        _started[task_id] = time.perf_counter()


def _task_finished(
    task_id: str | None = None, task: Task | None = None, state: str | None = None, **kwargs: Any
) -> None:
    with _started_lock:
        started = _started.pop(task_id or "", None)
    if task is None:
        return
    store.count(CELERY_TASKS, (task.name, (state or "unknown").lower()))
    if started is not None:
        store.observe(CELERY_TASK_DURATION, (task.name,), time.perf_counter() - started)


def _flush_at_shutdown(**kwargs: Any) -> None:
    store.flush()


def celery_signals_connect() -> None:
    """Connect the handlers (idempotent: each has a dispatch_uid)."""
    before_task_publish.connect(_stamp_published_at, weak=False, dispatch_uid="metrics.publish")
    task_prerun.connect(_task_started, weak=False, dispatch_uid="metrics.prerun")
    task_postrun.connect(_task_finished, weak=False, dispatch_uid="metrics.postrun")
    worker_process_shutdown.connect(
        _flush_at_shutdown, weak=False, dispatch_uid="metrics.process_shutdown"
    )
    worker_shutdown.connect(_flush_at_shutdown, weak=False, dispatch_uid="metrics.shutdown")
