"""A real `celery -A fabrknt worker` process for the queue tests, and waiting on it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings

# A cold worker start on a loaded CI machine took over 15 s.
DEADLINE_SECONDS = 120


@contextmanager
def celery_worker(log: Path, *, env: dict[str, str], pool: str = "solo") -> Iterator[Any]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "fabrknt",
                "worker",
                f"--pool={pool}",
                "--concurrency=1",
                "--include=fabrknt.ops.tests.queue_tasks",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=INFO",
                f"--hostname=pytest-{uuid.uuid4().hex[:8]}@%h",
            ],
            cwd=settings.BASE_DIR,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        print(log.read_text())


def wait_for(condition: Callable[[], Any], process: Any, log: Path) -> Any:
    """The condition's first truthy value, while the worker lives."""
    started = time.monotonic()
    while time.monotonic() - started < DEADLINE_SECONDS:
        assert process.poll() is None, log.read_text()
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting; worker log:\n{log.read_text()}")
