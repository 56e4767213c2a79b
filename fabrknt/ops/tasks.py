"""Operational Celery tasks."""

from __future__ import annotations

from celery import shared_task

from fabrknt.ops.services import ping_record


@shared_task(name="ops.ping", time_limit=30, soft_time_limit=20, ignore_result=True)
def ping(token: str) -> dict[str, str]:
    """Proves the queue end to end: a worker took the message and reached the cache."""
    return ping_record(token=token)
