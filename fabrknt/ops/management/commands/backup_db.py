"""`manage.py backup_db`: dump the database into the backups storage, then apply retention."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from fabrknt.ops.backups import BackupError, backup_create, backups_prune


class Command(BaseCommand):
    help = (
        "Back up the PostgreSQL database (pg_dump custom format, sha256 manifest) into the "
        "`backups` storage, then delete backups past BACKUP_RETENTION_DAYS or BACKUP_KEEP."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--no-prune", action="store_true", help="keep every older backup this time"
        )

    def handle(self, *args, **options) -> None:
        progress = self.stdout.write if options["verbosity"] >= 1 else lambda message: None
        try:
            backup = backup_create(progress=progress)
            deleted = [] if options["no_prune"] else backups_prune(progress=progress)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"{backup.name}: {backup.size:,} bytes, sha256 {backup.sha256}; "
                f"{len(deleted)} older backups deleted"
            )
        )
