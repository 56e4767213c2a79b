"""`manage.py flush_clicks`: drain the click stream into the database until it is empty."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from trace.services.clicks.flush import clicks_flush
from trace.services.clicks.stream import stream_client


class Command(BaseCommand):
    help = "Drain the Redis click stream into the database (safe to run beside the workers)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch-size", type=int, default=None)

    def handle(self, *args, **options) -> None:
        if stream_client() is None:
            raise CommandError("REDIS_URL is not set: clicks are written to the database directly.")
        result = clicks_flush(batch_size=options["batch_size"])
        self.stdout.write(
            f"read {result.read}, inserted {result.inserted}, duplicates {result.duplicates}, "
            f"dropped {result.dropped}, reclaimed {result.reclaimed}, batches {result.batches}"
        )
