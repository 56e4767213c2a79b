"""The telemetry staff read: Celery workers' heartbeats, each beat schedule's last run and
result, the database, cache and broker with their latency, versions, and pending
migrations.

One function, `telemetry()`, so the API (GET /api/v1/operational/telemetry), the
operations page and its WebSocket feed show the same figures (rendered to JSON by
`fabrknt.ops.api.telemetry_serializers.TelemetrySerializer`), with the newest backup and
its age alarm. It answers whatever is
down: a component that fails is reported "down", and what lives in it (the workers'
records in Redis, the schedules and migrations in the database) as unknown.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import platform
import shutil
import subprocess
import time
from functools import lru_cache

import celery
import django
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from fabrknt.ops.alarms import ALARM, BACKUP_AGE, INSUFFICIENT_DATA, AlarmState, alarm_state
from fabrknt.ops.backups import LatestBackup, backups_supported
from fabrknt.ops.health import CHECKS, DOWN, NOT_CONFIGURED, OK
from fabrknt.ops.worker_records import (
    TaskResult,
    WorkerRecord,
    records_client,
    task_results,
    workers_list,
)
from fabrknt.redis_backoff import REDIS_ERRORS, redis_failed

logger = logging.getLogger(__name__)

# Beat writes its runs (last_run_at, total_run_count) to the database every 3 minutes
# (Celery's Scheduler.sync_every), so a schedule is never called overdue sooner than that.
BEAT_SYNC_SECONDS = 180
# The migration plan costs a query and, the first time in a process, reading every
# migration file: asked at most this often per process.
MIGRATIONS_CHECK_SECONDS = 30


@dataclasses.dataclass(frozen=True)
class Component:
    status: str  # ok, down, not configured
    latency_ms: float | None


@dataclasses.dataclass(frozen=True)
class Worker:
    record: WorkerRecord
    seconds_since_seen: float
    stale: bool


@dataclasses.dataclass(frozen=True)
class Schedule:
    name: str
    task: str
    enabled: bool
    schedule: str
    last_run_at: dt.datetime | None
    total_run_count: int
    due_at: dt.datetime | None
    overdue: bool
    last_result: TaskResult | None


@dataclasses.dataclass(frozen=True)
class Versions:
    app: str | None
    api: str
    python: str
    django: str
    celery: str
    database: str | None
    redis: str | None


@dataclasses.dataclass(frozen=True)
class Telemetry:
    generated_at: dt.datetime
    components: dict[str, Component]
    records: str  # the workers' records in Redis: ok, down, not configured
    workers: list[Worker]
    schedules: list[Schedule] | None  # None: the database is down
    versions: Versions
    migrations_pending: list[str] | None  # None: the database is down
    backup: BackupTelemetry


@dataclasses.dataclass(frozen=True)
class BackupTelemetry:
    supported: bool  # False: the database is not PostgreSQL (the embedded SQLite default)
    readable: bool  # False: the backups storage could not be read
    latest: LatestBackup | None
    alarm: AlarmState  # the backup-age alarm of fabrknt.ops.alarms


def backup_telemetry() -> BackupTelemetry:
    from fabrknt.ops.readings import backup_read  # the queues' module imports the Celery app

    if not backups_supported(settings.DATABASES["default"]):  # nothing to take, nothing to judge
        alarm = AlarmState(
            BACKUP_AGE.name, INSUFFICIENT_DATA, None, BACKUP_AGE.threshold, BACKUP_AGE.unit
        )
        return BackupTelemetry(supported=False, readable=True, latest=None, alarm=alarm)
    readable, latest = backup_read()
    if readable and latest is None:  # no backup at all is as bad as an old one (RPO 1 h)
        alarm = AlarmState(BACKUP_AGE.name, ALARM, None, BACKUP_AGE.threshold, BACKUP_AGE.unit)
    else:
        alarm = alarm_state(BACKUP_AGE, None if latest is None else latest["age_seconds"])
    return BackupTelemetry(supported=True, readable=readable, latest=latest, alarm=alarm)


def telemetry() -> Telemetry:
    components = components_check()
    now = timezone.now()  # after the checks, which may take a timeout
    records, workers, results = _worker_records(components["cache"], now=now)
    database_up = components["database"].status == OK
    return Telemetry(
        generated_at=now,
        components=components,
        records=records,
        workers=workers,
        schedules=beat_schedules(results=results, now=now) if database_up else None,
        versions=versions(database_up=database_up, cache_up=records == OK),
        migrations_pending=migrations_pending() if database_up else None,
        backup=backup_telemetry(),
    )


def components_check() -> dict[str, Component]:
    """The readiness checks (fabrknt.ops.health), each timed."""
    components = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        status = check()
        latency_ms = round((time.perf_counter() - started) * 1000, 2)
        components[name] = Component(
            status=status, latency_ms=None if status == NOT_CONFIGURED else latency_ms
        )
    return components


def _worker_records(
    cache: Component, *, now: dt.datetime
) -> tuple[str, list[Worker], dict[str, TaskResult]]:
    client = records_client()
    if client is None:
        return NOT_CONFIGURED, [], {}
    if cache.status == DOWN:  # asking again would cost another timeout
        return DOWN, [], {}
    try:
        records, results = workers_list(client), task_results(client)
    except REDIS_ERRORS as error:
        redis_failed(error, during="the telemetry")
        return DOWN, [], {}
    stale_after = settings.TELEMETRY_WORKER_STALE_SECONDS
    workers = []
    for record in records:
        since = (now - record.last_seen).total_seconds()
        workers.append(
            Worker(record=record, seconds_since_seen=round(since, 1), stale=since > stale_after)
        )
    return OK, workers, results


def beat_schedules(*, results: dict[str, TaskResult], now: dt.datetime) -> list[Schedule]:
    """django-celery-beat's schedules (seeded from fabrknt.celery's beat_schedule when beat
    starts, edited in the admin), each with the last result a worker recorded for its
    task."""
    tasks = PeriodicTask.objects.select_related("interval", "crontab", "solar", "clocked")
    schedules = []
    for task in tasks.order_by("name"):
        result = results.get(task.task)
        runs = (task.last_run_at, result.finished_at if result else None)
        last_run = max((when for when in runs if when is not None), default=None)
        due_at, overdue = _due(task, last_run=last_run, now=now)
        schedules.append(
            Schedule(
                name=task.name,
                task=task.task,
                enabled=task.enabled,
                schedule=str(task.scheduler),
                last_run_at=task.last_run_at,
                total_run_count=task.total_run_count,
                due_at=due_at,
                overdue=overdue,
                last_result=result,
            )
        )
    return schedules


def _due(
    task: PeriodicTask, *, last_run: dt.datetime | None, now: dt.datetime
) -> tuple[dt.datetime | None, bool]:
    """When the schedule is next due after its last run (beat's, or the last result a
    worker recorded, whichever is later), and whether it is overdue: that time passed by
    more than the schedule's period (so nothing ran for two periods), and by more than
    beat's write delay. A schedule that never ran counts from its last change."""
    if task.clocked_id or task.one_off:
        return None, False
    since = last_run or task.date_changed
    due_at = _whole_second(now + task.schedule.remaining_estimate(since))
    if not task.enabled:
        return due_at, False
    period = now + task.schedule.remaining_estimate(due_at) - due_at  # to the run after
    grace = max(period.total_seconds(), BEAT_SYNC_SECONDS)
    return due_at, (now - due_at).total_seconds() > grace


def _whole_second(moment: dt.datetime) -> dt.datetime:
    """Schedules' times are whole seconds; `remaining_estimate` comes back a few
    microseconds short of them (it subtracts its own `now`), which would put the due time
    before a crontab's minute and make the "run after" that very minute."""
    return (moment + dt.timedelta(microseconds=500_000)).replace(microsecond=0)


def versions(*, database_up: bool, cache_up: bool) -> Versions:
    return Versions(
        app=settings.APP_VERSION or _checkout_commit(),
        api=str(settings.SPECTACULAR_SETTINGS["VERSION"]),
        python=platform.python_version(),
        django=django.get_version(),
        celery=celery.__version__,
        database=_database_version() if database_up else None,
        redis=_redis_version() if cache_up else None,
    )


@lru_cache(maxsize=1)
def _checkout_commit() -> str | None:
    """The git commit of a checkout (development); a deployment sets APP_VERSION."""
    git = shutil.which("git")
    if git is None:  # a container image: no git, no .git
        return None
    try:
        done = subprocess.run(  # noqa: S603  (fixed arguments)
            [git, "rev-parse", "--short=12", "HEAD"],
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=2,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def _database_version() -> str | None:
    try:
        connection.ensure_connection()
    except DatabaseError:
        return None
    if connection.vendor == "postgresql":
        number = connection.pg_version  # type: ignore[attr-defined]  # 170002 for 17.2
        return f"{connection.display_name} {number // 10000}.{number % 10000}"
    return f"{connection.display_name} {connection.Database.sqlite_version}"  # type: ignore[attr-defined]


def _redis_version() -> str | None:
    client = records_client()
    if client is None:
        return None
    try:
        return str(client.info("server")["redis_version"])
    except REDIS_ERRORS as error:
        redis_failed(error, during="the telemetry's version read")
        return None


_migrations_checked: tuple[float, list[str]] | None = None  # (time.monotonic(), pending)


def migrations_pending() -> list[str] | None:
    """Migrations on disk that the database has not applied, in the order `migrate` would
    apply them ("app_label.name"); remembered for MIGRATIONS_CHECK_SECONDS."""
    global _migrations_checked
    if _migrations_checked and time.monotonic() - _migrations_checked[0] < MIGRATIONS_CHECK_SECONDS:
        return _migrations_checked[1]
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as error:
        logger.error("Telemetry: could not read the applied migrations: %s", error)
        return None
    pending = [f"{migration.app_label}.{migration.name}" for migration, _ in plan]
    _migrations_checked = (time.monotonic(), pending)
    return pending


def migrations_pending_forget() -> None:
    """Read the plan again at the next call (tests; after `migrate` in this process)."""
    global _migrations_checked
    _migrations_checked = None
