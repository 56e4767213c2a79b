"""The Celery app: broker from CELERY_BROKER_URL (Redis, or SQS in production); with none
set, tasks run eagerly in-process. The beat schedule lives in django-celery-beat's tables
and is seeded from BEAT_SCHEDULE by `fabrknt.ops`."""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fabrknt.settings")

app = Celery("fabrknt")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Seeded into django-celery-beat's tables when beat starts; operators edit them in the admin.
app.conf.beat_schedule = {
    "trace-flush-clicks": {"task": "trace.flush_clicks", "schedule": 5.0},
    "trace-index-chain": {"task": "trace.index_chain", "schedule": 60.0},
    "trace-aggregate-metrics": {
        "task": "trace.aggregate_metrics",
        "schedule": crontab(minute=15, hour=0),
    },
    "trace-detect-bots": {"task": "trace.detect_bots", "schedule": crontab(minute=5)},
}
