"""PULSE's mint task: a thin, idempotent wrapper around `pulse.services.sbt.sbt_mint`.

(Its own module, imported by PulseConfig.ready, so it registers with the Celery app.)
"""

from __future__ import annotations

import logging

from celery import Task, shared_task
from celery.utils.time import get_exponential_backoff_interval

from fabrknt.celery import RedeliveryCappedTask
from pulse.services import sbt

logger = logging.getLogger("pulse.sbt")
SBT_MINT_MAX_RETRIES = 8
SBT_MINT_BACKOFF_MAX_SECONDS = 600


@shared_task(
    name="pulse.sbt_mint",
    bind=True,
    max_retries=SBT_MINT_MAX_RETRIES,
    soft_time_limit=240,
    time_limit=300,
    base=RedeliveryCappedTask,  # typed: it takes longest_countdown (fabrknt.ops.checks)
    longest_countdown=SBT_MINT_BACKOFF_MAX_SECONDS,
)
def sbt_mint_task(self: Task, record_id: str) -> str:
    """Mints the record's token (safe to run twice, concurrently, or after a crash)."""
    try:
        return str(sbt.sbt_mint(record_id=record_id).status)
    except sbt.MINT_FATAL as error:
        sbt.sbt_mint_failed(record_id=record_id, error=str(error))
        return "failed"
    except sbt.MINT_RETRYABLE as error:
        if self.request.is_eager or self.request.retries >= SBT_MINT_MAX_RETRIES:
            # In-process (no broker): no worker to come back later; the record says why
            # and the admin's retry (or the next evaluation) sends it again.
            logger.warning("SBT mint %s not done: %s", record_id, error)
            sbt.sbt_mint_failed(record_id=record_id, error=str(error))
            return "retry-later"
        countdown = get_exponential_backoff_interval(
            factor=5,
            retries=self.request.retries,
            maximum=SBT_MINT_BACKOFF_MAX_SECONDS,
            full_jitter=True,
        )
        raise self.retry(exc=error, countdown=countdown) from error
