"""The world of the offers and messages tests: a seller organization with a published
listing, and buyers whose NDA signatures are made by the factories (the signing itself
is the NDA's tests' business)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from accounts.models import NotificationSettings, Organization, Role, User, Wallet
from accounts.tests.factories import MembershipFactory, OrganizationFactory, WalletFactory
from fabric.models import Listing, Message, OfferStep
from fabric.tests.factories import ListingFactory, NDASignatureFactory, OfferFactory


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
    listing = ListingFactory(
        organization=organization, title="Moonbase DEX", created_by=seller, **listing_fields
    )
    buyer_wallet, other_wallet = WalletFactory(), WalletFactory()
    NDASignatureFactory(listing=listing, wallet=buyer_wallet)
    NDASignatureFactory(listing=listing, wallet=other_wallet)
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
    listing = ListingFactory(
        organization=organization, title="Phone listing with a rather long name"
    )
    wallet = WalletFactory()
    NDASignatureFactory(listing=listing, wallet=wallet)
    offer = OfferFactory(
        listing=listing,
        wallet=wallet,
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
        ("fabric-offer-decline", f"/fabric/offers/{offer.pk}/decline", True),
        ("fabric-offer-counter", f"/fabric/offers/{offer.pk}/counter", True),
        ("fabric-listing-messages", messages, True),
        ("fabric-listing-thread", f"{messages}?buyer={wallet.user.pk}", True),
    ]
