"""A real `celery worker` process against the Redis broker runs a task end to end."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache

from fabrknt.celery import app
from fabrknt.ops.services import ping_key
from fabrknt.ops.tasks import ping
from fabrknt.ops.tests.workers import worker_command
from fabrknt.security.request_id import current_request_id

REPO = Path(settings.BASE_DIR)
# Generous: a cold worker start under a loaded CI machine took over 15 s (the test
# returns as soon as the task has run)
DEADLINE_SECONDS = 90


@pytest.fixture
def worker(tmp_path):
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            worker_command(),
            cwd=REPO,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process, log
    finally:
        print(log.read_text())
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def not_eager():
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True


@pytest.mark.redis  # the worker and this test meet in the shared cache (REDIS_URL)
@pytest.mark.celery_worker
def test_a_real_worker_runs_a_task_from_the_broker(worker, not_eager):
    process, log = worker
    token, request_id = uuid.uuid4().hex, f"req-{uuid.uuid4().hex[:12]}"
    started = time.monotonic()

    enqueuing = current_request_id.set(request_id)  # as RequestIdMiddleware does
    try:
        result = ping.apply_async(args=(token,))
    finally:
        current_request_id.reset(enqueuing)
    proof = None
    while proof is None and time.monotonic() - started < DEADLINE_SECONDS:
        assert process.poll() is None, log.read_text()
        time.sleep(0.2)
        proof = cache.get(ping_key(token))

    assert proof is not None, log.read_text()
    assert set(proof) == {"hostname", "at"}
    succeeded = f"Task ops.ping[{result.id}] succeeded"
    while succeeded not in log.read_text() and time.monotonic() - started < DEADLINE_SECONDS:
        time.sleep(0.1)  # the worker logs success just after the task returns
    assert succeeded in log.read_text()
    # The worker's log line carries the id of the request that enqueued the task.
    assert f"[{request_id}] Ping {token} answered by" in log.read_text()
    # The finished delivery left no redelivery count behind.
    assert cache.get(f"celery:deliveries:{result.id}:0") is None


@pytest.mark.redis
@pytest.mark.celery_worker
def test_a_real_worker_dead_letters_a_message_delivered_past_the_cap(worker, not_eager):
    process, log = worker
    token, task_id = uuid.uuid4().hex, str(uuid.uuid4())
    # As if the message had already been handed out 1 + CELERY_MAX_REDELIVERIES times,
    # each delivery killing its worker before the task could finish.
    cache.set(f"celery:deliveries:{task_id}:0", 1 + settings.CELERY_MAX_REDELIVERIES, 600)
    started = time.monotonic()

    ping.apply_async(args=(token,), task_id=task_id)
    # (Its dead letter, and retrying it: fabrknt/ops/tests/test_queues_redis.py.)
    dropped = f"Dead-lettering task ops.ping[{task_id}] (retry 0)"
    while dropped not in log.read_text() and time.monotonic() - started < DEADLINE_SECONDS:
        assert process.poll() is None, log.read_text()
        time.sleep(0.2)

    assert dropped in log.read_text()
    assert cache.get(ping_key(token)) is None
    assert cache.get(f"celery:deliveries:{task_id}:0") == 2 + settings.CELERY_MAX_REDELIVERIES
