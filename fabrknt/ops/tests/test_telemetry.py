"""GET /api/v1/operational/telemetry in this process: who may read it, the components
with their latency, what it answers while Redis or the database is down, the beat
schedules' overdue rule, versions and pending migrations. A real worker and beat feeding
it: test_telemetry_worker.py."""

from __future__ import annotations

import datetime as dt
import platform
import time

import celery
import django
import pytest
from django.core.management import call_command
from django.db import OperationalError, connection
from django.test import Client
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from accounts.models import ApiKey
from accounts.services.api_keys import api_key_issue
from accounts.tests.clients import as_key, as_user
from accounts.tests.factories import OrganizationFactory, UserFactory
from fabrknt.ops.tasks import ping
from fabrknt.ops.telemetry import migrations_pending, migrations_pending_forget, telemetry
from fabrknt.ops.worker_records import (
    TaskResult,
    WorkerRecord,
    records_client,
    task_result_record,
    task_results,
    worker_heartbeat_record,
    workers_list,
)
from fabrknt.redis_backoff import redis_skipped

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

URL = "/api/v1/operational/telemetry"


@pytest.fixture(autouse=True)
def _fresh_migration_plan():
    migrations_pending_forget()
    yield
    migrations_pending_forget()


@pytest.fixture
def no_broker(settings):
    settings.CELERY_BROKER_URL = ""


@pytest.fixture
def staff():
    return as_user(UserFactory(is_staff=True))


def test_anonymous_callers_are_refused():
    response = Client().get(URL)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_members_who_are_not_staff_are_refused():
    response = as_user(UserFactory()).get(URL)

    assert response.status_code == 403
    assert response.json() == {"detail": "Staff only.", "code": "permission_denied"}


def test_api_keys_are_refused_even_with_every_scope():
    issued = api_key_issue(
        organization=OrganizationFactory(), name="ops", scopes=["ingest", "read", "write"]
    )
    assert ApiKey.objects.count() == 1

    response = as_key(issued.key).get(URL)

    assert response.status_code == 403


@pytest.mark.redis
def test_staff_read_every_component_up_with_its_latency(staff):
    response = staff.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "generated_at",
        "components",
        "records",
        "workers",
        "schedules",
        "versions",
        "migrations_pending",
        "backup",
    }
    assert set(body["components"]) == {"database", "cache", "broker"}
    for name, component in body["components"].items():
        assert component["status"] == "ok", name
        assert 0 < component["latency_ms"] < 1000, name
    assert body["records"] == "ok"
    assert body["workers"] == []  # no worker in this process
    assert body["schedules"] == []  # beat has not seeded this database
    assert body["migrations_pending"] == []


@pytest.mark.redis
def test_versions_name_the_running_stack(staff, settings):
    settings.APP_VERSION = "0123456789ab"

    versions = staff.get(URL).json()["versions"]

    server = connection.pg_version
    assert versions == {
        "app": "0123456789ab",
        "api": "1.0.0",
        "python": platform.python_version(),
        "django": django.get_version(),
        "celery": celery.__version__,
        "database": f"PostgreSQL {server // 10000}.{server % 10000}",
        "redis": versions["redis"],
    }
    major, minor, *_ = versions["redis"].split(".")
    assert int(major) >= 6 and minor.isdigit()


def test_without_app_version_a_checkout_names_its_git_commit(settings):
    settings.APP_VERSION = ""

    app = telemetry().versions.app

    # This test runs in a git checkout (a worktree or CI's clone).
    assert app is not None and len(app) == 12 and int(app, 16) >= 0


def test_a_stopped_cache_is_reported_down_and_the_rest_still_answers(
    staff, redis_server, no_broker
):
    task_result_record(
        task_name="trace.flush_clicks",
        result=TaskResult(
            task_id="t1",
            status="success",
            finished_at=timezone.now(),
            duration_ms=3.0,
            error_class=None,
            worker="celery@a",
        ),
    )
    assert telemetry().records == "ok"
    redis_server.stop()

    response = staff.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert body["components"]["database"]["status"] == "ok"
    assert body["components"]["cache"]["status"] == "down"
    assert body["components"]["cache"]["latency_ms"] < 3000  # one connect timeout at most
    assert body["components"]["broker"] == {"status": "not configured", "latency_ms": None}
    assert body["records"] == "down"
    assert body["workers"] == []
    assert body["versions"]["redis"] is None
    assert body["versions"]["database"].startswith("PostgreSQL ")
    assert body["migrations_pending"] == []


def test_a_stopped_database_is_reported_down_and_what_lives_in_it_unknown(no_broker):
    def database_down(execute, sql, params, many, context):
        raise OperationalError("connection refused")

    with connection.execute_wrapper(database_down):
        answer = telemetry()

    assert answer.components["database"].status == "down"
    assert answer.schedules is None
    assert answer.migrations_pending is None
    assert answer.versions.django == django.get_version()


def _interval_task(name: str, *, seconds: int, last_run_ago: float | None, enabled=True):
    every, _ = IntervalSchedule.objects.get_or_create(every=seconds, period="seconds")
    now = timezone.now()
    return PeriodicTask.objects.create(
        name=name,
        task=f"tests.{name}",
        interval=every,
        enabled=enabled,
        last_run_at=None if last_run_ago is None else now - dt.timedelta(seconds=last_run_ago),
        total_run_count=7,
    )


def _daily_task(name: str, *, runs_missed: int) -> PeriodicTask:
    """Daily at 00:15 UTC, last run at its time `runs_missed` days before the latest."""
    daily, _ = CrontabSchedule.objects.get_or_create(minute="15", hour="0")
    now = timezone.now()
    latest = now.replace(hour=0, minute=15, second=0, microsecond=0)
    if latest > now:
        latest -= dt.timedelta(days=1)
    return PeriodicTask.objects.create(
        name=name,
        task=f"tests.{name}",
        crontab=daily,
        last_run_at=latest - dt.timedelta(days=runs_missed),
    )


@pytest.mark.redis
def test_a_schedule_is_overdue_when_nothing_ran_for_two_of_its_periods():
    _daily_task("daily-on-time", runs_missed=0)
    _daily_task("daily-one-missed", runs_missed=1)  # late, not yet two periods
    _daily_task("daily-late", runs_missed=2)
    _interval_task("minutely-on-time", seconds=60, last_run_ago=100)
    # Beat writes its runs every 3 minutes: no sooner than that is a schedule called late.
    _interval_task("minutely-within-beat-delay", seconds=60, last_run_ago=200)
    _interval_task("minutely-late", seconds=60, last_run_ago=400)
    _interval_task("minutely-off", seconds=60, last_run_ago=4000, enabled=False)
    # Beat's last run is old, but a worker recorded a run of its task a moment ago.
    _interval_task("minutely-run-by-worker", seconds=60, last_run_ago=4000)
    task_result_record(
        task_name="tests.minutely-run-by-worker",
        result=TaskResult(
            task_id="t2",
            status="failure",
            finished_at=timezone.now() - dt.timedelta(seconds=5),
            duration_ms=12.5,
            error_class="TypeError",
            worker="celery@b",
        ),
    )
    never_ran = _interval_task("minutely-never-ran", seconds=60, last_run_ago=None)
    PeriodicTask.objects.filter(pk=never_ran.pk).update(
        date_changed=timezone.now() - dt.timedelta(hours=1)
    )

    schedules = {schedule.name: schedule for schedule in telemetry().schedules or []}

    assert {name: schedule.overdue for name, schedule in schedules.items()} == {
        "daily-late": True,
        "daily-on-time": False,
        "daily-one-missed": False,
        "minutely-late": True,
        "minutely-never-ran": True,
        "minutely-off": False,
        "minutely-on-time": False,
        "minutely-run-by-worker": False,
        "minutely-within-beat-delay": False,
    }
    by_worker = schedules["minutely-run-by-worker"]
    assert by_worker.last_result is not None
    assert (by_worker.last_result.status, by_worker.last_result.error_class) == (
        "failure",
        "TypeError",
    )
    assert by_worker.total_run_count == 7
    assert by_worker.schedule == "every 60 seconds"
    assert schedules["daily-late"].schedule.startswith("15 0 * * * ")
    assert schedules["minutely-on-time"].last_result is None


@pytest.mark.django_db(transaction=True)
def test_an_unapplied_migration_is_listed_until_it_is_applied(staff):
    latest = "django_celery_beat.0019_alter_periodictasks_options"
    call_command("migrate", "django_celery_beat", "0018", verbosity=0)
    try:
        migrations_pending_forget()
        assert staff.get(URL).json()["migrations_pending"] == [latest]
        # Remembered for a moment: the plan is not read again on every call.
        call_command("migrate", "django_celery_beat", verbosity=0)
        assert migrations_pending() == [latest]
        migrations_pending_forget()
        assert migrations_pending() == []
    finally:
        call_command("migrate", "django_celery_beat", verbosity=0)


def test_a_worker_keeps_running_tasks_while_its_records_cannot_be_written(redis_server):
    now = timezone.now()
    worker = WorkerRecord(
        hostname="celery@a",
        pid=1,
        queues=["default"],
        pool="solo",
        concurrency=1,
        started_at=now,
        last_seen=now,
        tasks_run=0,
        tasks_active=0,
    )
    worker_heartbeat_record(worker=worker)
    assert [record.hostname for record in workers_list(records_client())] == ["celery@a"]
    redis_server.stop()

    # Neither raises: a heartbeat or a task result is skipped, and the process backs off.
    worker_heartbeat_record(worker=worker)
    task_result_record(
        task_name="trace.flush_clicks",
        result=TaskResult(
            task_id="t3",
            status="success",
            finished_at=now,
            duration_ms=1.0,
            error_class=None,
            worker="celery@a",
        ),
    )
    assert redis_skipped()


@pytest.mark.redis
def test_tasks_run_eagerly_in_a_web_process_are_not_recorded():
    ping.delay("eager")  # the test settings run tasks eagerly, as without a broker

    assert task_results(records_client()) == {}


def test_a_hung_cache_costs_one_timeout_not_one_per_read(redis_server, no_broker):
    redis_server.pause()  # accepts connections, answers nothing
    started = time.monotonic()

    answer = telemetry()

    elapsed = time.monotonic() - started
    cache = answer.components["cache"]
    assert (cache.status, answer.records, answer.versions.redis) == ("down", "down", None)
    assert cache.latency_ms is not None and cache.latency_ms >= 2000  # the socket timeout
    # Not again for the records and the version.
    assert elapsed < cache.latency_ms / 1000 + 1, elapsed
