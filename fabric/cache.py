"""What FABRIC's cached reads depend on, and the writes that retire them
(fabrknt/readcache.py; README, "Read cache").

- `fabric:market`: the marketplace list (`GET /api/v1/listings`): every listing's row and
  its organization's deletion.
- `fabric:listing:<id>`: one listing's detail and suite summary: its row, its assets, its
  revenue records, its data-room documents and its images.

Model saves and deletes bump them through the receivers below; the queryset updates of
the services (scores, revenue, review notes, featuring, deleted documents, deleted
organizations) call `listing_changed` themselves, since no signal tells of them.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models.signals import post_delete, post_save

from fabrknt.readcache import changed

MARKET = "fabric:market"


def listing_scope(listing_id: object) -> str:
    return f"fabric:listing:{listing_id}"


def listing_changed(listing_id: object) -> None:
    """A listing (or something its detail shows) changed: its detail, its summary and the
    marketplace list."""
    changed(MARKET, listing_scope(listing_id))


def organization_listings_changed(organization_id: uuid.UUID) -> None:
    """An organization was deleted (or restored): its listings leave the market and their
    pages answer 404."""
    from fabric.models import Listing

    ids = Listing.objects.filter(organization_id=organization_id).values_list("pk", flat=True)
    changed(MARKET, *(listing_scope(pk) for pk in ids))


def _listing_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    listing_changed(instance.pk)


def _part_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    changed(listing_scope(instance.listing_id))


def connect() -> None:
    """Called by FabricConfig.ready()."""
    from fabric.models import DataRoomDocument, Listing, ListingAsset, ListingMedia, RevenueRecord

    for event, signal in (("save", post_save), ("delete", post_delete)):
        signal.connect(_listing_saved, sender=Listing, dispatch_uid=f"readcache-listing-{event}")
        for model in (ListingAsset, RevenueRecord, DataRoomDocument, ListingMedia):
            signal.connect(
                _part_saved, sender=model, dispatch_uid=f"readcache-{model.__name__}-{event}"
            )
