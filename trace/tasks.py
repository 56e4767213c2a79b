"""TRACE's Celery tasks: thin, idempotent wrappers that take ids and call services.
Their names are the ones `fabrknt.celery.BEAT_SCHEDULE` schedules."""

from __future__ import annotations
