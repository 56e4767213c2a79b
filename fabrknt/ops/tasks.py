"""Operational Celery tasks."""

from __future__ import annotations

import logging

from celery import shared_task

from fabrknt.ops.backups import BackupBusy, BackupError, backup_create, backups_prune
from fabrknt.ops.services import ping_record

logger = logging.getLogger(__name__)


@shared_task(name="ops.ping", time_limit=30, soft_time_limit=20, ignore_result=True)
def ping(token: str) -> dict[str, str]:
    """Proves the queue end to end: a worker took the message and reached the cache."""
    return ping_record(token=token)


@shared_task(
    name="ops.backup_db",
    # Under an hour (the schedule's period) and the broker's visibility timeout.
    soft_time_limit=50 * 60,
    time_limit=55 * 60,
    ignore_result=True,
    autoretry_for=(BackupError,),
    retry_kwargs={"max_retries": 2, "countdown": 300},
)
def backup_db() -> str:
    """The hourly backup, then retention. A failure is retried twice five minutes apart
    (a storage or network blip must not cost the hour); one already running is left alone."""
    try:
        backup = backup_create()
    except BackupBusy:
        logger.info("Backup skipped: another one is running")
        return ""
    deleted = backups_prune()
    logger.info(
        "Backed up to %s (%s bytes); %s old backups deleted", backup.name, backup.size, len(deleted)
    )
    return backup.name


@shared_task(name="ops.publish_cloudwatch", time_limit=60, soft_time_limit=50, ignore_result=True)
def publish_cloudwatch() -> float | None:
    """Beat, every minute: the newest backup's age to CloudWatch, when
    CLOUDWATCH_METRICS_NAMESPACE is set (fabrknt/ops/cloudwatch.py). More often than the
    backup-age alarm's 5-minute period: a period without a figure is a breach."""
    from fabrknt.ops.cloudwatch import backup_age_publish

    return backup_age_publish()


@shared_task(name="ops.publish_live", time_limit=30, soft_time_limit=20, ignore_result=True)
def publish_live() -> None:
    """The ops live channel's periodic push (beat, every 5 s)."""
    from fabrknt.live.ops_feed import ops_live_publish

    ops_live_publish()
