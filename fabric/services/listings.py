"""A listing's life: its status moves only through `transition`, which checks the move
against the allowed ones, stamps the times and records a `ListingEvent`."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from fabric.models import Listing, ListingEvent, ListingStatus
from fabrknt.api.errors import Conflict

S = ListingStatus
ALLOWED: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.PENDING_REVIEW, S.PUBLISHED, S.WITHDRAWN}),
    S.PENDING_REVIEW: frozenset({S.PUBLISHED, S.REJECTED, S.WITHDRAWN}),
    S.PUBLISHED: frozenset({S.UNDER_OFFER, S.SOLD, S.WITHDRAWN}),
    S.UNDER_OFFER: frozenset({S.PUBLISHED, S.SOLD, S.WITHDRAWN}),
    S.REJECTED: frozenset({S.DRAFT}),
    S.WITHDRAWN: frozenset({S.DRAFT}),
    S.SOLD: frozenset(),
}


def transition(listing: Listing, to: str, *, actor: User | None = None, note: str = "") -> Listing:
    """Move `listing` to status `to` (Conflict when the move is not allowed), under a row
    lock so that two concurrent moves cannot both start from the same status."""
    with transaction.atomic():
        locked = Listing.objects.select_for_update().get(pk=listing.pk)
        if to not in ALLOWED[locked.status]:
            raise Conflict(f"A {locked.status} listing cannot become {to}.")
        now = timezone.now()
        fields = ["status", "updated_at"]
        if to == S.PUBLISHED and locked.published_at is None:
            locked.published_at = now
            fields.append("published_at")
        if to == S.SOLD:
            locked.sold_at = now
            fields.append("sold_at")
        ListingEvent.objects.create(
            listing=locked, from_status=locked.status, to_status=to, actor=actor, note=note
        )
        locked.status = to
        locked.save(update_fields=fields)
    for field in ("status", "published_at", "sold_at", "updated_at"):
        setattr(listing, field, getattr(locked, field))
    return listing
