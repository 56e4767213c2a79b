"""The queue and backup figures as the operations views read them: the alarms, the
operational metrics, the telemetry and `/metrics` all take them from here, so an unreachable
broker or backup storage is handled once — logged, and read as "unknown" (None), never as a
failed request."""

from __future__ import annotations

import logging

from botocore.exceptions import BotoCoreError, ClientError

from fabrknt.ops.backups import LatestBackup, latest_backup
from fabrknt.ops.queues import BrokerUnavailable, QueueStats, queue_stats

logger = logging.getLogger(__name__)

# What reading the backups storage raises when it cannot be read: a local folder's OS
# errors, S3's (botocore's) errors.
STORAGE_ERRORS = (OSError, BotoCoreError, ClientError, ValueError)


def queues_read() -> list[QueueStats] | None:
    """Every queue's depth and dead letters; None when the broker cannot be reached."""
    try:
        return queue_stats()
    except BrokerUnavailable:
        logger.warning("Queue depths unknown: the broker cannot be reached")
        return None


def backup_read() -> tuple[bool, LatestBackup | None]:
    """(readable, the newest complete backup or None): the storage unreadable is not the
    same as no backup at all, though both leave the backup-age alarm without a figure."""
    try:
        return True, latest_backup()
    except STORAGE_ERRORS:
        logger.exception("The backups storage cannot be read")
        return False, None
