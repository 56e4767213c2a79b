"""The Celery app: broker from CELERY_BROKER_URL (Redis, or SQS in production); with none
set, tasks run eagerly in-process. The beat schedule lives in django-celery-beat's tables:
its DatabaseScheduler (CELERY_BEAT_SCHEDULER) adds or updates the entries of
`app.conf.beat_schedule` below each time beat starts; operators change them in the admin."""

from __future__ import annotations

import logging
import logging.config
import os

from celery import Celery, Task
from celery.exceptions import Ignore
from celery.schedules import crontab
from celery.signals import (
    beat_init,
    before_task_publish,
    setup_logging,
    task_postrun,
    task_prerun,
    worker_init,
    worker_process_init,
)

from fabrknt.ops import worker_telemetry  # noqa: F401  (connects the telemetry's worker signals)
from fabrknt.security.request_id import current_request_id

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fabrknt.settings")

logger = logging.getLogger(__name__)


def delivery_key(task_id: str | None, retries: int | None) -> str:
    """The shared cache's count of one message's deliveries (a retry is a new message)."""
    return f"celery:deliveries:{task_id}:{retries or 0}"


class RedeliveryCappedTask(Task):
    """Every task's base: dead-letters a message delivered too often instead of running it
    again, and a task that failed for good (`fabrknt.ops.queues`).

    With acks_late and task_reject_on_worker_lost, a task that kills its worker (out of
    memory, a segfault in a C extension) goes back on the queue and would kill the next
    worker for ever. Deliveries are counted per task id and retry number with an atomic
    increment in the shared cache (Redis in production); past CELERY_MAX_REDELIVERIES the
    message is moved to its queue's dead letters and acknowledged without running. A retry
    (same id, retries + 1) starts a fresh count, so retry policies are unaffected. On SQS
    the queue's own redrive policy moves such a message first (after the same number of
    receives); this count is the backstop.
    """

    def _delivery_key(self) -> str:
        return delivery_key(self.request.id, self.request.retries)

    def _counts_deliveries(self) -> bool:
        return bool(self.request.id) and not self.request.is_eager

    def before_start(self, task_id, args, kwargs) -> None:
        if not self._counts_deliveries():
            return
        from django.conf import settings
        from django.core.cache import cache

        key = self._delivery_key()
        # Outlives every redelivery: each one waits at most one visibility timeout.
        ttl = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600) * (
            settings.CELERY_MAX_REDELIVERIES + 2
        )
        cache.add(key, 0, ttl)
        deliveries = cache.incr(key)
        if deliveries > 1 + settings.CELERY_MAX_REDELIVERIES:
            reason = (
                f"delivered {deliveries} times, the cap is 1 + "
                f"{settings.CELERY_MAX_REDELIVERIES} redeliveries"
            )
            logger.error(
                "Dead-lettering task %s[%s] (retry %s): %s",
                self.name,
                task_id,
                self.request.retries or 0,
                reason,
            )
            self._dead_letter(reason)
            raise Ignore()

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        # Celery calls this once the task failed for good: its retries exhausted (a retry
        # to come goes to on_retry instead), or an error it does not retry.
        if self._counts_deliveries():
            retries = self.request.retries or 0
            self._dead_letter(f"{type(exc).__name__} after {retries} retries: {exc}"[:1000])

    def _dead_letter(self, reason: str) -> None:
        from fabrknt.ops.queues import dead_letter

        dead_letter(task=self, reason=reason)

    def after_return(self, status, retval, task_id, args, kwargs, einfo) -> None:
        # The task finished (well or not) in this delivery: nothing left to count.
        if self._counts_deliveries():
            from django.core.cache import cache

            cache.delete(self._delivery_key())


# A task's log lines carry the id of the request that enqueued it, as the request's own do.
# Eager tasks run inside that request, where the id is already set.
@before_task_publish.connect
def _carry_request_id(headers: dict | None = None, **kwargs) -> None:
    request_id = current_request_id.get()
    if headers is not None and request_id != "-":
        headers.setdefault("request_id", request_id)


@task_prerun.connect
def _adopt_request_id(task: Task | None = None, **kwargs) -> None:
    if task is not None and not task.request.is_eager:
        current_request_id.set(getattr(task.request, "request_id", None) or "-")


@task_postrun.connect
def _forget_request_id(task: Task | None = None, **kwargs) -> None:
    if task is not None and not task.request.is_eager:
        current_request_id.set("-")


# Logs and tracing in worker and beat processes (fabrknt/ops/logs.py, tracing.py). Django's
# LOGGING, not Celery's own setup: the same JSON lines, ids and redaction as the web's
# (a receiver here tells Celery to leave logging alone; LOG_LEVEL, not --loglevel, rules).
@setup_logging.connect
def _configure_logging(**kwargs) -> None:
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@task_postrun.connect
def _forget_log_context(task: Task | None = None, **kwargs) -> None:
    if task is not None and not task.request.is_eager:
        from fabrknt.ops.logs import log_context_clear

        log_context_clear()


@worker_init.connect
def _start_worker_tracing(sender=None, **kwargs) -> None:
    # A prefork pool's children export (worker_process_init below); other pools run the
    # tasks in this process.
    from celery.concurrency import get_implementation
    from celery.concurrency.prefork import TaskPool as PreforkPool

    from fabrknt.ops.tracing import tracing_start

    pool = get_implementation(sender.pool_cls) if sender is not None else None
    forks = isinstance(pool, type) and issubclass(pool, PreforkPool)
    tracing_start(service="fabrknt-worker", export=not forks)


@worker_process_init.connect
def _start_child_tracing(**kwargs) -> None:
    from fabrknt.ops.tracing import tracing_export_start

    tracing_export_start(service="fabrknt-worker")


@beat_init.connect
def _start_beat_tracing(**kwargs) -> None:
    from fabrknt.ops.tracing import tracing_start

    tracing_start(service="fabrknt-beat")


app = Celery("fabrknt", task_cls=RedeliveryCappedTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Seeded into django-celery-beat's tables when beat starts; operators edit them in the admin.
app.conf.beat_schedule = {
    "pulse-read-notion": {"task": "pulse.read_notion", "schedule": crontab(minute="*/30")},
    "trace-flush-clicks": {"task": "trace.flush_clicks", "schedule": 5.0},
    "trace-index-chain": {"task": "trace.index_chain", "schedule": 60.0},
    "fabric-monitor-escrows": {"task": "fabric.monitor_escrows", "schedule": 60.0},
    "trace-aggregate-metrics": {
        "task": "trace.aggregate_metrics",
        "schedule": crontab(minute=15, hour=0),
    },
    "trace-detect-bots": {"task": "trace.detect_bots", "schedule": crontab(minute=5)},
    "trace-fetch-prices": {"task": "trace.fetch_prices", "schedule": crontab(minute=2)},
    "trace-purge-contract-verification-nonces": {
        "task": "trace.purge_contract_verification_nonces",
        "schedule": crontab(minute=40, hour=3),
    },
    "accounts-purge-sign-in-nonces": {
        "task": "accounts.purge_sign_in_nonces",
        "schedule": crontab(minute=30, hour=3),
    },
    "trace-purge-expired-clicks": {
        "task": "trace.purge_expired_clicks",
        "schedule": crontab(minute=50, hour=3),
    },
    "fabric-purge-nda-nonces": {
        "task": "fabric.purge_nda_nonces",
        "schedule": crontab(minute=45, hour=3),
    },
    "trace-purge-identify-nonces": {
        "task": "trace.purge_identify_nonces",
        "schedule": crontab(minute=40, hour=3),
    },
    "pulse-github-deliveries-requeue": {
        "task": "pulse.github_deliveries_requeue",
        "schedule": crontab(minute="*/5"),
    },
    "pulse-calculate-scores": {
        "task": "pulse.calculate_scores",
        "schedule": crontab(minute=30, hour=1),
    },
    "fabric-recompute-all-listing-scores": {
        "task": "fabric.recompute_all_listing_scores",
        "schedule": crontab(minute=0, hour=3),  # after PULSE's scores (01:30) and TRACE's metrics
    },
    "fabric-verify-revenue": {
        "task": "fabric.verify_revenue",
        "schedule": crontab(minute=45, hour=2),
    },
    "fabric-expire-offers": {"task": "fabric.expire_offers", "schedule": crontab(minute="*/5")},
    "pulse-weekly-reports": {
        "task": "pulse.weekly_reports",
        "schedule": crontab(minute=0, hour=6, day_of_week="mon"),
    },
    # Hourly (RPO 1 h), away from the minutes the other hourly jobs take.
    "ops-backup-db": {"task": "ops.backup_db", "schedule": crontab(minute=25)},
    # The ops live channel's push (fabrknt/live/ops_feed.py).
    "ops-publish-live": {
        "task": "ops.publish_live",
        "schedule": 5.0,
        # A push nobody took in time is stale: never let them queue up behind a busy worker.
        "options": {"expires": 10},
    },
    # The backup age to CloudWatch for the AWS alarm (a no-op unless configured).
    "ops-publish-cloudwatch": {
        "task": "ops.publish_cloudwatch",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
}


# On SQS, a worker gives its queues their dead-letter queues and redrive policy before it
# consumes: a queue kombu created on its own (at a first publish) has neither.
# A worker denied that (the queues made by the deployment's own IAM) still consumes.
@worker_init.connect
def _ensure_queues(**kwargs) -> None:
    from fabrknt.ops.queues import BrokerUnavailable, queues_ensure

    try:
        queues_ensure()
    except BrokerUnavailable:
        logger.exception("Could not ensure the SQS queues and dead-letter queues")
