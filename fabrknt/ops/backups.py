"""Database backups and restores with PostgreSQL's own tools, kept in the `backups` storage.

A backup is pg_dump's custom format (compressed, one consistent snapshot, restorable table
by table and in parallel) streamed from pg_dump's stdout into the `backups` named storage
(settings.STORAGES: S3 in production, a local folder by default) while its sha256 is
computed, so a dump of any size passes through a bounded buffer. A JSON manifest beside it
(`<name>.json`, written last) records its checksum and size: a dump without one is
incomplete and never restored or reported. Names carry the UTC time of the backup, so
listing the folder orders them without reading any file.

A restore verifies the checksum before it touches the target, and refuses a database
that has tables unless told to drop them (`force`), so a mistyped command cannot
overwrite a live database.

SQLite, the embedded default, is refused: it is the one-process demo, not a database
worth an hourly schedule, and copying its file (`sqlite3 db.sqlite3 ".backup copy"`) is
the whole of its backup.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, TypedDict, cast

import environ
import psycopg
from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files import File
from django.core.files.storage import Storage, storages
from django.db import connections
from django.utils import timezone
from psycopg import sql
from psycopg.conninfo import make_conninfo

BACKUPS_STORAGE = "backups"
FOLDER = "database"
MANIFEST_SUFFIX = ".json"
_STAMP_FORMAT = "%Y%m%dT%H%M%S.%fZ"
_DUMP_NAME = re.compile(r"^(?P<label>.+)-(?P<stamp>\d{8}T\d{6}\.\d{6}Z)\.dump$")
# pg_try_advisory_lock key held while a backup runs: one backup at a time per database.
_BACKUP_LOCK_KEY = 0x6661627265_6B7570
_CHUNK = 1024 * 1024
# How long pg_dump waits for a table's share lock (behind a migration, say) before failing:
# a backup that fails is retried; one that waits blocks everything queued behind it.
LOCK_WAIT_TIMEOUT = "60s"
# Django's OPTIONS that libpq understands, and the environment variable pg_dump and
# pg_restore read each from (the password never goes on a command line).
_LIBPQ_OPTIONS = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "options": "PGOPTIONS",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
}
_CONNECTION_KEYS = {
    "NAME": ("dbname", "PGDATABASE"),
    "USER": ("user", "PGUSER"),
    "PASSWORD": ("password", "PGPASSWORD"),
    "HOST": ("host", "PGHOST"),
    "PORT": ("port", "PGPORT"),
}

Progress = Callable[[str], None]


def _quiet(message: str) -> None:
    """The default progress: the tasks log their outcome, not each table."""


class BackupError(Exception):
    """A backup or restore that was refused or failed; the message says why and what to do."""


class BackupBusy(BackupError):
    """Another backup of the same database is running."""


@dataclass(frozen=True)
class Backup:
    name: str  # the dump's name in the backups storage
    at: datetime
    size: int
    sha256: str


class LatestBackup(TypedDict):
    name: str
    at: datetime
    size: int
    sha256: str
    age_seconds: float


@dataclass(frozen=True)
class Restored:
    source: str
    sha256: str
    size: int
    tables: int
    seconds: float


# --- where the database is ----------------------------------------------------------------


def database_from_url(url: str) -> dict[str, Any]:
    """A DATABASE_URL read as settings.DATABASES reads it (django-environ)."""
    config: dict[str, Any] = environ.Env.db_url_config(url)
    return config


def backups_supported(database: Mapping[str, Any]) -> bool:
    """backup_db and restore_db work on PostgreSQL only."""
    return bool(database.get("ENGINE") == "django.db.backends.postgresql")


def _require_postgres(database: Mapping[str, Any]) -> None:
    if not backups_supported(database):
        raise BackupError(
            f"backups need PostgreSQL; this database is {database.get('ENGINE')}. SQLite, "
            'the embedded default, is copied with `sqlite3 db.sqlite3 ".backup copy.sqlite3"`.'
        )


def _connection_params(database: Mapping[str, Any]) -> dict[str, str]:
    params = {
        key: str(database[name])
        for name, (key, _) in _CONNECTION_KEYS.items()
        if database.get(name)
    }
    options = database.get("OPTIONS") or {}
    params.update({key: str(options[key]) for key in _LIBPQ_OPTIONS if key in options})
    return params


def _connect(database: Mapping[str, Any], *, autocommit: bool = False) -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(make_conninfo(**_connection_params(database)), autocommit=autocommit)
    except psycopg.OperationalError as error:
        raise BackupError(f"cannot connect to database {database.get('NAME')}: {error}") from error


def _tool_env(database: Mapping[str, Any]) -> dict[str, str]:
    """The environment for pg_dump and pg_restore: the connection in libpq's variables,
    over the process's own (a PGPASSWORD or PGPASSFILE given there still applies, as it
    does to the connections this process opens)."""
    names = {key: variable for key, variable in _CONNECTION_KEYS.values()} | _LIBPQ_OPTIONS
    env = dict(os.environ)
    env.update({names[key]: value for key, value in _connection_params(database).items()})
    return env


def _tool(name: str) -> str:
    directory = settings.BACKUP_PG_BIN_DIR
    path = str(Path(directory) / name) if directory else shutil.which(name)
    if not path or not Path(path).is_file():
        raise BackupError(
            f"{name} not found ({'in ' + directory if directory else 'on PATH'}): install "
            "PostgreSQL's client tools of the server's major version (postgresql-client), "
            "or set BACKUP_PG_BIN_DIR"
        )
    return path


# --- the storage's folder -----------------------------------------------------------------


def backups_storage() -> Storage:
    return storages[BACKUPS_STORAGE]


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime(_STAMP_FORMAT)


def _dumps(storage: Storage) -> list[tuple[datetime, str, bool]]:
    """(time, name, has its manifest) of every dump in the folder, newest first."""
    try:
        _, files = storage.listdir(FOLDER)
    except FileNotFoundError:  # a local folder before the first backup
        return []
    present = set(files)
    dumps = []
    for file_name in files:
        match = _DUMP_NAME.match(file_name)
        if match:
            at = datetime.strptime(match["stamp"], _STAMP_FORMAT).replace(tzinfo=UTC)
            complete = file_name + MANIFEST_SUFFIX in present
            dumps.append((at, f"{FOLDER}/{file_name}", complete))
    return sorted(dumps, reverse=True)


def _read_manifest(storage: Storage, name: str) -> dict[str, Any]:
    with storage.open(name + MANIFEST_SUFFIX, "rb") as manifest:
        content: dict[str, Any] = json.loads(manifest.read())
    return content


def latest_backup(*, now: datetime | None = None) -> LatestBackup | None:
    """The newest complete backup, or None: what the operations telemetry shows and the
    "backup age over an hour" alarm reads. One listing and one small read."""
    storage = backups_storage()
    for at, name, complete in _dumps(storage):
        if complete:
            manifest = _read_manifest(storage, name)
            age = ((now or timezone.now()) - at).total_seconds()
            return LatestBackup(
                name=name,
                at=at,
                size=int(manifest["size"]),
                sha256=str(manifest["sha256"]),
                age_seconds=age,
            )
    return None


def backups_prune(*, now: datetime | None = None, progress: Progress = _quiet) -> list[str]:
    """Deletes the backups older than BACKUP_RETENTION_DAYS or beyond the BACKUP_KEEP
    newest, and incomplete dumps (a run killed mid-way) older than the newest complete
    backup. The newest complete backup is never deleted, however old: an outage of the
    schedule must not leave nothing to restore. Returns the deleted dumps' names."""
    storage = backups_storage()
    oldest_kept = (now or timezone.now()) - timedelta(days=settings.BACKUP_RETENTION_DAYS)
    dumps = _dumps(storage)
    complete = [(at, name) for at, name, done in dumps if done]
    if not complete:
        return []
    newest_at, newest = complete[0]
    doomed = [
        name
        for position, (at, name) in enumerate(complete)
        if name != newest and (at < oldest_kept or position >= settings.BACKUP_KEEP)
    ]
    doomed += [name for at, name, done in dumps if not done and at < newest_at]
    for name in doomed:
        storage.delete(name + MANIFEST_SUFFIX)
        storage.delete(name)
        progress(f"deleted {name}")
    return doomed


# --- backup -------------------------------------------------------------------------------


class _HashingReader:
    """pg_dump's stdout as a file the storage reads: a read returns the bytes asked for
    (unless the dump has ended), which S3's multipart upload needs, and feeds the hash."""

    closed = False

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self.sha256 = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self.sha256.update(data)
        self.size += len(data)
        return data

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False


@contextmanager
def _stderr_reader(
    stream: IO[bytes], progress: Progress, pick: Callable[[str], str | None]
) -> Iterator[deque[str]]:
    """Reads a tool's stderr while it runs (a full pipe would stall it), passing the lines
    `pick` makes a message of to `progress` and keeping the last ones for an error."""
    tail: deque[str] = deque(maxlen=20)

    def drain() -> None:
        for raw in stream:
            line = raw.decode(errors="replace").rstrip()
            tail.append(line)
            if message := pick(line):
                progress(message)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        yield tail
    finally:
        reader.join(timeout=30)


def _dumped_table(line: str) -> str | None:
    prefix = "pg_dump: dumping contents of table "
    return f"dumping {line.removeprefix(prefix)}" if line.startswith(prefix) else None


@contextmanager
def _backup_lock(database: Mapping[str, Any]) -> Iterator[None]:
    with _connect(database, autocommit=True) as lock:
        row = lock.execute("SELECT pg_try_advisory_lock(%s)", [_BACKUP_LOCK_KEY]).fetchone()
        if not row or not row[0]:
            raise BackupBusy("another backup of this database is running; try again later")
        try:
            yield
        finally:
            lock.execute("SELECT pg_advisory_unlock(%s)", [_BACKUP_LOCK_KEY])


def backup_create(*, database_alias: str = "default", progress: Progress = _quiet) -> Backup:
    """Dumps the database into the backups storage and writes its manifest; a dump that
    fails half-way is deleted. One at a time per database (an advisory lock)."""
    database = connections[database_alias].settings_dict
    _require_postgres(database)
    pg_dump = _tool("pg_dump")
    at = timezone.now()
    label = re.sub(r"[^A-Za-z0-9_.-]", "_", str(database["NAME"])) or "database"
    storage = backups_storage()
    with _backup_lock(database):
        process = subprocess.Popen(  # noqa: S603  (our arguments, no shell)
            [pg_dump, "--format=custom", "--verbose", f"--lock-wait-timeout={LOCK_WAIT_TIMEOUT}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_tool_env(database),
        )
        assert process.stdout is not None and process.stderr is not None
        reader = _HashingReader(process.stdout)
        name = ""
        finished = False
        try:
            with _stderr_reader(process.stderr, progress, _dumped_table) as tail:
                try:
                    # The reader stands in for a file: read() and seekable() are all it needs.
                    name = storage.save(
                        f"{FOLDER}/{label}-{_stamp(at)}.dump", File(cast(IO[bytes], reader))
                    )
                except BaseException:
                    process.kill()  # the upload failed: pg_dump would wait on a full pipe
                    raise
                finally:
                    returncode = process.wait()
            if returncode != 0:
                raise BackupError(f"pg_dump failed ({returncode}): " + "\n".join(tail))
            manifest = {
                "name": name,
                "format": "pg_dump custom (-Fc), compressed",
                "database": database["NAME"],
                "started_at": at.isoformat(),
                "finished_at": timezone.now().isoformat(),
                "size": reader.size,
                "sha256": reader.sha256.hexdigest(),
                "pg_dump": subprocess.run(  # noqa: S603
                    [pg_dump, "--version"], capture_output=True, text=True, check=False
                ).stdout.strip(),
            }
            storage.save(name + MANIFEST_SUFFIX, File(io.BytesIO(json.dumps(manifest).encode())))
            finished = True
        finally:
            if name and not finished:
                storage.delete(name)
    progress(f"backed up to {name}: {reader.size:,} bytes, sha256 {reader.sha256.hexdigest()}")
    return Backup(name=name, at=at, size=reader.size, sha256=reader.sha256.hexdigest())


# --- restore ------------------------------------------------------------------------------


def _sha256_of(stream: IO[bytes], copy_to: IO[bytes] | None = None) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
        if copy_to is not None:
            copy_to.write(chunk)
    return digest.hexdigest(), size


@contextmanager
def _verified_dump(source: str, progress: Progress) -> Iterator[tuple[Path, str, int]]:
    """The dump as a local file (pg_restore reads it out of order, in parallel), its
    checksum verified against its manifest: a local path, or a name in the storage,
    downloaded into a temporary folder deleted afterwards."""
    local = Path(source)
    if local.is_file():
        manifest_path = Path(source + MANIFEST_SUFFIX)
        if not manifest_path.is_file():
            raise BackupError(
                f"no manifest {manifest_path} beside the dump: its checksum is unknown"
            )
        expected = json.loads(manifest_path.read_text())["sha256"]
        with local.open("rb") as dump:
            sha256, size = _sha256_of(dump)
        _check(source, expected, sha256)
        yield local, sha256, size
        return
    storage = backups_storage()
    try:
        stored = storage.exists(source)
    except SuspiciousFileOperation:  # a path out of the local folder, which is no name
        stored = False
    if not stored:
        raise BackupError(
            f"no file {source} here and no backup named {source} in the backups storage"
        )
    if not storage.exists(source + MANIFEST_SUFFIX):
        raise BackupError(f"{source} has no manifest: it is incomplete (its backup did not finish)")
    expected = _read_manifest(storage, source)["sha256"]
    with tempfile.TemporaryDirectory(prefix="fabrknt-restore-") as folder:
        path = Path(folder) / "backup.dump"
        progress(f"downloading {source}")
        with storage.open(source, "rb") as dump, path.open("wb") as copy:
            sha256, size = _sha256_of(dump, copy_to=copy)
        _check(source, expected, sha256)
        yield path, sha256, size


def _check(source: str, expected: str, actual: str) -> None:
    if actual != expected:
        raise BackupError(
            f"checksum mismatch for {source}: the manifest says sha256 {expected}, the file "
            f"is {actual}. It was changed or damaged; nothing was restored."
        )


def _user_relations(connection: psycopg.Connection[Any]) -> list[str]:
    rows = connection.execute(
        "SELECT n.nspname || '.' || c.relname FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
        "AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%' ORDER BY 1"
    ).fetchall()
    return [row[0] for row in rows]


def _empty_target(database: Mapping[str, Any], *, force: bool, progress: Progress) -> None:
    """Refuses a database with tables, or with `force` drops its schemas (and everything
    in them, objects the backup does not have included) and leaves an empty `public`."""
    with _connect(database, autocommit=True) as connection:
        relations = _user_relations(connection)
        if not relations:
            return
        if not force:
            raise BackupError(
                f"database {database['NAME']} is not empty ({len(relations)} tables, views "
                f"or sequences, e.g. {', '.join(relations[:3])}): restore into an empty "
                "database, or pass --force to drop everything in it first"
            )
        # Waiting behind a running web or worker process would hang: fail and say so.
        connection.execute("SET lock_timeout = '10s'")
        schemas = connection.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname <> 'information_schema' "
            "AND nspname NOT LIKE 'pg\\_%'"
        ).fetchall()
        try:
            with connection.transaction():
                for (schema,) in schemas:
                    connection.execute(
                        sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema))
                    )
                connection.execute("CREATE SCHEMA public")
        except psycopg.errors.LockNotAvailable as error:
            raise BackupError(
                f"database {database['NAME']} is in use (a lock was not granted in 10 s): "
                "stop the web and worker processes, then restore again"
            ) from error
        except psycopg.Error as error:  # e.g. a role that does not own the schemas
            raise BackupError(f"could not empty database {database['NAME']}: {error}") from error
        progress(f"dropped {len(relations)} relations in {len(schemas)} schemas")


_RESTORE_LINE = re.compile(
    r"^pg_restore: (?:processing data for table \"(?P<table>[^\"]+)\""
    r"|launching item \d+ TABLE DATA (?P<schema>\S+) (?P<name>\S+))"
)


def _restored_table(line: str) -> str | None:
    """pg_restore's line for a table's rows (its serial and parallel wording)."""
    match = _RESTORE_LINE.match(line)
    if not match:
        return None
    return f"restoring {match['table'] or match['schema'] + '.' + match['name']}"


def backup_restore(
    *,
    source: str,
    database: Mapping[str, Any] | None = None,
    force: bool = False,
    jobs: int = 2,
    progress: Progress = _quiet,
) -> Restored:
    """Restores `source` (a name in the backups storage or a local path) into `database`
    (settings.DATABASES's default unless given): checksum first, then the emptiness check,
    then pg_restore with `jobs` parallel workers. Objects are owned by the restoring role
    (--no-owner): the backup restores under another role, as on a new server."""
    target = database if database is not None else connections["default"].settings_dict
    _require_postgres(target)
    pg_restore = _tool("pg_restore")
    started = datetime.now(UTC)
    with _verified_dump(source, progress) as (path, sha256, size):
        progress(f"checksum verified: sha256 {sha256}, {size:,} bytes")
        _empty_target(target, force=force, progress=progress)
        process = subprocess.Popen(  # noqa: S603  (our arguments, no shell)
            [pg_restore, "--exit-on-error", "--no-owner", "--no-privileges", "--verbose"]
            + [f"--jobs={max(1, jobs)}", f"--dbname={target['NAME']}", str(path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=_tool_env(target),
        )
        assert process.stderr is not None
        with _stderr_reader(process.stderr, progress, _restored_table) as tail:
            returncode = process.wait()
        if returncode != 0:
            raise BackupError(
                f"pg_restore failed ({returncode}); the database is partly restored, run "
                "again with --force once the cause is fixed:\n" + "\n".join(tail)
            )
    with _connect(target) as connection:
        tables = connection.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone()
    seconds = (datetime.now(UTC) - started).total_seconds()
    return Restored(
        source=source, sha256=sha256, size=size, tables=tables[0] if tables else 0, seconds=seconds
    )
