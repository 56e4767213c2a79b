"""Celery signal handlers that feed the telemetry from inside each worker: a heartbeat
thread started when the worker is ready, and each task's outcome when it finishes.

Connected once (by `dispatch_uid`) when `fabrknt.celery` imports this module, so in every
process that loads the Celery app; web processes only ever run tasks eagerly, which are
not recorded. A thread of our own rather than Celery's `heartbeat_sent` signal: that one
rides on the event dispatcher, which is off with `--without-heartbeat` and on SQS, and
stalls while a solo pool runs a long task.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from celery import Task
from celery.concurrency import ALIASES  # type: ignore[attr-defined]  # not in celery-types
from celery.exceptions import Retry
from celery.signals import task_postrun, task_prerun, worker_ready, worker_shutdown
from celery.worker import state as worker_state
from django.conf import settings
from django.utils import timezone

from fabrknt.ops.worker_records import (
    TaskResult,
    WorkerRecord,
    task_result_record,
    worker_forget,
    worker_heartbeat_record,
)

# Task id → time.monotonic() when it started, in the process that runs it.
_task_started: dict[str, float] = {}
_stopping = threading.Event()
_heartbeats: threading.Thread | None = None


def _pool_name(pool_cls: type) -> str:
    """The name `--pool` takes (prefork, solo, threads…) for the worker's pool class."""
    path = f"{pool_cls.__module__}:{pool_cls.__qualname__}"
    return next((name for name, alias in ALIASES.items() if alias == path), path)


def _worker_record(consumer: Any, *, started_at: Any) -> WorkerRecord:
    now = timezone.now()
    return WorkerRecord(
        hostname=consumer.hostname,
        pid=os.getpid(),
        queues=sorted(consumer.app.amqp.queues.consume_from),
        pool=_pool_name(type(consumer.pool)),
        concurrency=getattr(consumer.controller, "concurrency", None),
        started_at=started_at,
        last_seen=now,
        tasks_run=worker_state.all_total_count[0],
        tasks_active=len(worker_state.active_requests),
    )


def _heartbeats_send(consumer: Any) -> None:
    started_at = timezone.now()
    while True:
        worker_heartbeat_record(worker=_worker_record(consumer, started_at=started_at))
        if _stopping.wait(settings.TELEMETRY_HEARTBEAT_SECONDS):
            return


@worker_ready.connect(dispatch_uid="fabrknt.ops.worker_telemetry.heartbeats_start")
def _heartbeats_start(sender: Any = None, **kwargs: Any) -> None:
    global _heartbeats
    _stopping.clear()
    _heartbeats = threading.Thread(
        target=_heartbeats_send, args=(sender,), name="telemetry-heartbeats", daemon=True
    )
    _heartbeats.start()


@worker_shutdown.connect(dispatch_uid="fabrknt.ops.worker_telemetry.heartbeats_stop")
def _heartbeats_stop(sender: Any = None, **kwargs: Any) -> None:
    if _heartbeats is None:
        return
    _stopping.set()
    _heartbeats.join(timeout=5)  # its last record must not land after the goodbye
    worker_forget(hostname=sender.hostname)


@task_prerun.connect(dispatch_uid="fabrknt.ops.worker_telemetry.task_started")
def _task_started_note(task_id: str | None = None, task: Task | None = None, **kwargs) -> None:
    if task_id and task is not None and not task.request.is_eager:
        _task_started[task_id] = time.monotonic()


def _error_class(state: str, retval: Any) -> str | None:
    error = retval.exc if isinstance(retval, Retry) else retval
    if state == "SUCCESS" or not isinstance(error, BaseException):
        return None
    cls = type(error)
    return (
        cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    )


@task_postrun.connect(dispatch_uid="fabrknt.ops.worker_telemetry.task_finished")
def _task_finished_note(
    task_id: str | None = None,
    task: Task | None = None,
    retval: Any = None,
    state: str | None = None,
    **kwargs: Any,
) -> None:
    if not task_id or task is None or task.request.is_eager:
        return
    started = _task_started.pop(task_id, None)
    state = state or "UNKNOWN"
    result = TaskResult(
        task_id=task_id,
        status=state.lower(),
        finished_at=timezone.now(),
        duration_ms=None if started is None else round((time.monotonic() - started) * 1000, 1),
        error_class=_error_class(state, retval),
        worker=task.request.hostname or "",
    )
    task_result_record(task_name=task.name, result=result)
