"""Reads of offers and message threads: a listing's offers for its page and API, and a
user's inbox (their offers and threads as a buyer and as a seller's member). Which
listing a caller may open is `fabric.selectors`' business; these read within it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.selectors import READ, CallerAccess
from fabric.models import Listing, Message, Offer, OfferStep, Party
from fabric.selectors import ListingView

INBOX_ROWS = 50
ACTIVITY_DAYS = 30
ACTIVITY_ROWS = 30


def listing_offers(*, view: ListingView, access: CallerAccess) -> QuerySet[Offer]:
    """The listing's offers the caller may read: all for the seller's members, their own
    for a buyer. Newest first."""
    offers = Offer.objects.filter(listing=view.listing).select_related("listing", "buyer")
    if not view.is_seller:
        offers = offers.filter(buyer=access.user if isinstance(access.user, User) else None)
    return offers.order_by("-created_at", "-id")


def listing_buyers(*, listing: Listing) -> QuerySet[User]:
    """Who signed this listing's NDA (any version): the buyers a seller may write to."""
    return User.objects.filter(fabric_ndas__listing=listing).distinct().order_by("username")


@dataclass(frozen=True)
class Thread:
    listing: Listing
    buyer: User
    last_at: dt.datetime
    messages: int
    unread: int  # messages from the other side not yet read by this side


def _threads(messages: QuerySet[Message], unread_from: str) -> list[Thread]:
    rows = list(
        messages.values("listing_id", "buyer_id")
        .annotate(
            last_at=Max("created_at"),
            messages=Count("id"),
            unread=Count("id", filter=Q(sender_party=unread_from, read_at__isnull=True)),
        )
        .order_by("-last_at")[:INBOX_ROWS]
    )
    listings = Listing.objects.in_bulk({row["listing_id"] for row in rows})
    buyers = User.objects.in_bulk({row["buyer_id"] for row in rows})
    return [
        Thread(
            listing=listings[row["listing_id"]],
            buyer=buyers[row["buyer_id"]],
            last_at=row["last_at"],
            messages=row["messages"],
            unread=row["unread"],
        )
        for row in rows
    ]


def _of_seller(access: CallerAccess, listing: str = "listing") -> Q:
    """Rows whose listing (reached through `listing`) belongs to the caller's live
    organizations."""
    return Q(
        **{
            f"{listing}__organization__in": access.organization_ids(READ),
            f"{listing}__organization__deleted_at__isnull": True,
        }
    )


@dataclass(frozen=True)
class Inbox:
    buyer_offers: list[Offer]
    seller_offers: list[Offer]
    buyer_threads: list[Thread]
    seller_threads: list[Thread]
    activity: list[OfferStep]  # others' steps on the user's offers, latest first


def inbox(*, user: User, access: CallerAccess) -> Inbox:
    """A user's offers and threads as a buyer and as a member of selling organizations,
    and the latest steps others took on them."""
    as_seller = _of_seller(access)
    offers = Offer.objects.select_related("listing", "buyer").order_by("-updated_at", "-id")
    since = timezone.now() - dt.timedelta(days=ACTIVITY_DAYS)
    activity = (
        OfferStep.objects.filter(
            Q(offer__buyer=user) | _of_seller(access, "offer__listing"),
            created_at__gte=since,
        )
        .exclude(actor=user)
        .select_related("offer__listing")
        .order_by("-created_at", "-id")[:ACTIVITY_ROWS]
    )
    return Inbox(
        buyer_offers=list(offers.filter(buyer=user)[:INBOX_ROWS]),
        seller_offers=list(offers.filter(as_seller)[:INBOX_ROWS]),
        buyer_threads=_threads(Message.objects.filter(buyer=user), Party.SELLER),
        seller_threads=_threads(Message.objects.filter(as_seller), Party.BUYER),
        activity=list(activity),
    )
