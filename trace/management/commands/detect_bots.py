"""`manage.py detect_bots [--project ID]`: mark bot clicks and flag suspicious wallets."""

from __future__ import annotations

import uuid

from django.core.management.base import BaseCommand, CommandError

from trace.models import Project
from trace.services.bots import bots_detect


class Command(BaseCommand):
    help = (
        "Mark recent bot clicks and flag bot/sybil wallets. Nothing is deleted; re-running "
        "never duplicates a flag nor changes an operator's confirm/clear."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--project", help="only this project (id)")

    def handle(self, *args, project=None, **options) -> None:
        project_id = None
        if project:
            try:
                project_id = uuid.UUID(project)
            except ValueError as error:
                raise CommandError(f"not a project id: {project}") from error
            if not Project.objects.filter(id=project_id).exists():
                raise CommandError(f"no project {project}")
        counts = bots_detect(project_id=project_id)
        for key, value in sorted(counts.items()):
            self.stdout.write(f"{key}: {value}")
        self.stdout.write(self.style.SUCCESS("bot detection done"))
