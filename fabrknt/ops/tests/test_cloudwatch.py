"""The newest backup's age put to CloudWatch (moto) for the AWS deployment's backup-age
alarm: the metric and namespace the CDK app alarms on, every minute from beat, nothing when
the namespace is unset or there is no backup."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from io import BytesIO

import boto3
import pytest
from django.core.files import File
from moto import mock_aws

from fabrknt.celery import app as celery_app
from fabrknt.ops.backups import backups_storage
from fabrknt.ops.cloudwatch import BACKUP_AGE_METRIC
from fabrknt.ops.tasks import publish_cloudwatch

REGION = "us-east-1"


@pytest.fixture
def cloudwatch(settings, monkeypatch, tmp_path):
    """moto's CloudWatch, the app publishing to the deployment's namespace, and backups in
    a folder of the test's own."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    settings.CLOUDWATCH_METRICS_NAMESPACE = "Fabrknt"
    settings.STORAGES = {
        **settings.STORAGES,
        "backups": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "backups"},
        },
    }
    with mock_aws():
        yield boto3.client("cloudwatch", region_name=REGION)


def _backup(at: datetime) -> None:
    """A complete backup made at `at`, named and with a manifest as backup_create writes."""
    storage = backups_storage()
    name = storage.save(f"database/db-{at:%Y%m%dT%H%M%S.%f}Z.dump", File(BytesIO(b"PGDMP")))
    manifest = {"size": 5, "sha256": hashlib.sha256(b"PGDMP").hexdigest()}
    storage.save(f"{name}.json", File(BytesIO(json.dumps(manifest).encode())))


def _published(client) -> list[float]:
    now = datetime.now(UTC)
    stats = client.get_metric_statistics(
        Namespace="Fabrknt",
        MetricName=BACKUP_AGE_METRIC,
        StartTime=now - timedelta(minutes=10),
        EndTime=now + timedelta(minutes=10),
        Period=300,
        Statistics=["Minimum", "SampleCount"],
    )
    return [point["Minimum"] for point in stats["Datapoints"]]


def test_the_backup_age_is_put_with_the_alarms_name_namespace_and_no_dimensions(cloudwatch):
    _backup(datetime.now(UTC) - timedelta(minutes=90))

    age = publish_cloudwatch()

    assert age is not None and 90 * 60 <= age < 91 * 60
    metrics = cloudwatch.list_metrics(Namespace="Fabrknt")["Metrics"]
    assert [(m["MetricName"], m.get("Dimensions", [])) for m in metrics] == [
        (BACKUP_AGE_METRIC, [])
    ]
    assert _published(cloudwatch) == [pytest.approx(age)]


def test_nothing_is_put_without_a_backup_or_without_the_setting(cloudwatch, settings):
    assert publish_cloudwatch() is None  # no backup yet: the alarm sees no figure (breach)
    assert cloudwatch.list_metrics(Namespace="Fabrknt")["Metrics"] == []

    _backup(datetime.now(UTC) - timedelta(minutes=5))
    settings.CLOUDWATCH_METRICS_NAMESPACE = ""
    assert publish_cloudwatch() is None
    assert cloudwatch.list_metrics(Namespace="Fabrknt")["Metrics"] == []


def test_cloudwatch_unreachable_is_logged_not_raised(cloudwatch, monkeypatch, caplog):
    _backup(datetime.now(UTC) - timedelta(minutes=5))
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", "http://127.0.0.1:9")  # nothing there
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")

    assert publish_cloudwatch() is None
    assert "Could not put BackupAgeSeconds to CloudWatch" in caplog.text


def test_beat_publishes_every_minute_within_the_alarms_period():
    from fabrknt.ops.alarms import BACKUP_AGE

    schedule = celery_app.conf.beat_schedule["ops-publish-cloudwatch"]
    assert schedule["task"] == publish_cloudwatch.name == "ops.publish_cloudwatch"
    assert schedule["schedule"] < BACKUP_AGE.period_seconds
    assert schedule["options"]["expires"] < schedule["schedule"]
