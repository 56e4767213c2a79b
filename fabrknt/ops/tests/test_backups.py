"""Backups end to end on PostgreSQL: the demo data is seeded into a scratch database of this
module's own (migrate and seed_demo, as an operator runs them), backed up with `manage.py
backup_db`, restored with `manage.py restore_db` into fresh scratch databases, and compared
table by table (row count and an md5 of the ordered rows) and sequence by sequence. The S3
path runs against moto's server mode through the `backups` named storage."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import boto3
import psycopg
import pytest
from django.conf import settings as django_settings
from django.core.files import File
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from moto.server import ThreadedMotoServer
from psycopg import sql

from fabrknt.celery import app as celery_app
from fabrknt.ops import backups
from fabrknt.ops.backups import (
    BackupBusy,
    BackupError,
    backup_create,
    backups_prune,
    backups_storage,
    latest_backup,
)
from fabrknt.ops.tasks import backup_db
from fabrknt.ops.tests.workers import worker_command
from fabrknt.settings import s3_storage

pytestmark = pytest.mark.postgres

BUCKET = "fabrknt-backups-test"
REGION = "us-east-1"


def _server_url(name: str) -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{name}"


@pytest.fixture(scope="module")
def scratch(django_db_setup) -> Iterator[Callable[[str], str]]:
    """Creates empty databases on the test server (named after this run's test database,
    so parallel runs never meet) and drops them at the end; returns their URLs."""
    created: list[str] = []
    admin = _server_url("postgres")

    def create(suffix: str) -> str:
        name = f"{connection.settings_dict['NAME']}_bk_{suffix}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        created.append(name)
        return _server_url(name)

    yield create
    with psycopg.connect(admin, autocommit=True) as conn:
        for name in created:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def manage(*args: str, database_url: str, backup_root: Path, check: bool = True):
    """A manage.py command in its own process, on `database_url` with the embedded defaults
    for everything else (no Redis, tasks eager), backups in `backup_root`."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "",
        "BACKUP_ROOT": str(backup_root),
        "MEDIA_ROOT": str(backup_root.parent / "media"),
    }
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def demo(scratch, tmp_path_factory) -> dict:
    """The demo data in a database of its own, backed up once with `manage.py backup_db`."""
    url = scratch("source")
    root = tmp_path_factory.mktemp("backups") / "store"
    manage("migrate", "--noinput", database_url=url, backup_root=root)
    manage("seed_demo", database_url=url, backup_root=root)
    output = manage("backup_db", database_url=url, backup_root=root).stdout
    (manifest,) = (root / "database").glob("*.dump.json")
    return {
        "url": url,
        "root": root,
        "output": output,
        "manifest": json.loads(manifest.read_text()),
        "dump": Path(str(manifest).removesuffix(".json")),
    }


def fingerprint(url: str) -> dict[str, tuple[int, str]]:
    """Per table of the public schema: rows and an md5 of its rows in order; per sequence,
    its last value (a restore must not hand out ids again)."""
    answer: dict[str, tuple[int, str]] = {}
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        ).fetchall()
        for (table,) in tables:
            count, digest = conn.execute(
                sql.SQL(
                    "SELECT count(*), "
                    "md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM {} AS t"
                ).format(sql.Identifier(table))
            ).fetchone()
            answer[table] = (count, digest)
        for name, last_value in conn.execute(
            "SELECT sequencename, coalesce(last_value, 0) FROM pg_sequences "
            "WHERE schemaname = 'public'"
        ).fetchall():
            answer[f"sequence {name}"] = (last_value, "")
    return answer


def relation_count(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public'"
        ).fetchone()[0]


def test_backup_writes_a_custom_format_dump_and_its_checksum(demo):
    dump, manifest = demo["dump"], demo["manifest"]

    data = dump.read_bytes()
    assert data[:5] == b"PGDMP"  # pg_dump's custom format
    assert manifest["sha256"] == hashlib.sha256(data).hexdigest()
    assert manifest["size"] == len(data)
    assert manifest["name"] == f"database/{dump.name}"
    assert manifest["pg_dump"].startswith("pg_dump (PostgreSQL) ")
    assert f"{manifest['name']}: {len(data):,} bytes, sha256 {manifest['sha256']}" in demo["output"]
    assert 'dumping "public.trace_click"' in demo["output"]  # progress, table by table
    # Only the server's user reads it.
    assert dump.stat().st_mode & 0o077 == 0
    assert (dump.parent.stat().st_mode & 0o077) == 0


def test_restore_into_a_fresh_database_brings_back_every_row(demo, scratch):
    target = scratch("fresh")

    done = manage(
        "restore_db",
        demo["manifest"]["name"],
        "--database-url",
        target,
        database_url=demo["url"],
        backup_root=demo["root"],
    )

    assert f"checksum verified: sha256 {demo['manifest']['sha256']}" in done.stdout
    assert "restoring public.trace_click" in done.stdout
    source, restored = fingerprint(demo["url"]), fingerprint(target)
    assert restored == source
    assert len([name for name in source if not name.startswith("sequence ")]) > 80
    # The demo's rows, not empty tables compared with empty tables.
    for table in ("trace_click", "trace_conversion", "pulse_contribution", "fabric_listing"):
        assert source[table][0] > 0, table
    assert source["django_migrations"][0] > 50


def test_a_database_that_is_not_empty_is_refused_and_left_as_it_was(demo, scratch):
    target = scratch("busy")
    with psycopg.connect(target, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (id int)")
        conn.execute("INSERT INTO kept VALUES (1), (2)")
    before = fingerprint(target)

    done = manage(
        "restore_db",
        demo["manifest"]["name"],
        "--database-url",
        target,
        database_url=demo["url"],
        backup_root=demo["root"],
        check=False,
    )

    assert done.returncode == 1
    assert "is not empty (1 tables, views or sequences, e.g. public.kept)" in done.stderr
    assert "pass --force" in done.stderr
    assert fingerprint(target) == before == {"kept": (2, before["kept"][1])}


def test_force_drops_everything_first_then_restores(demo, scratch):
    target = scratch("forced")
    with psycopg.connect(target, autocommit=True) as conn:
        conn.execute("CREATE TABLE not_in_the_backup (id int)")
        conn.execute("CREATE SCHEMA other")
        conn.execute("CREATE TABLE other.stale (id int)")
    # The restore's own run first, so every table of the backup is there with other rows.
    manage(
        "restore_db",
        str(demo["dump"]),
        "--database-url",
        target,
        "--force",
        database_url=demo["url"],
        backup_root=demo["root"],
    )
    with psycopg.connect(target, autocommit=True) as conn:
        conn.execute("DELETE FROM trace_walletlink")
        conn.execute("CREATE TABLE not_in_the_backup (id int)")

    done = manage(
        "restore_db",
        str(demo["dump"]),
        "--database-url",
        target,
        "--force",
        "--jobs",
        "1",
        database_url=demo["url"],
        backup_root=demo["root"],
    )

    assert "dropped " in done.stdout
    assert fingerprint(target) == fingerprint(demo["url"])
    with psycopg.connect(target) as conn:
        schemas = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' "
            "AND nspname <> 'information_schema'"
        ).fetchall()
    assert schemas == [("public",)]


def test_a_changed_dump_is_refused_before_the_database_is_touched(demo, scratch, tmp_path):
    target = scratch("tampered")
    copy = tmp_path / demo["dump"].name
    data = bytearray(demo["dump"].read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    shutil.copy(f"{demo['dump']}.json", f"{copy}.json")

    done = manage(
        "restore_db",
        str(copy),
        "--database-url",
        target,
        database_url=demo["url"],
        backup_root=demo["root"],
        check=False,
    )

    assert done.returncode == 1
    assert (
        f"checksum mismatch for {copy}: the manifest says sha256 {demo['manifest']['sha256']}"
        in done.stderr
    )
    assert "nothing was restored" in done.stderr
    assert relation_count(target) == 0


def test_a_dump_without_its_manifest_or_a_missing_name_is_refused(demo, scratch, tmp_path):
    target = scratch("unknown")
    lone = tmp_path / "lone.dump"
    shutil.copy(demo["dump"], lone)

    no_manifest = manage(
        "restore_db",
        str(lone),
        "--database-url",
        target,
        database_url=demo["url"],
        backup_root=demo["root"],
        check=False,
    )
    missing = manage(
        "restore_db",
        "database/nothing.dump",
        "--database-url",
        target,
        database_url=demo["url"],
        backup_root=demo["root"],
        check=False,
    )

    assert no_manifest.returncode == 1
    assert f"no manifest {lone}.json beside the dump: its checksum is unknown" in no_manifest.stderr
    outside = manage(
        "restore_db",
        "/nowhere/backup.dump",
        "--database-url",
        target,
        database_url=demo["url"],
        backup_root=demo["root"],
        check=False,
    )

    assert missing.returncode == 1
    assert "no backup named database/nothing.dump in the backups storage" in missing.stderr
    assert outside.returncode == 1
    assert "no file /nowhere/backup.dump here and no backup named" in outside.stderr
    assert relation_count(target) == 0


def test_a_target_that_cannot_be_reached_is_named(demo):
    missing = _server_url(f"{connection.settings_dict['NAME']}_bk_never_created")

    done = manage(
        "restore_db",
        str(demo["dump"]),
        "--database-url",
        missing,
        database_url=demo["url"],
        backup_root=demo["root"],
        check=False,
    )

    assert done.returncode == 1
    name = missing.rsplit("/", 1)[1]
    assert f"CommandError: cannot connect to database {name}: " in done.stderr
    assert "Traceback" not in done.stderr


def test_sqlite_is_refused_with_the_way_to_copy_it(tmp_path):
    done = manage(
        "backup_db",
        database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        backup_root=tmp_path / "store",
        check=False,
    )

    assert done.returncode == 1
    assert "backups need PostgreSQL; this database is django.db.backends.sqlite3" in done.stderr
    assert ".backup copy.sqlite3" in done.stderr
    assert not (tmp_path / "store").exists()


@pytest.mark.celery_worker
def test_a_worker_runs_the_scheduled_backup_from_the_broker(demo, tmp_path):
    """The beat entry's task, sent through the broker to a real `celery worker` working on
    the demo database, leaves a complete backup of it."""
    root = tmp_path / "store"
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": demo["url"],
        "BACKUP_ROOT": str(root),
        "PYTHONUNBUFFERED": "1",
    }
    with log.open("wb") as out:
        worker = subprocess.Popen(
            worker_command(name="backups"),
            cwd=django_settings.BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    celery_app.conf.task_always_eager = False
    try:
        backup_db.apply_async()
        deadline = time.monotonic() + 120
        while not list(root.glob("database/*.dump.json")):
            assert worker.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
    finally:
        celery_app.conf.task_always_eager = True
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)

    (manifest_path,) = root.glob("database/*.dump.json")
    manifest = json.loads(manifest_path.read_text())
    dump = Path(str(manifest_path).removesuffix(".json"))
    assert manifest["database"] == demo["url"].rsplit("/", 1)[1]
    assert manifest["sha256"] == hashlib.sha256(dump.read_bytes()).hexdigest()
    assert "Task ops.backup_db[" in log.read_text()


# --- the storage, in-process ------------------------------------------------------------


@pytest.fixture
def local_backups(settings, tmp_path) -> Path:
    root = tmp_path / "backups"
    settings.STORAGES = {
        **settings.STORAGES,
        "backups": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": root},
        },
    }
    return root


def _stored(at: datetime, *, complete: bool = True) -> str:
    """A backup's files as backup_create names them, made at `at` (retention reads the
    time from the name)."""
    storage = backups_storage()
    name = storage.save(f"database/db-{at:%Y%m%dT%H%M%S.%f}Z.dump", File(BytesIO(b"PGDMP")))
    if complete:
        manifest = {"size": 5, "sha256": hashlib.sha256(b"PGDMP").hexdigest()}
        storage.save(f"{name}.json", File(BytesIO(json.dumps(manifest).encode())))
    return name


def _names() -> list[str]:
    return sorted(backups_storage().listdir("database")[1])


NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_retention_deletes_by_age_and_count_and_keeps_the_newest(local_backups, settings):
    settings.BACKUP_RETENTION_DAYS = 7
    settings.BACKUP_KEEP = 3
    ages = [timedelta(hours=1), timedelta(hours=2), timedelta(days=3), timedelta(days=4)]
    ages += [timedelta(days=8), timedelta(days=30)]
    newest, second, third, fourth, old, older = (_stored(NOW - age) for age in ages)
    killed = _stored(NOW - timedelta(hours=5), complete=False)  # a run that died mid-way
    running = _stored(NOW - timedelta(minutes=1), complete=False)  # a run still writing

    deleted = backups_prune(now=NOW)

    assert sorted(deleted) == sorted([fourth, old, older, killed])
    kept = [newest, second, third, running]
    assert _names() == sorted(
        [name.removeprefix("database/") for name in kept]
        + [f"{name.removeprefix('database/')}.json" for name in kept if name != running]
    )


def test_retention_never_deletes_the_newest_backup_however_old(local_backups, settings):
    settings.BACKUP_RETENTION_DAYS = 7
    settings.BACKUP_KEEP = 1
    newest = _stored(NOW - timedelta(days=20))
    _stored(NOW - timedelta(days=21))

    backups_prune(now=NOW)

    assert _names() == [
        newest.removeprefix("database/"),
        f"{newest.removeprefix('database/')}.json",
    ]
    assert latest_backup(now=NOW)["age_seconds"] == 20 * 86400


def test_latest_backup_is_none_before_the_first_one(local_backups):
    assert latest_backup() is None
    _stored(NOW, complete=False)
    assert latest_backup() is None  # an unfinished dump is no backup


@pytest.mark.django_db
def test_the_hourly_task_backs_up_and_prunes(local_backups, settings):
    settings.BACKUP_RETENTION_DAYS = 7
    expired = _stored(datetime.now(UTC) - timedelta(days=9))

    name = backup_db.delay().get()

    latest = latest_backup()
    assert latest["name"] == name
    data = (local_backups / name).read_bytes()
    assert latest["sha256"] == hashlib.sha256(data).hexdigest() and latest["size"] == len(data)
    assert 0 <= latest["age_seconds"] < 60
    assert not backups_storage().exists(expired)
    schedule = celery_app.conf.beat_schedule["ops-backup-db"]
    assert schedule["task"] == "ops.backup_db" == backup_db.name
    assert schedule["schedule"].minute == {25} and len(schedule["schedule"].hour) == 24


@pytest.mark.django_db
def test_one_backup_at_a_time(local_backups):
    db = connection.settings_dict
    holder = psycopg.connect(_server_url(db["NAME"]), autocommit=True)
    holder.execute("SELECT pg_advisory_lock(%s)", [0x6661627265_6B7570])
    try:
        with pytest.raises(BackupBusy, match="another backup of this database is running"):
            backup_create()
        with pytest.raises(CommandError, match="another backup of this database is running"):
            call_command("backup_db")
    finally:
        holder.close()
    assert not local_backups.exists() or not any(local_backups.rglob("*.dump"))


@pytest.mark.django_db
def test_a_failed_dump_is_deleted_and_reported(local_backups, monkeypatch):
    """pg_dump cannot lock a table (a migration holds it): the command says why, and
    neither a dump nor a manifest is left."""
    monkeypatch.setattr(backups, "LOCK_WAIT_TIMEOUT", "1s")
    holder = psycopg.connect(_server_url(connection.settings_dict["NAME"]))
    holder.execute("LOCK TABLE trace_click IN ACCESS EXCLUSIVE MODE")
    try:
        with pytest.raises(CommandError, match="pg_dump failed") as refused:
            call_command("backup_db")
    finally:
        holder.close()
    assert "trace_click" in str(refused.value)
    assert list(local_backups.rglob("*.dump*")) == []
    assert latest_backup() is None


def test_missing_client_tools_are_named(local_backups, settings, tmp_path):
    settings.BACKUP_PG_BIN_DIR = str(tmp_path)

    with pytest.raises(BackupError, match=f"pg_dump not found \\(in {tmp_path}\\)"):
        backup_create()

    assert not local_backups.exists()


# --- S3 (moto's server mode) ------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def s3_backups(settings, monkeypatch):
    """An empty bucket on a local S3 server, the `backups` storage on it as production's
    settings build it (BACKUP_BUCKET through fabrknt.settings.s3_storage)."""
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "backups": s3_storage(
            bucket=BUCKET,
            endpoint_url=endpoint,
            region=REGION,
            addressing_style="path",
            presigned_seconds=300,
        ),
    }
    yield client
    server.stop()


@pytest.mark.django_db
def test_backup_to_s3_and_restore_from_it(s3_backups, scratch, capsys):
    call_command("backup_db")

    keys = sorted(item["Key"] for item in s3_backups.list_objects_v2(Bucket=BUCKET)["Contents"])
    dump_key, manifest_key = keys
    assert manifest_key == f"{dump_key}.json" and dump_key.startswith("database/")
    body = s3_backups.get_object(Bucket=BUCKET, Key=dump_key)["Body"].read()
    manifest = json.loads(s3_backups.get_object(Bucket=BUCKET, Key=manifest_key)["Body"].read())
    assert manifest["sha256"] == hashlib.sha256(body).hexdigest()
    assert body[:5] == b"PGDMP"
    latest = latest_backup()
    assert (latest["name"], latest["size"], latest["sha256"]) == (
        dump_key,
        len(body),
        manifest["sha256"],
    )

    target = scratch("from_s3")
    call_command("restore_db", dump_key, "--database-url", target)

    assert f"downloading {dump_key}" in capsys.readouterr().out
    # The test database's committed rows (what its migrations seeded), table by table.
    assert fingerprint(target) == fingerprint(_server_url(connection.settings_dict["NAME"]))


@pytest.mark.django_db
def test_a_changed_object_in_s3_is_refused(s3_backups, scratch):
    call_command("backup_db")
    dump_key = next(
        item["Key"]
        for item in s3_backups.list_objects_v2(Bucket=BUCKET)["Contents"]
        if item["Key"].endswith(".dump")
    )
    s3_backups.put_object(Bucket=BUCKET, Key=dump_key, Body=b"PGDMP not the backup")
    target = scratch("s3_tampered")

    with pytest.raises(CommandError, match=f"checksum mismatch for {dump_key}"):
        call_command("restore_db", dump_key, "--database-url", target)

    assert relation_count(target) == 0


def test_the_telemetry_judges_the_backup_age(local_backups):
    """No backup at all is alarm (RPO 1 h), as is one over an hour old; a fresh one is ok."""
    from fabrknt.ops.telemetry import backup_telemetry

    def judged() -> tuple[bool, str | None, str]:
        backup = backup_telemetry()
        return backup.readable, backup.latest and backup.latest["name"], backup.alarm.state

    assert judged() == (True, None, "alarm")
    old = _stored(datetime.now(UTC) - timedelta(hours=2))
    assert judged() == (True, old, "alarm")
    fresh = _stored(datetime.now(UTC) - timedelta(minutes=5))
    assert judged() == (True, fresh, "ok")


def test_an_unreadable_backups_storage_is_told_apart_from_no_backup(local_backups):
    from fabrknt.ops.telemetry import backup_telemetry

    local_backups.parent.mkdir(parents=True, exist_ok=True)
    local_backups.write_text("a file where the folder should be")

    backup = backup_telemetry()

    assert (backup.readable, backup.latest, backup.alarm.state) == (
        False,
        None,
        "insufficient_data",
    )
