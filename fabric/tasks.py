"""FABRIC's background work: thin tasks that take ids and call a service."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task
from django.core.cache import cache

from fabric.services import revenue
from fabric.services.deal_notifications import message_notify, offer_step_notify
from fabric.services.escrow_monitor import escrows_monitor
from fabric.services.nda import nda_nonces_purge
from fabric.services.offers import offers_expire
from fabric.services.suite import listing_scores_compute, recomputed_listing_ids


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


# A retry mails everyone of the step again: rare (the mail server refused), and a second
# copy of a notification is better than none.
@shared_task(
    name="fabric.notify_offer_step",
    soft_time_limit=60,
    time_limit=90,
    autoretry_for=(SMTPException, OSError),
    retry_backoff=True,
    max_retries=3,
)
def notify_offer_step(step_id: int) -> int:
    return offer_step_notify(step_id=step_id)


@shared_task(
    name="fabric.notify_message",
    soft_time_limit=60,
    time_limit=90,
    autoretry_for=(SMTPException, OSError),
    retry_backoff=True,
    max_retries=3,
)
def notify_message(message_id: str) -> int:
    return message_notify(message_id=message_id)


@shared_task(name="fabric.expire_offers", soft_time_limit=120, time_limit=180)
def expire_offers() -> int:
    return offers_expire()


@shared_task(name="fabric.recompute_listing_scores", soft_time_limit=60, time_limit=90)
def recompute_listing_scores(listing_id: str) -> float | None:
    """One listing's scores, recomputed and stored (queued by `scores_stale`); the new
    Fabrknt score, None when there is none (or no listing)."""
    listing = listing_scores_compute(listing_id=listing_id)
    if listing is None or listing.fabrknt_score is None:
        return None
    return float(listing.fabrknt_score)


@shared_task(name="fabric.recompute_all_listing_scores", soft_time_limit=60, time_limit=90)
def recompute_all_listing_scores() -> int:
    """Beat, daily: one `fabric.recompute_listing_scores` per listing still in play."""
    listing_ids = recomputed_listing_ids()
    for listing_id in listing_ids:
        recompute_listing_scores.delay(listing_id)
    return len(listing_ids)


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
