"""PULSE's Celery tasks: thin, idempotent wrappers that take ids and call services."""

from __future__ import annotations

from celery import shared_task

from pulse.services import github_ingest


@shared_task(
    name="pulse.github_delivery_process",
    soft_time_limit=60,
    time_limit=90,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def github_delivery_process(delivery_pk: int) -> str | None:
    """A recorded GitHub delivery into contributions (a no-op once processed)."""
    delivery = github_ingest.github_delivery_process(delivery_pk=delivery_pk)
    return None if delivery is None else delivery.outcome


@shared_task(name="pulse.github_deliveries_requeue", soft_time_limit=30, time_limit=60)
def github_deliveries_requeue() -> int:
    """Beat, every 5 minutes: queue again deliveries whose task was lost."""
    return github_ingest.github_deliveries_requeue()
