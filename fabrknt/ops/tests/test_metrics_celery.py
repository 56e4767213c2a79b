"""Celery tasks in the shared store: a real worker process records the task it ran, how
long it waited in its queue (from the publish time the publisher put in its headers) and
how long it ran, and flushes them to Redis itself; a failure counts as one."""

from __future__ import annotations

import time
import uuid

import pytest

from fabrknt.celery import app
from fabrknt.ops.metrics.families import (
    CELERY_TASK_DURATION,
    CELERY_TASK_QUEUE_WAIT,
    CELERY_TASKS,
    TASK_SECONDS_BUCKETS,
)
from fabrknt.ops.metrics.store import SUM, VALUE, default_backend, store
from fabrknt.ops.tasks import ping
from fabrknt.tests.test_celery_worker import DEADLINE_SECONDS, not_eager, worker  # noqa: F401

pytestmark = pytest.mark.redis

COUNTDOWN = 3


def observations(totals: dict, family: str, labels: tuple[str, ...]) -> float:
    return sum(
        totals.get((family, labels, index), 0) for index in range(len(TASK_SECONDS_BUCKETS) + 1)
    )


@pytest.mark.celery_worker
def test_a_worker_records_the_task_and_its_queue_wait(shared_metrics, worker, not_eager):  # noqa: F811
    published = time.time()
    ping.apply_async(args=(uuid.uuid4().hex,))
    deadline = time.monotonic() + DEADLINE_SECONDS
    done = (CELERY_TASKS.name, ("ops.ping", "success"), VALUE)
    while (totals := default_backend().totals()).get(done, 0) < 1:
        assert worker[0].poll() is None, "the worker stopped"
        assert time.monotonic() < deadline, "the worker's records never reached Redis"
        time.sleep(0.2)

    assert totals[done] == 1
    wait = (CELERY_TASK_QUEUE_WAIT.name, ("ops.ping", "default"))
    assert observations(totals, *wait) == 1
    assert 0 <= totals[(*wait, SUM)] <= time.time() - published
    assert observations(totals, CELERY_TASK_DURATION.name, ("ops.ping",)) == 1

    # A countdown is no wait: the wait runs from the task's ETA.
    ping.apply_async(args=(uuid.uuid4().hex,), countdown=COUNTDOWN)
    while (later := default_backend().totals()).get(done, 0) < 2:
        assert time.monotonic() < deadline, "the worker's records never reached Redis"
        time.sleep(0.2)
    assert observations(later, *wait) == 2
    assert later[(*wait, SUM)] - totals[(*wait, SUM)] < COUNTDOWN / 2


@app.task(name="tests.metrics.fails")
def fails() -> None:
    raise RuntimeError("as intended")


def test_a_task_run_in_process_counts_its_state_and_duration_but_no_wait(shared_metrics):
    ping.apply(args=(uuid.uuid4().hex,))
    # Not propagated, as in a worker. (Run eagerly with propagation, the embedded default, a
    # failure is the caller's exception: Celery sends no signal, the request counts a 5xx.)
    assert fails.apply(throw=False).state == "FAILURE"
    store.flush()

    totals = default_backend().totals()
    assert totals[(CELERY_TASKS.name, ("ops.ping", "success"), VALUE)] == 1
    assert totals[(CELERY_TASKS.name, ("tests.metrics.fails", "failure"), VALUE)] == 1
    assert observations(totals, CELERY_TASK_DURATION.name, ("ops.ping",)) == 1
    assert not any(key[0] == CELERY_TASK_QUEUE_WAIT.name for key in totals)
