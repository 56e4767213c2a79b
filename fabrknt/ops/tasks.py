"""Operational Celery tasks."""

from __future__ import annotations

from celery import shared_task

from fabrknt.ops.services import ping_record


@shared_task(name="ops.ping", time_limit=30, soft_time_limit=20, ignore_result=True)
def ping(token: str) -> dict[str, str]:
    """Proves the queue end to end: a worker took the message and reached the cache."""
    return ping_record(token=token)


@shared_task(name="ops.publish_live", time_limit=30, soft_time_limit=20, ignore_result=True)
def publish_live() -> None:
    """The ops live channel's periodic push (beat, every 5 s)."""
    from fabrknt.live.ops_feed import ops_live_publish

    ops_live_publish()
