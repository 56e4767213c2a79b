"""`manage.py index_chain [--project ID]`: run the EVM indexer now, printing per project."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from trace.models import Project
from trace.services import indexer


class Command(BaseCommand):
    help = "Read the projects' contract logs from their chains' JSON-RPC (safe to re-run)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--project", help="index only this project (id)")

    def handle(self, *args, project: str | None = None, **options) -> None:
        if project:
            try:
                if not Project.objects.filter(id=project).exists():
                    raise CommandError(f"no project {project}")
            except ValidationError as error:
                raise CommandError(f"not a project id: {project}") from error
            project_ids: Sequence[UUID | str] = [project]
        else:
            project_ids = indexer.projects_indexable()
        total = 0
        for project_id in project_ids:
            total += self._index(project_id)
        self.stdout.write(self.style.SUCCESS(f"{total} new interactions"))

    def _index(self, project_id) -> int:
        name = Project.objects.values_list("name", flat=True).get(id=project_id)
        label = f"{name} ({project_id})"
        try:
            run = indexer.project_index_run(project_id=project_id)
        except indexer.INDEX_SKIPPABLE as error:
            self.stdout.write(self.style.WARNING(f"{label}: skipped, {error}"))
            return 0
        if run.skipped:
            self.stdout.write(f"{label}: skipped, {run.skipped}")
            return 0
        if run.fork_block is not None:
            self.stdout.write(
                self.style.WARNING(
                    f"{label}: reorg, {run.orphaned} interactions above block "
                    f"{run.fork_block} re-derived"
                )
            )
        if run.to_block is None:
            self.stdout.write(f"{label} on {run.chain}: up to date")
        else:
            self.stdout.write(
                f"{label} on {run.chain}: blocks {run.from_block}..{run.to_block}, "
                f"{run.stored} new interactions"
            )
        return run.stored
