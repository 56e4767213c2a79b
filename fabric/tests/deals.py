"""The world of the offers and messages tests: a seller organization with a published
listing, and buyers whose NDA signatures are stored through the ORM (the signing itself
is the NDA's tests' business)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from accounts.models import NotificationSettings, Organization, Role, User, Wallet
from accounts.tests.factories import MembershipFactory, OrganizationFactory, WalletFactory
from fabric.models import (
    Listing,
    ListingStatus,
    Message,
    NDASignature,
    Offer,
    OfferStep,
    Visibility,
)
from fabric.selectors import nda_version_hash


@dataclass
class Deal:
    organization: Organization
    listing: Listing
    seller: User  # owner of the selling organization
    seller_viewer: User
    buyer: User
    buyer_wallet: Wallet
    other_buyer: User
    other_wallet: Wallet
    stranger: User  # signed nothing


def listing_make(organization: Organization, **fields: object) -> Listing:
    values: dict[str, object] = {
        "title": "Moonbase DEX",
        "description": "A DEX on Base with 4k monthly users.",
        "asking_price_usd": Decimal("250000.00"),
        "blockchain": "eip155:8453",
        "status": ListingStatus.PUBLISHED,
        "visibility": Visibility.NDA,
        "published_at": timezone.now(),
        **fields,
    }
    return Listing.objects.create(organization=organization, **values)


def nda_sign(listing: Listing, wallet: Wallet) -> NDASignature:
    return NDASignature.objects.create(
        listing=listing,
        user=wallet.user,
        namespace=wallet.namespace,
        buyer_wallet=wallet.address,
        nda_version=listing.nda_version,
        nda_version_hash=nda_version_hash(listing),
        message=f"NDA for {listing.pk}",
        signature="0x" + "ab" * 65,
        scheme="personal_sign",
    )


def email_verified(user: User, email: str, **wanted: bool) -> None:
    NotificationSettings.objects.update_or_create(
        user=user,
        defaults={"email": email, "email_verified_at": timezone.now(), **wanted},
    )


def deal_world(**listing_fields: object) -> Deal:
    organization = OrganizationFactory(name="Moonbase Labs")
    seller = WalletFactory().user
    MembershipFactory(organization=organization, user=seller, role=Role.OWNER)
    viewer = WalletFactory().user
    MembershipFactory(organization=organization, user=viewer, role=Role.VIEWER)
    listing = listing_make(organization, created_by=seller, **listing_fields)
    buyer_wallet, other_wallet = WalletFactory(), WalletFactory()
    nda_sign(listing, buyer_wallet)
    nda_sign(listing, other_wallet)
    return Deal(
        organization=organization,
        listing=listing,
        seller=seller,
        seller_viewer=viewer,
        buyer=buyer_wallet.user,
        buyer_wallet=buyer_wallet,
        other_buyer=other_wallet.user,
        other_wallet=other_wallet,
        stranger=WalletFactory().user,
    )


def deal_pages(organization: Organization) -> list[tuple[str, str, bool]]:
    """The offers, messages and inbox pages as a member of the selling `organization` sees
    them, for the every-page test: a listing with an open offer and a thread."""
    listing = listing_make(organization, title="Phone listing with a rather long name")
    wallet = WalletFactory()
    nda_sign(listing, wallet)
    offer = Offer.objects.create(
        listing=listing,
        buyer=wallet.user,
        buyer_wallet=wallet.address,
        amount_usd=Decimal("125000.00"),
        terms="Both founders stay three months for the handover.",
    )
    OfferStep.objects.create(
        offer=offer, action="made", party="buyer", actor=wallet.user, amount_usd=offer.amount_usd
    )
    Message.objects.create(
        listing=listing, buyer=wallet.user, sender=wallet.user, sender_party="buyer", body="Hi!"
    )
    offers, messages = (
        f"/fabric/listings/{listing.pk}/offers/",
        f"/fabric/listings/{listing.pk}/messages/",
    )
    return [
        ("fabric-inbox", "/fabric/inbox/", True),
        ("fabric-listing-offers", offers, True),
        ("fabric-offer", f"/fabric/offers/{offer.pk}/", True),
        ("fabric-offer-accept", f"/fabric/offers/{offer.pk}/accept", True),
        ("fabric-offer-counter", f"/fabric/offers/{offer.pk}/counter", True),
        ("fabric-listing-messages", messages, True),
        ("fabric-listing-thread", f"{messages}?buyer={wallet.user.pk}", True),
    ]
