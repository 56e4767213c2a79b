"""Who sees what of a listing: API.md's visibility rules, in one place.

Every FABRIC read — the API, the pages, the data room's links, offers, messages and the
escrow — asks `listing_view` and reads its answer; nothing else decides visibility.

- The seller's members (any role; keys of the seller's organization with `read`) see
  everything of their listings, in any status.
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

from django.db.models import Q, QuerySet

from accounts.models import User, Wallet
from accounts.selectors import READ, WRITE, CallerAccess, user_wallets
from fabric.models import (
    BuyerAccess,
    EscrowTransaction,
    Listing,
    ListingStatus,
    NDASignature,
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


def _revoked(listing: Listing, wallets: list[Wallet]) -> set[tuple[str, str]]:
    rows = BuyerAccess.objects.filter(_wallet_filter(wallets), listing=listing)
    return {(r.namespace, r.wallet_address) for r in rows if r.revoked_at is not None}


def signed_wallets(listing: Listing, user: User | None) -> list[str]:
    """The caller's wallets that signed the listing's current NDA and are not revoked."""
    wallets = buyer_wallets(user)
    if not wallets:
        return []
    signatures = NDASignature.objects.filter(
        _wallet_filter(wallets, address_field="buyer_wallet"),
        listing=listing,
        user=user,
        nda_version_hash=nda_version_hash(listing),
    ).values_list("namespace", "buyer_wallet")
    revoked = _revoked(listing, wallets)
    return [address for namespace, address in signatures if (namespace, address) not in revoked]


def _invited(listing: Listing, user: User | None) -> bool:
    wallets = buyer_wallets(user)
    if not wallets:
        return False
    return BuyerAccess.objects.filter(
        _wallet_filter(wallets),
        listing=listing,
        invited_at__isnull=False,
        revoked_at__isnull=True,
    ).exists()


def listing_view(*, listing_id: object, access: CallerAccess) -> ListingView:
    """One listing as `access`'s caller may see it; NotFound when it may not see it at all."""
    pk = _uuid_or_none(listing_id)
    listing = (
        None if pk is None else Listing.objects.select_related("organization").filter(pk=pk).first()
    )
    if listing is None or listing.organization.deleted_at is not None:
        raise NotFound()
    if access.allows(listing.organization_id, READ):
        return ListingView(
            listing=listing,
            is_seller=True,
            seller_can_write=access.allows(listing.organization_id, WRITE),
            nda_signed=False,
            invited=False,
        )
    if listing.status not in VISIBLE_STATUSES:
        raise NotFound()
    user = access.user
    invited = _invited(listing, user)
    if listing.visibility == Visibility.PRIVATE and not invited:
        raise NotFound()
    return ListingView(
        listing=listing,
        is_seller=False,
        seller_can_write=False,
        nda_signed=bool(signed_wallets(listing, user)),
        invited=invited,
    )


def seller_listing(*, listing_id: object, access: CallerAccess) -> Listing:
    """A listing the caller may change as the seller: NotFound to other organizations (even
    for a public listing), PermissionDenied to the seller's viewers and `read` keys."""
    view = listing_view(listing_id=listing_id, access=access)
    if not view.is_seller:
        raise NotFound()  # another organization's listing, even a public one
    if not view.seller_can_write:
        raise PermissionDenied()
    return view.listing


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


def _uuid_or_none(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


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
        raise NotFound()
    return escrow
