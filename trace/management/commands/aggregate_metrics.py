"""`manage.py aggregate_metrics [--project ID] [--from YYYY-MM-DD --to YYYY-MM-DD]`."""

from __future__ import annotations

import datetime as dt
import uuid

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from trace.models import Project
from trace.services.metrics import EARLIEST_DATE, LATEST_DATE, metrics_backfill


def _date(value: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"not a date (YYYY-MM-DD): {value}") from error
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise CommandError(f"{value} is outside {EARLIEST_DATE} to {LATEST_DATE}")
    return day


class Command(BaseCommand):
    help = (
        "Recompute daily DAU/WAU/MAU, transactions, volume and activity scores "
        "(default: yesterday and today, every project). Safe to re-run. A project that "
        "fails is reported and the others are computed; the exit status is then 1."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--project", help="only this project (id)")
        parser.add_argument("--from", dest="date_from", help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="date_to", help="last day, YYYY-MM-DD (default today)")

    def handle(self, *args, project=None, date_from=None, date_to=None, **options) -> None:
        today = dt.datetime.now(dt.UTC).date()
        last = _date(date_to) if date_to else today
        first = _date(date_from) if date_from else min(last, today - dt.timedelta(days=1))
        if first > last:
            raise CommandError("--from must not be after --to")
        project_id = self._project_id(project) if project else None
        bar = tqdm(unit="chunk", file=self.stderr, disable=options["verbosity"] == 0)
        try:
            result = metrics_backfill(
                project_id=project_id,
                date_from=first,
                date_to=last,
                on_start=lambda total: setattr(bar, "total", total),
                on_step=bar.update,
            )
        finally:
            bar.close()
        self.stdout.write(
            self.style.SUCCESS(f"{result.written} project-days written ({first} to {last})")
        )
        for failed_id, error in result.failed.items():
            self.stdout.write(self.style.ERROR(f"project {failed_id} failed: {error}"))
        if result.failed:
            raise CommandError(f"{len(result.failed)} project(s) failed; the others are computed")

    def _project_id(self, value: str) -> uuid.UUID:
        try:
            project_id = uuid.UUID(value)
        except ValueError as error:
            raise CommandError(f"not a project id: {value}") from error
        if not Project.objects.filter(id=project_id).exists():
            raise CommandError(f"no project {value}")
        return project_id
