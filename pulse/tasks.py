"""PULSE's Celery tasks: thin, idempotent wrappers that take ids and call services."""

from __future__ import annotations

from celery import shared_task

from pulse.services import github_ingest, notion


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


# --- Notion -----------------------------------------------------------------------------


@shared_task(name="pulse.read_notion", soft_time_limit=30, time_limit=60)
def read_notion() -> int:
    """Beat, every NOTION_SYNC_MINUTES: one `pulse.read_notion_workspace` per connected team."""
    team_ids = notion.notion_connections_due()
    for team_id in team_ids:
        read_notion_workspace.delay(team_id)
    return len(team_ids)


@shared_task(name="pulse.read_notion_workspace", soft_time_limit=240, time_limit=300)
def read_notion_workspace(team_id: str) -> int:
    """A team's page edits since its cursor (idempotent: edits are unique per team)."""
    return notion.notion_pages_read(team_id=team_id).stored
