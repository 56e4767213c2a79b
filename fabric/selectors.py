"""Who sees what of a listing: API.md's visibility rules, in one place.

Every FABRIC read — the API, the pages, the data room's links, offers, messages and the
escrow — asks `listing_view` and reads its answer; nothing else decides visibility.

- The seller's members (any role; keys of the seller's organization with `read` or
  `write`) see everything of their listings, in any status.
- Others see only listings that are live (published, under offer) or sold:
  - `public`: the teaser, the suite summary and the assets; the data room and the revenue
    detail after the NDA;
  - `nda`: the teaser and the suite summary; the assets, the revenue detail and the data
    room after the NDA;
  - `private`: nothing (404) unless one of the caller's wallets was invited; an invited
    wallet sees what `nda` shows.
- "After the NDA": the caller signed the listing's current NDA version with one of its own
  wallets, and the seller has not revoked that wallet.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet

from accounts.models import User, Wallet
from accounts.selectors import READ, WRITE, Access, CallerAccess, user_wallets
from fabric.models import (
    BuyerAccess,
    DataRoomDocument,
    EscrowTransaction,
    Listing,
    ListingMedia,
    ListingStatus,
    NDASignature,
    RevenueRecord,
    Visibility,
)
from fabrknt.api.errors import NotFound, PermissionDenied

# Listings a buyer can find in the marketplace.
MARKET_STATUSES = (ListingStatus.PUBLISHED, ListingStatus.UNDER_OFFER)
# Listings a non-member may open (a sold listing stays readable to those who could).
VISIBLE_STATUSES = (*MARKET_STATUSES, ListingStatus.SOLD)

DEFAULT_NDA_TEXT = (
    "The undersigned buyer agrees to keep confidential all non-public information about "
    "the project disclosed through this listing, including its data room, revenue detail "
    "and messages with the seller; to use it only to evaluate the acquisition of the "
    "project; not to contact the project's users, contributors or partners about the sale "
    "without the seller's consent; and to destroy it on the seller's request if no "
    "transaction is completed."
)


def nda_text(listing: Listing) -> str:
    """The NDA the buyer signs for this listing: the seller's own text, or the default."""
    return listing.nda_text.strip() or DEFAULT_NDA_TEXT


def nda_version_hash(listing: Listing) -> str:
    """The NDA version's identity: sha256 over the listing, its version number and text.
    A new version (a new text) needs a new signature."""
    material = f"{listing.pk}\n{listing.nda_version}\n{nda_text(listing)}"
    return "0x" + hashlib.sha256(material.encode()).hexdigest()


@dataclass(frozen=True)
class ListingView:
    """What one caller may see and do of one listing."""

    listing: Listing
    is_seller: bool  # a member (or key) of the seller's organization
    seller_can_write: bool  # ... with write access (edit, publish, answer offers)
    nda_signed: bool  # the caller's own wallet signed the current NDA, not revoked
    invited: bool  # one of the caller's wallets is invited (private listings)

    @property
    def sees_assets(self) -> bool:
        return self.is_seller or self.nda_signed or self.listing.visibility == Visibility.PUBLIC

    @property
    def sees_gated(self) -> bool:
        """The data room, the revenue detail, offers and messages."""
        return self.is_seller or self.nda_signed


def buyer_wallets(user: User | None) -> list[Wallet]:
    """The wallets a user proved (signed in with, or linked)."""
    return [] if user is None else list(user_wallets(user=user))


def _wallet_filter(wallets: list[Wallet], *, address_field: str = "wallet_address") -> Q:
    q = Q(pk__in=[])
    for wallet in wallets:
        q |= Q(namespace=wallet.namespace, **{address_field: wallet.address})
    return q


def _standing(listing: Listing, user: User | None) -> tuple[list[str], bool]:
    """The caller's wallets that signed the listing's current NDA and are not revoked, and
    whether one of its wallets is invited and not revoked: its wallets, their access rows
    and their signatures, each read once."""
    wallets = buyer_wallets(user)
    if not wallets:
        return [], False
    access = list(BuyerAccess.objects.filter(_wallet_filter(wallets), listing=listing))
    revoked = {(row.namespace, row.wallet_address) for row in access if row.revoked_at}
    invited = any(row.invited_at and not row.revoked_at for row in access)
    signatures = NDASignature.objects.filter(
        _wallet_filter(wallets, address_field="buyer_wallet"),
        listing=listing,
        user=user,
        nda_version_hash=nda_version_hash(listing),
    ).values_list("namespace", "buyer_wallet")
    signed = [address for namespace, address in signatures if (namespace, address) not in revoked]
    return signed, invited


def signed_wallets(listing: Listing, user: User | None) -> list[str]:
    """The caller's wallets that signed the listing's current NDA and are not revoked."""
    return _standing(listing, user)[0]


def listing_view(*, listing_id: object, access: CallerAccess) -> ListingView:
    """One listing as `access`'s caller may see it; NotFound when it may not see it at all."""
    listing = _live_listing(listing_id)
    # A `write`-only key acts for the seller too (API.md's "member (write)").
    can_write = access.allows(listing.organization_id, WRITE)
    if can_write or access.allows(listing.organization_id, READ):
        return ListingView(
            listing=listing,
            is_seller=True,
            seller_can_write=can_write,
            nda_signed=False,
            invited=False,
        )
    if listing.status not in VISIBLE_STATUSES:
        raise NotFound()
    signed, invited = _standing(listing, access.user)
    if listing.visibility == Visibility.PRIVATE and not invited:
        raise NotFound()
    return ListingView(
        listing=listing,
        is_seller=False,
        seller_can_write=False,
        nda_signed=bool(signed),
        invited=invited,
    )


def _live_listing(listing_id: object) -> Listing:
    """The listing of a live organization, whoever asks (NotFound when there is none)."""
    pk = _uuid_or_none(listing_id)
    listing = (
        None if pk is None else Listing.objects.select_related("organization").filter(pk=pk).first()
    )
    if listing is None or listing.organization.deleted_at is not None:
        raise NotFound()
    return listing


def seller_listing(*, listing_id: object, access: CallerAccess, kind: Access = WRITE) -> Listing:
    """A listing the caller may change (or, with `kind` READ, read) as the seller: NotFound
    to other organizations (even for a public listing), PermissionDenied to the seller's
    members and keys that lack `kind` (viewers and `read` keys, for a change)."""
    listing = _live_listing(listing_id)
    if not access.allows(listing.organization_id, kind):
        raise access.denial(listing.organization_id, kind)  # 404 even for a public listing
    return listing


def gated_listing(*, listing_id: object, access: CallerAccess) -> ListingView:
    """A listing whose gated part (data room, revenue detail, offers, messages) the caller
    may use: the seller's members or an NDA signer; others who can see it get 403, those who
    cannot, 404."""
    view = listing_view(listing_id=listing_id, access=access)
    if not view.sees_gated:
        raise PermissionDenied("Sign this listing's NDA first.")
    return view


def market_listings() -> QuerySet[Listing]:
    """The marketplace: live listings that are public or NDA-gated, of live organizations."""
    return Listing.objects.filter(
        status__in=MARKET_STATUSES,
        visibility__in=(Visibility.PUBLIC, Visibility.NDA),
        organization__deleted_at__isnull=True,
    )


def market_search(
    *,
    blockchain: str = "",
    min_price: Decimal | None = None,
    max_price: Decimal | None = None,
    min_score: Decimal | None = None,
) -> QuerySet[Listing]:
    """The marketplace with its filters (`GET /api/v1/listings`, the /fabric/ grid):
    featured first, then the newest; a listing not scored yet never meets `min_score`."""
    listings = market_listings()
    if blockchain:
        listings = listings.filter(blockchain=blockchain)
    if min_price is not None:
        listings = listings.filter(asking_price_usd__gte=min_price)
    if max_price is not None:
        listings = listings.filter(asking_price_usd__lte=max_price)
    if min_score is not None:
        listings = listings.filter(fabrknt_score__gte=min_score)
    return listings.order_by("-featured", "-published_at", "-created_at")


def data_room_documents(listing: Listing) -> QuerySet[DataRoomDocument]:
    """The listing's data room: its documents not deleted, oldest first."""
    return DataRoomDocument.objects.filter(listing=listing, deleted_at__isnull=True).select_related(
        "uploaded_by"
    )


def data_room_document(
    *, document_id: object, access: CallerAccess
) -> tuple[DataRoomDocument, ListingView]:
    """A data-room document the caller may download, and how the caller sees its listing
    (`gated_listing`'s rules: 404 when the listing is not visible to it, 403 before the
    NDA or once revoked)."""
    pk = _uuid_or_none(document_id)
    document = (
        None
        if pk is None
        else DataRoomDocument.objects.filter(pk=pk, deleted_at__isnull=True).first()
    )
    if document is None:
        raise NotFound()
    view = gated_listing(listing_id=document.listing_id, access=access)
    document.listing = view.listing
    return document, view


def seller_document(
    *, listing_id: object, document_id: object, access: CallerAccess
) -> DataRoomDocument:
    """A document of a listing the caller may change as the seller (`seller_listing`)."""
    listing = seller_listing(listing_id=listing_id, access=access)
    pk = _uuid_or_none(document_id)
    document = None if pk is None else data_room_documents(listing).filter(pk=pk).first()
    if document is None:
        raise NotFound()
    return document


def listing_images(listing: Listing) -> QuerySet[ListingMedia]:
    """The listing's logo and screenshots, in their order."""
    return ListingMedia.objects.filter(listing=listing)


def visible_image(*, media_id: object, access: CallerAccess) -> tuple[ListingMedia, ListingView]:
    """An image of a listing the caller may see (the teaser's part: `listing_view`)."""
    pk = _uuid_or_none(media_id)
    media = None if pk is None else ListingMedia.objects.filter(pk=pk).first()
    if media is None:
        raise NotFound()
    view = listing_view(listing_id=media.listing_id, access=access)
    media.listing = view.listing
    return media, view


def seller_image(*, listing_id: object, media_id: object, access: CallerAccess) -> ListingMedia:
    """An image of a listing the caller may change as the seller (`seller_listing`)."""
    listing = seller_listing(listing_id=listing_id, access=access)
    pk = _uuid_or_none(media_id)
    media = None if pk is None else listing_images(listing).filter(pk=pk).first()
    if media is None:
        raise NotFound()
    return media


def _uuid_or_none(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


REVENUE_RECORDS_SHOWN = 24


def listing_revenue_records(listing: Listing) -> list[RevenueRecord]:
    """The listing's newest revenue records (newest period first, then source and window)."""
    return list(
        RevenueRecord.objects.filter(listing=listing).order_by(
            "-period_end", "source", "window_days"
        )[:REVENUE_RECORDS_SHOWN]
    )


@dataclass(frozen=True)
class BuyerStanding:
    """A wallet as the seller sees it on the access page: its NDA signature (of the
    current version or an older one), its invitation and its revocation."""

    namespace: str
    wallet_address: str
    signature: NDASignature | None
    signed_current: bool
    access: BuyerAccess | None

    @property
    def revoked(self) -> bool:
        return self.access is not None and self.access.revoked_at is not None

    @property
    def invited(self) -> bool:
        return self.access is not None and self.access.invited_at is not None


def listing_buyers(listing: Listing) -> list[BuyerStanding]:
    """Every wallet that signed the listing's NDA or that the seller invited or revoked,
    newest first; a wallet's latest signature stands for it."""
    current = nda_version_hash(listing)
    signatures: dict[tuple[str, str], NDASignature] = {}
    for row in NDASignature.objects.filter(listing=listing).order_by("-signed_at"):
        signatures.setdefault((row.namespace, row.buyer_wallet), row)
    access = {
        (row.namespace, row.wallet_address): row
        for row in BuyerAccess.objects.filter(listing=listing).order_by("-created_at")
    }
    standings = []
    for key in dict.fromkeys([*signatures, *access]):
        signature = signatures.get(key)
        standings.append(
            BuyerStanding(
                namespace=key[0],
                wallet_address=key[1],
                signature=signature,
                signed_current=signature is not None and signature.nda_version_hash == current,
                access=access.get(key),
            )
        )
    return standings


def escrow_deal(*, escrow_id: object, access: CallerAccess) -> EscrowTransaction:
    """An escrow deal for its parties: the buyer who opened it, and the seller's members
    (and its keys with `read`). Anyone else gets NotFound, as for another organization's
    object."""
    pk = _uuid_or_none(escrow_id)
    escrow = (
        None
        if pk is None
        else EscrowTransaction.objects.select_related("listing__organization", "offer")
        .filter(pk=pk, listing__organization__deleted_at__isnull=True)
        .first()
    )
    if escrow is None:
        raise NotFound()
    is_buyer = access.user is not None and escrow.buyer_id == access.user.pk
    if not is_buyer and not access.allows(escrow.listing.organization_id, READ):
        raise access.denial(escrow.listing.organization_id, READ)
    return escrow
