"""`manage.py issue_certificate PROJECT_ID [--from D --to D] [--out FILE]`."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from trace.models import Project
from trace.services.certificates import (
    CertificatePeriodError,
    certificate_document,
    certificate_issue,
)


def _date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"not a date (YYYY-MM-DD): {value}") from error


class Command(BaseCommand):
    help = "Issue a signed growth certificate and write its JSON document (stdout or --out)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("project_id")
        parser.add_argument("--from", dest="date_from", help="first day (default: 30 days)")
        parser.add_argument("--to", dest="date_to", help="last day (default: yesterday)")
        parser.add_argument("--out", help="write the document to this file")

    def handle(self, *args, project_id, date_from=None, date_to=None, out=None, **options):
        try:
            pid = uuid.UUID(project_id)
        except ValueError as error:
            raise CommandError(f"not a project id: {project_id}") from error
        try:
            certificate = certificate_issue(
                project_id=pid, date_from=_date(date_from), date_to=_date(date_to)
            )
        except Project.DoesNotExist as error:
            raise CommandError(f"no project {project_id}") from error
        except CertificatePeriodError as error:
            raise CommandError(str(error)) from error
        document = json.dumps(
            certificate_document(certificate), indent=2, sort_keys=True, ensure_ascii=False
        )
        if out:
            Path(out).write_text(document + "\n", encoding="utf-8")
            self.stderr.write(f"certificate {certificate.id} written to {out}")
        else:
            self.stdout.write(document)
