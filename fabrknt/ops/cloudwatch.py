"""The application's own figures in CloudWatch, for the alarms of the AWS deployment
(deploy/aws/fabrknt_aws/monitoring.py) that no AWS service measures: today the age of the
newest database backup, `BackupAgeSeconds` in the CLOUDWATCH_METRICS_NAMESPACE namespace
with no dimensions (the "backup_age" alarm's metric). Off when the setting is empty (a
developer's machine, docker compose)."""

from __future__ import annotations

import logging

import boto3  # type: ignore[import-untyped]  # boto3 ships no types (boto3-stubs is not installed)
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from fabrknt.ops.readings import backup_read

logger = logging.getLogger(__name__)

BACKUP_AGE_METRIC = "BackupAgeSeconds"


def backup_age_publish() -> float | None:
    """Put the newest backup's age (seconds) to CloudWatch; the age published, or None when
    nothing was: publishing is off, no backup can be read (the alarm treats a missing
    figure as breaching: no backup is as bad as an old one), or CloudWatch refused it."""
    namespace = settings.CLOUDWATCH_METRICS_NAMESPACE
    if not namespace:
        return None
    readable, latest = backup_read()
    if not readable or latest is None:
        logger.warning("No backup age for CloudWatch: %s", "none yet" if readable else "unread")
        return None
    age = latest["age_seconds"]
    try:
        boto3.client("cloudwatch").put_metric_data(
            Namespace=namespace,
            MetricData=[{"MetricName": BACKUP_AGE_METRIC, "Value": age, "Unit": "Seconds"}],
        )
    except (BotoCoreError, ClientError):
        logger.exception("Could not put %s to CloudWatch", BACKUP_AGE_METRIC)
        return None
    return age
