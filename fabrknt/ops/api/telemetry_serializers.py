"""The telemetry's answer (`fabrknt.ops.telemetry.Telemetry`), rendered and described."""

from __future__ import annotations

from rest_framework import serializers

from fabrknt.ops.health import DOWN, NOT_CONFIGURED, OK
from fabrknt.ops.metrics.api import AlarmStateSerializer

# Plain strings in the schema: an enum here would be one more `status` choice set for
# drf-spectacular to name apart from the products' ones.
_STATES = f"{OK}, {DOWN} or {NOT_CONFIGURED}"


class ComponentSerializer(serializers.Serializer):
    status = serializers.CharField(help_text=_STATES)
    latency_ms = serializers.FloatField(
        allow_null=True, help_text="how long the check took (null when not configured)"
    )


class ComponentsSerializer(serializers.Serializer):
    database = ComponentSerializer()
    cache = ComponentSerializer()
    broker = ComponentSerializer()


class WorkerSerializer(serializers.Serializer):
    hostname = serializers.CharField(source="record.hostname")
    pid = serializers.IntegerField(source="record.pid")
    queues = serializers.ListField(child=serializers.CharField(), source="record.queues")
    pool = serializers.CharField(source="record.pool", help_text="prefork, solo, threads, …")
    concurrency = serializers.IntegerField(source="record.concurrency", allow_null=True)
    started_at = serializers.DateTimeField(source="record.started_at")
    last_seen = serializers.DateTimeField(source="record.last_seen")
    seconds_since_seen = serializers.FloatField()
    stale = serializers.BooleanField(
        help_text="no heartbeat for TELEMETRY_WORKER_STALE_SECONDS: stopped, hung or cut off"
    )
    tasks_run = serializers.IntegerField(source="record.tasks_run")
    tasks_active = serializers.IntegerField(source="record.tasks_active")


class TaskResultSerializer(serializers.Serializer):
    task_id = serializers.CharField()
    status = serializers.CharField(help_text="success, failure, retry, ignored, …")
    finished_at = serializers.DateTimeField()
    duration_ms = serializers.FloatField(allow_null=True)
    error_class = serializers.CharField(
        allow_null=True, help_text="the exception's class on failure; never its message"
    )
    worker = serializers.CharField()


class ScheduleSerializer(serializers.Serializer):
    name = serializers.CharField()
    task = serializers.CharField()
    enabled = serializers.BooleanField()
    schedule = serializers.CharField()
    last_run_at = serializers.DateTimeField(
        allow_null=True, help_text="as beat recorded it (written every few minutes)"
    )
    total_run_count = serializers.IntegerField()
    due_at = serializers.DateTimeField(allow_null=True)
    overdue = serializers.BooleanField(
        help_text="nothing ran for two of its periods (and beat's write delay)"
    )
    last_result = TaskResultSerializer(
        allow_null=True, help_text="the last run of its task that a worker recorded"
    )


class VersionsSerializer(serializers.Serializer):
    app = serializers.CharField(allow_null=True, help_text="APP_VERSION, else the git commit")
    api = serializers.CharField()
    python = serializers.CharField()
    django = serializers.CharField()
    celery = serializers.CharField()
    database = serializers.CharField(allow_null=True)
    redis = serializers.CharField(allow_null=True)


class LatestBackupSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="its name in the `backups` storage")
    at = serializers.DateTimeField()
    size = serializers.IntegerField(help_text="bytes")
    sha256 = serializers.CharField()
    age_seconds = serializers.FloatField()


class BackupTelemetrySerializer(serializers.Serializer):
    supported = serializers.BooleanField(
        help_text="false: the database is not PostgreSQL (the embedded SQLite default), so "
        "backup_db does not run and the backup-age alarm has no data"
    )
    readable = serializers.BooleanField(help_text="false: the backups storage could not be read")
    latest = LatestBackupSerializer(allow_null=True, help_text="the newest complete backup")
    alarm = AlarmStateSerializer(help_text="backup age over an hour; no backup at all is alarm")


class TelemetrySerializer(serializers.Serializer):
    generated_at = serializers.DateTimeField()
    components = ComponentsSerializer()
    records = serializers.CharField(
        help_text=f"{_STATES}: the workers' heartbeats and task results in Redis (the "
        "workers and last results are empty unless ok)"
    )
    workers = WorkerSerializer(many=True)
    schedules = ScheduleSerializer(many=True, allow_null=True, help_text="null: database down")
    versions = VersionsSerializer()
    migrations_pending = serializers.ListField(
        child=serializers.CharField(),
        allow_null=True,
        help_text="`app_label.name` in the order `migrate` applies them; null: database down",
    )
    backup = BackupTelemetrySerializer()
