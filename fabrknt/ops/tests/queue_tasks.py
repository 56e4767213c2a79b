"""Tasks of the queue tests only: the test worker imports them (`--include`). Each fails
until its test marks its token fixed, then leaves proof in the shared cache."""

from __future__ import annotations

import os

from celery import Task, shared_task
from django.core.cache import cache


def fixed_key(token: str) -> str:
    return f"ops_test:fixed:{token}"


def ran_key(token: str) -> str:
    return f"ops_test:ran:{token}"


@shared_task(bind=True, name="ops_test.flaky", max_retries=1, soft_time_limit=20, time_limit=30)
def flaky(self: Task, token: str) -> None:
    """Raises, is retried once at once, then fails for good."""
    if cache.get(fixed_key(token)) is None:
        raise self.retry(exc=RuntimeError(f"broken {token}"), countdown=0)
    cache.set(ran_key(token), {"retries": self.request.retries}, 300)


@shared_task(bind=True, name="ops_test.crash", soft_time_limit=20, time_limit=30)
def crash(self: Task, token: str) -> None:
    """Kills the pool process that runs it (as an out-of-memory kill would)."""
    if cache.get(fixed_key(token)) is None:
        os._exit(1)
    cache.set(ran_key(token), {"retries": self.request.retries}, 300)
