"""A real `celery -A fabrknt worker` process for the queue tests, and waiting on it; the
command line every test and bench that starts a real worker uses."""

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


def worker_command(
    *,
    name: str = "pytest",
    pool: str = "solo",
    loglevel: str | None = "INFO",
    options: tuple[str, ...] = (),
) -> list[str]:
    """`celery -A fabrknt worker` as one quick process: no gossip, mingle or heartbeat (nothing
    to wait for at start), a unique host name so two never collide on one broker."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "fabrknt",
        "worker",
        f"--pool={pool}",
        *options,
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        *([f"--loglevel={loglevel}"] if loglevel else []),
        f"--hostname={name}-{uuid.uuid4().hex[:8]}@%h",
    ]


@contextmanager
def celery_worker(log: Path, *, env: dict[str, str], pool: str = "solo") -> Iterator[Any]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            worker_command(
                pool=pool, options=("--concurrency=1", "--include=fabrknt.ops.tests.queue_tasks")
            ),
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
