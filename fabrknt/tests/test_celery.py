"""The Celery app's delivery guarantees, and the cap on redeliveries of a poison task."""

from __future__ import annotations

import pytest
from celery.exceptions import Ignore
from django.conf import settings
from django.core.cache import cache

from fabrknt.celery import RedeliveryCappedTask, app
from fabrknt.ops.checks import longest_hold_seconds, visibility_timeout_outlasts_tasks
from fabrknt.ops.tasks import ping


def project_tasks() -> dict:
    app.loader.import_default_modules()
    return {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


def test_delivery_settings():
    conf = app.conf

    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_time_limit == 360
    assert conf.task_soft_time_limit == 300
    assert conf.task_soft_time_limit < conf.task_time_limit
    assert conf.broker_transport_options["visibility_timeout"] == 3 * 60 * 60
    assert conf.task_default_queue == "default"
    assert conf.broker_connection_retry_on_startup is True


def test_visibility_timeout_outlasts_every_task_and_retry_countdown():
    # Redis and SQS hand an unacknowledged message to another worker after the visibility
    # timeout: it must be longer than any task can run plus any retry countdown.
    assert visibility_timeout_outlasts_tasks() == []
    visibility = app.conf.broker_transport_options["visibility_timeout"]
    holds = {
        name: longest_hold_seconds(task, app.conf.task_time_limit)
        for name, task in project_tasks().items()
    }
    assert max(holds.values()) < visibility
    # The longest: a GitHub backfill's hour, then an hour's wait for the rate limit.
    assert holds["pulse.backfill_github"] == 3600 + 3600
    assert holds["trace.sync_provider_addresses"] == 90 + 30 * 60


def test_a_visibility_timeout_shorter_than_a_task_is_a_system_error(settings):
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 7200}

    errors = visibility_timeout_outlasts_tasks()

    assert [(error.id, error.msg) for error in errors] == [
        (
            "ops.E001",
            "Task pulse.backfill_github may hold its message 7200 s (time limit and longest "
            "retry countdown), not under CELERY_VISIBILITY_TIMEOUT (7200 s).",
        )
    ]


def test_every_project_task_is_named_and_capped():
    tasks = project_tasks()

    assert "ops.ping" in tasks
    for name, task in tasks.items():
        # An explicit name=, not the one Celery derives from the module path.
        assert not name.startswith(f"{task.run.__module__}."), name
        assert isinstance(task, RedeliveryCappedTask), name


@pytest.fixture
def worker_request(settings):
    """A task request as a worker builds it (not eager), for the delivery counter. No
    broker: the dead letters themselves are the worker tests' (test_queues_*)."""
    settings.CELERY_BROKER_URL = ""

    def push(task_id: str, retries: int = 0) -> None:
        ping.push_request(id=task_id, retries=retries, is_eager=False)

    yield push
    while ping.request_stack.top is not None:
        ping.pop_request()


def deliver(task_id: str) -> str:
    try:
        ping.before_start(task_id, ("t",), {})
    except Ignore:
        return "dropped"
    return "run"


def test_a_task_redelivered_past_the_cap_is_dead_lettered(worker_request, settings, caplog):
    settings.CELERY_MAX_REDELIVERIES = 2
    worker_request("poison-1")

    outcomes = [deliver("poison-1") for _ in range(5)]

    assert outcomes == ["run", "run", "run", "dropped", "dropped"]
    assert [r.getMessage() for r in caplog.records if r.name == "fabrknt.celery"][0] == (
        "Dead-lettering task ops.ping[poison-1] (retry 0): delivered 4 times, "
        "the cap is 1 + 2 redeliveries"
    )


def test_a_retry_starts_a_fresh_count(worker_request, settings):
    settings.CELERY_MAX_REDELIVERIES = 0
    worker_request("retried-1", retries=0)
    assert [deliver("retried-1") for _ in range(2)] == ["run", "dropped"]
    ping.pop_request()

    worker_request("retried-1", retries=1)

    assert deliver("retried-1") == "run"


def test_a_finished_delivery_clears_its_count(worker_request, settings):
    settings.CELERY_MAX_REDELIVERIES = 0
    worker_request("done-1")
    assert deliver("done-1") == "run"

    ping.after_return("SUCCESS", None, "done-1", ("t",), {}, None)

    assert cache.get("celery:deliveries:done-1:0") is None
    assert deliver("done-1") == "run"


def test_eager_and_direct_calls_are_not_counted():
    for _ in range(settings.CELERY_MAX_REDELIVERIES + 3):
        assert ping.apply(args=("eager",), task_id="eager-1").get()["hostname"]
        assert ping("direct")["hostname"]

    assert cache.get("celery:deliveries:eager-1:0") is None
