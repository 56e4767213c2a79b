"""`manage.py restore_db FILE`: restore a backup into an empty database."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from fabrknt.ops.backups import BackupError, backup_restore, database_from_url


class Command(BaseCommand):
    help = (
        "Restore a backup (a name in the `backups` storage, as backup_db prints it, or a local "
        "path with its .json manifest beside it) into an empty PostgreSQL database, after "
        "verifying its sha256. Stop the web and worker processes first."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="e.g. database/fabrknt-20261130T190000.000000Z.dump")
        parser.add_argument(
            "--force",
            action="store_true",
            help="drop every schema of a database that is not empty (all its data) first",
        )
        parser.add_argument(
            "--database-url",
            help="restore into this database instead of DATABASE_URL's (e.g. to check a "
            "backup in a fresh database); a password is better given in PGPASSWORD",
        )
        parser.add_argument(
            "--jobs", type=int, default=2, help="parallel pg_restore workers (default 2)"
        )

    def handle(self, *args, **options) -> None:
        progress = self.stdout.write if options["verbosity"] >= 1 else lambda message: None
        url = options["database_url"]
        try:
            restored = backup_restore(
                source=options["file"],
                database=database_from_url(url) if url else None,
                force=options["force"],
                jobs=options["jobs"],
                progress=progress,
            )
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"restored {restored.source} ({restored.size:,} bytes, {restored.tables} "
                f"tables) in {restored.seconds:.1f} s; run `manage.py migrate` if this "
                "code has migrations the backup predates"
            )
        )
