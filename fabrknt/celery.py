"""The Celery app: broker from CELERY_BROKER_URL (Redis, or SQS in production); with none
set, tasks run eagerly in-process. The beat schedule lives in django-celery-beat's tables
and is seeded from BEAT_SCHEDULE by `fabrknt.ops`."""

from __future__ import annotations

import logging
import os

from celery import Celery, Task
from celery.exceptions import Ignore
from celery.schedules import crontab
from celery.signals import before_task_publish, task_postrun, task_prerun

from fabrknt.security.request_id import current_request_id

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fabrknt.settings")

logger = logging.getLogger(__name__)


class RedeliveryCappedTask(Task):
    """Every task's base: drops a message delivered too often instead of running it again.

    With acks_late and task_reject_on_worker_lost, a task that kills its worker (out of
    memory, a segfault in a C extension) goes back on the queue and would kill the next
    worker for ever. Deliveries are counted per task id and retry number with an atomic
    increment in the shared cache (Redis in production); past CELERY_MAX_REDELIVERIES the
    message is logged and acknowledged without running. A retry (same id, retries + 1)
    starts a fresh count, so retry policies are unaffected.
    """

    def _delivery_key(self) -> str:
        return f"celery:deliveries:{self.request.id}:{self.request.retries or 0}"

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
            logger.error(
                "Dropping task %s[%s] (retry %s): delivered %s times, the cap is 1 + %s "
                "redeliveries",
                self.name,
                task_id,
                self.request.retries or 0,
                deliveries,
                settings.CELERY_MAX_REDELIVERIES,
            )
            raise Ignore()

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
}
# The ops live channel's push (fabrknt/live/ops_feed.py).
app.conf.beat_schedule["ops-publish-live"] = {
    "task": "ops.publish_live",
    "schedule": 5.0,
    # A push nobody took in time is stale: never let them queue up behind a busy worker.
    "options": {"expires": 10},
}
