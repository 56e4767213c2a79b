"""FABRIC's background work: thin tasks that take ids and call a service."""

from __future__ import annotations

from celery import shared_task

from fabric.services import revenue
from fabric.services.nda import nda_nonces_purge


@shared_task(name="fabric.verify_revenue", soft_time_limit=240, time_limit=300)
def verify_revenue() -> int:
    """Beat, daily: one `fabric.verify_listing_revenue` per listing with something to measure."""
    listing_ids = revenue.listings_to_verify()
    for listing_id in listing_ids:
        verify_listing_revenue.delay(str(listing_id))
    return len(listing_ids)


@shared_task(name="fabric.verify_listing_revenue", soft_time_limit=240, time_limit=300)
def verify_listing_revenue(listing_id: str) -> int:
    """One listing's revenue records for today (a re-run rewrites the same rows)."""
    return len(revenue.revenue_verify(listing_id=listing_id))


@shared_task(name="fabric.purge_nda_nonces", soft_time_limit=60, time_limit=90)
def purge_nda_nonces() -> int:
    return nda_nonces_purge()
