"""The Fabrknt score's Celery tasks (registered by fabric.apps): thin wrappers that take
ids and call `fabric.services.suite`."""

from __future__ import annotations

from celery import shared_task

from fabric.services.suite import listing_scores_compute, recomputed_listing_ids


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
