"""System checks of the job settings against the registered tasks."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register


def longest_hold_seconds(task: Any, default_time_limit: int) -> int:
    """How long a worker may hold a task's message unacknowledged: the task's hard time
    limit plus its longest retry countdown (Celery holds a retry in the worker until it is
    due). Tasks that retry by hand with a countdown declare `longest_countdown`."""
    countdown = getattr(task, "longest_countdown", None)
    if countdown is None:
        # autoretry_for's backoff, else Celery's default delay for a retry
        if getattr(task, "retry_backoff", False):
            countdown = getattr(task, "retry_backoff_max", 600)
        else:
            countdown = task.default_retry_delay
    return (task.time_limit or default_time_limit) + (countdown or 0)


@register()
def visibility_timeout_outlasts_tasks(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Redis and SQS hand a message a worker has not acknowledged to another worker after
    the visibility timeout: one shorter than a task runs twice."""
    from fabrknt.celery import app

    app.autodiscover_tasks(force=True)  # not import_default_modules: it runs the checks
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    errors = []
    for name, task in sorted(app.tasks.items()):
        if name.startswith("celery."):
            continue
        hold = longest_hold_seconds(task, app.conf.task_time_limit)
        if hold >= visibility:
            errors.append(
                Error(
                    f"Task {name} may hold its message {hold} s (time limit and longest retry "
                    f"countdown), not under CELERY_VISIBILITY_TIMEOUT ({visibility} s).",
                    hint="Raise CELERY_VISIBILITY_TIMEOUT or shorten the task's limits.",
                    id="ops.E001",
                )
            )
    return errors
