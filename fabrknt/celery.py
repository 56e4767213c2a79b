"""The Celery app: broker from CELERY_BROKER_URL (Redis, or SQS in production); with none
set, tasks run eagerly in-process. The beat schedule lives in django-celery-beat's tables
and is seeded from BEAT_SCHEDULE by `fabrknt.ops`."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fabrknt.settings")

app = Celery("fabrknt")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
