"""The escrow monitor's Celery task (beat every minute: `fabrknt.celery`)."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache

from fabric.services.escrow_monitor import escrows_monitor

MONITOR_TIME_LIMIT = 55


@shared_task(
    name="fabric.monitor_escrows",
    soft_time_limit=MONITOR_TIME_LIMIT - 10,
    time_limit=MONITOR_TIME_LIMIT,
)
def monitor_escrows() -> int:
    """New escrow events stored. A run still busy (a slow RPC) makes the next minute's one
    a no-op; the cursors' conditional updates keep even overlapping runs correct."""
    lock = "fabric:monitor_escrows"
    if not cache.add(lock, 1, timeout=MONITOR_TIME_LIMIT):
        return 0
    try:
        return sum(run.stored for run in escrows_monitor())
    finally:
        cache.delete(lock)
