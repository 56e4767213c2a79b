"""`manage.py ensure_queues`: on SQS, each queue with its dead-letter queue and redrive
policy (workers do the same when they start; a deployment runs it beside `migrate`)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from fabrknt.ops.queues import on_sqs, queues_ensure


class Command(BaseCommand):
    help = "Create or update the SQS queues, their dead-letter queues and redrive policies."

    def handle(self, *args, **options) -> None:
        if not on_sqs():
            self.stdout.write("The broker is not SQS: Redis needs no queues made in advance.")
            return
        for url in queues_ensure():
            self.stdout.write(self.style.SUCCESS(f"{url}: dead-letter queue and redrive set"))
