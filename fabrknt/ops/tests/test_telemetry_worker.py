"""The telemetry fed by real processes: two `celery worker`s record their heartbeats, a
`celery beat` seeds its schedules into django-celery-beat's tables and sends them, and
the workers record each task's result. One worker then dies (stale), the other stops
cleanly (gone)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from accounts.tests.clients import as_user
from accounts.tests.factories import UserFactory
from fabrknt.celery import app
from fabrknt.ops.telemetry import Telemetry, telemetry

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True),  # the processes read what the test commits
]

REPO = Path(settings.BASE_DIR)
DEADLINE_SECONDS = 90  # a cold worker start on a loaded machine can take 15 s and more
HEARTBEAT_SECONDS = 0.5
STALE_SECONDS = 3.0


@pytest.fixture
def celery_process(tmp_path) -> Iterator[Callable[..., tuple[subprocess.Popen, Path]]]:
    """Starts `celery -A fabrknt <args>` against this run's database and Redis."""
    processes: list[tuple[subprocess.Popen, Path]] = []
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "TELEMETRY_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
        "PYTHONUNBUFFERED": "1",
    }

    def start(*args: str) -> tuple[subprocess.Popen, Path]:
        log = tmp_path / f"celery-{len(processes)}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "fabrknt", *args, "--loglevel=INFO"],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        processes.append((process, log))
        return process, log

    yield start
    for process, log in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        print(log.name, log.read_text())


def _worker_args(hostname: str, pool: str, queues: str) -> list[str]:
    return ["worker", f"--pool={pool}", f"--hostname={hostname}", f"--queues={queues}"] + [
        "--concurrency=2",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",  # Celery's own events: ours do not need them
    ]


def _wait_for(
    what: str, condition: Callable[[Telemetry], bool], processes: list[subprocess.Popen]
) -> Telemetry:
    started = time.monotonic()
    while True:
        answer = telemetry()
        if condition(answer):
            return answer
        for process in processes:
            assert process.poll() is None, f"a celery process exited waiting for {what}"
        assert time.monotonic() - started < DEADLINE_SECONDS, f"no {what}: {answer}"
        time.sleep(0.25)


def test_workers_and_beat_show_in_the_telemetry(celery_process, settings):
    settings.TELEMETRY_WORKER_STALE_SECONDS = STALE_SECONDS
    # An operator's backfill schedule with a mistyped date: every run fails in the worker
    # (beat checks the arguments' names, not their values).
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period="seconds")
    PeriodicTask.objects.create(
        name="metrics-backfill-typo",
        task="trace.aggregate_metrics",
        interval=every_second,
        kwargs='{"date_from": "2026-13-01"}',
    )
    app.control.purge()  # what an earlier run's beat sent must not stand in for this one's
    tag = uuid.uuid4().hex[:8]
    solo, threads = f"solo-{tag}@pytest", f"threads-{tag}@pytest"
    solo_worker, _ = celery_process(*_worker_args(solo, "solo", "default"))
    threads_worker, _ = celery_process(*_worker_args(threads, "threads", "default,other"))
    beat, _ = celery_process("beat", "--max-interval=1")
    processes = [solo_worker, threads_worker, beat]

    def result_of(answer: Telemetry, name: str):
        schedule = next((s for s in answer.schedules or [] if s.name == name), None)
        return schedule and schedule.last_result

    answer = _wait_for(
        "worker records, the seeded schedules and both results",
        lambda answer: (
            len(answer.workers) == 2
            and set(app.conf.beat_schedule) <= {s.name for s in answer.schedules or []}
            and result_of(answer, "trace-flush-clicks") is not None
            and result_of(answer, "metrics-backfill-typo") is not None
        ),
        processes,
    )

    workers = {worker.record.hostname: worker for worker in answer.workers}
    assert set(workers) == {solo, threads}
    assert (workers[solo].record.pool, workers[solo].record.queues) == ("solo", ["default"])
    assert (workers[threads].record.pool, workers[threads].record.queues) == (
        "threads",
        ["default", "other"],
    )
    assert workers[threads].record.concurrency == 2
    assert workers[solo].record.pid == solo_worker.pid
    assert workers[threads].record.pid == threads_worker.pid
    for worker in workers.values():
        assert not worker.stale
        assert worker.seconds_since_seen < STALE_SECONDS
        assert worker.record.started_at <= worker.record.last_seen

    # Beat seeded fabrknt.celery's schedule into the database and ran the click flush.
    names = {schedule.name for schedule in answer.schedules or []}
    assert set(app.conf.beat_schedule) <= names
    flushed = result_of(answer, "trace-flush-clicks")
    assert (flushed.status, flushed.error_class) == ("success", None)
    assert flushed.worker in {solo, threads}
    assert flushed.duration_ms is not None and flushed.duration_ms >= 0
    failed = result_of(answer, "metrics-backfill-typo")
    assert (failed.status, failed.error_class) == ("failure", "ValueError")
    assert failed.duration_ms is not None
    schedules = {schedule.name: schedule for schedule in answer.schedules or []}
    assert not schedules["trace-flush-clicks"].overdue
    assert schedules["trace-flush-clicks"].schedule == "every 5 seconds"

    # The same through the API, as staff read it.
    body = as_user(UserFactory(is_staff=True)).get("/api/v1/operational/telemetry").json()
    assert {worker["hostname"] for worker in body["workers"]} == {solo, threads}
    api_failed = next(s for s in body["schedules"] if s["name"] == "metrics-backfill-typo")
    assert api_failed["last_result"]["status"] == "failure"
    assert api_failed["last_result"]["error_class"] == "ValueError"
    assert set(api_failed["last_result"]) == {
        "task_id",
        "status",
        "finished_at",
        "duration_ms",
        "error_class",
        "worker",
    }

    # A worker killed outright stops its heartbeats: stale once STALE_SECONDS pass.
    solo_worker.kill()
    solo_worker.wait()
    answer = _wait_for(
        "a stale worker",
        lambda answer: any(w.stale for w in answer.workers if w.record.hostname == solo),
        [threads_worker, beat],
    )
    assert [w.stale for w in answer.workers if w.record.hostname == threads] == [False]

    # A worker that shuts down cleanly takes its record with it.
    threads_worker.send_signal(signal.SIGTERM)
    threads_worker.wait(timeout=30)
    answer = telemetry()
    assert [worker.record.hostname for worker in answer.workers] == [solo]
