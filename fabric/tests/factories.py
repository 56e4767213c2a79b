"""Listings for FABRIC's tests, written straight to the tables (the listing API is tested
on its own)."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.utils import timezone

from accounts.tests.factories import OrganizationFactory, WalletFactory
from fabric.models import Listing, ListingStatus, NDASignature, Visibility
from fabric.selectors import nda_version_hash


class ListingFactory(factory.django.DjangoModelFactory):
    """A published NDA-gated listing on Base."""

    class Meta:
        model = Listing

    organization = factory.SubFactory(OrganizationFactory)
    title = factory.Sequence(lambda n: f"Project {n}")
    description = "A DeFi protocol with steady fees."
    asking_price_usd = Decimal("250000.00")
    blockchain = "eip155:8453"
    status = ListingStatus.PUBLISHED
    visibility = Visibility.NDA
    published_at = factory.LazyFunction(timezone.now)


class NDASignatureFactory(factory.django.DjangoModelFactory):
    """A stored signature of the listing's current NDA by `wallet` (an accounts Wallet),
    as `fabric.services.nda.nda_sign` leaves it; the text and signature are placeholders
    (the NDA tests sign real ones)."""

    class Meta:
        model = NDASignature
        exclude = ["wallet"]

    listing = factory.SubFactory(ListingFactory)
    wallet = factory.SubFactory(WalletFactory)
    user = factory.SelfAttribute("wallet.user")
    namespace = factory.SelfAttribute("wallet.namespace")
    buyer_wallet = factory.SelfAttribute("wallet.address")
    nda_version = factory.SelfAttribute("listing.nda_version")
    nda_version_hash = factory.LazyAttribute(lambda o: nda_version_hash(o.listing))
    message = "the NDA text as signed"
    signature = "0x00"
    scheme = "personal_sign"
