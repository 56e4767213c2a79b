"""FABRIC's factories: listings and what hangs off them (assets, NDA signatures, offers,
revenue records, data-room documents), written straight to the tables (the APIs that
create them are tested on their own)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone
from eth_account import Account

from accounts.tests.factories import OrganizationFactory, WalletFactory
from fabric.models import (
    BuyerAccess,
    DataRoomDocument,
    Listing,
    ListingAsset,
    ListingStatus,
    NDASignature,
    Offer,
    RevenueRecord,
    RevenueSource,
    Visibility,
)
from fabric.selectors import nda_version_hash


class ListingFactory(factory.django.DjangoModelFactory):
    """A published NDA-gated listing on Base (pass `visibility` for a public or private
    one)."""

    class Meta:
        model = Listing

    organization = factory.SubFactory(OrganizationFactory)
    title = factory.Sequence(lambda n: f"Project {n}")
    description = "A DeFi protocol on Base with steady fees."
    asking_price_usd = Decimal("250000.00")
    blockchain = "eip155:8453"
    status = ListingStatus.PUBLISHED
    visibility = Visibility.NDA
    published_at = factory.LazyFunction(timezone.now)


class ListingAssetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ListingAsset

    listing = factory.SubFactory(ListingFactory)
    asset_type = "domain"
    asset_identifier = factory.Sequence(lambda n: f"project{n}.xyz")


class NDASignatureFactory(factory.django.DjangoModelFactory):
    """A stored signature of the listing's current NDA by `wallet` (an accounts Wallet:
    the row's user, namespace and address are the wallet's), as
    `fabric.services.nda.nda_sign` leaves it. The text and signature are placeholders
    unless given (the NDA tests sign real ones; visibility reads the row)."""

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
    message = factory.LazyAttribute(lambda o: f"NDA for {o.listing.pk} by {o.buyer_wallet}")
    signature = "0x" + "11" * 65
    scheme = "personal_sign"


class BuyerAccessFactory(factory.django.DjangoModelFactory):
    """A wallet's access row on a listing (`invited=True` or `revoked=True` stamps it now)."""

    class Meta:
        model = BuyerAccess

    class Params:
        invited = factory.Trait(invited_at=factory.LazyFunction(timezone.now))
        revoked = factory.Trait(revoked_at=factory.LazyFunction(timezone.now))

    listing = factory.SubFactory(ListingFactory)
    namespace = "eip155"
    wallet_address = factory.LazyFunction(lambda: Account.create().address)


class OfferFactory(factory.django.DjangoModelFactory):
    """An open offer on the listing by `wallet`'s user, from that wallet."""

    class Meta:
        model = Offer
        exclude = ["wallet"]

    listing = factory.SubFactory(ListingFactory)
    wallet = factory.SubFactory(WalletFactory)
    buyer = factory.SelfAttribute("wallet.user")
    buyer_wallet = factory.SelfAttribute("wallet.address")
    amount_usd = Decimal("200000.00")


class RevenueRecordFactory(factory.django.DjangoModelFactory):
    """Thirty days of on-chain revenue up to today's midnight, with its evidence."""

    class Meta:
        model = RevenueRecord

    listing = factory.SubFactory(ListingFactory)
    source = RevenueSource.ONCHAIN
    window_days = 30
    period_end = factory.LazyFunction(
        lambda: timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    )
    period_start = factory.LazyAttribute(lambda o: o.period_end - dt.timedelta(days=o.window_days))
    fees_usd = Decimal("12000.00")
    revenue_usd = Decimal("10000.00")
    evidence = factory.LazyFunction(lambda: {"transactions": ["0x" + "ab" * 32]})


class DataRoomDocumentFactory(factory.django.DjangoModelFactory):
    """A document row with only its stored name: for tests that list documents, never
    open them."""

    class Meta:
        model = DataRoomDocument

    listing = factory.SubFactory(ListingFactory)
    title = factory.Sequence(lambda n: f"Financials {n}")
    file = factory.LazyAttribute(lambda o: f"dataroom/{o.listing.pk}/financials.pdf")
    content_type = "application/pdf"
    size = 13
    sha256 = "0" * 64
