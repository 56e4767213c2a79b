"""Factories for FABRIC listings and what hangs off them (assets, NDA signatures, buyer
access, revenue records, data-room documents)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from accounts.tests.factories import OrganizationFactory, UserFactory
from fabric.models import (
    DataRoomDocument,
    Listing,
    ListingAsset,
    ListingStatus,
    NDASignature,
    RevenueRecord,
    Visibility,
)
from fabric.selectors import nda_version_hash


class ListingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Listing

    organization = factory.SubFactory(OrganizationFactory)
    title = factory.Sequence(lambda n: f"Project {n} for sale")
    description = "A lending protocol on Base with 2,000 monthly users."
    asking_price_usd = Decimal("250000.00")
    blockchain = "eip155:8453"
    status = ListingStatus.PUBLISHED
    visibility = Visibility.PUBLIC
    published_at = factory.LazyFunction(timezone.now)


class ListingAssetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ListingAsset

    listing = factory.SubFactory(ListingFactory)
    asset_type = "domain"
    asset_identifier = factory.Sequence(lambda n: f"project{n}.xyz")


class NDASignatureFactory(factory.django.DjangoModelFactory):
    """A stored signature row (the NDA engineer's service verifies real ones; visibility
    reads the row)."""

    class Meta:
        model = NDASignature

    listing = factory.SubFactory(ListingFactory)
    user = factory.SubFactory(UserFactory)
    namespace = "eip155"
    buyer_wallet = ""
    nda_version = factory.LazyAttribute(lambda o: o.listing.nda_version)
    nda_version_hash = factory.LazyAttribute(lambda o: nda_version_hash(o.listing))
    message = "NDA"
    signature = "0x00"
    scheme = "personal_sign"


class RevenueRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RevenueRecord

    listing = factory.SubFactory(ListingFactory)
    source = "onchain"
    window_days = 30
    period_end = factory.LazyFunction(lambda: timezone.now().replace(microsecond=0))
    period_start = factory.LazyAttribute(lambda o: o.period_end - dt.timedelta(days=o.window_days))
    fees_usd = Decimal("12000.00")
    revenue_usd = Decimal("3000.00")


class DataRoomDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DataRoomDocument

    listing = factory.SubFactory(ListingFactory)
    title = factory.Sequence(lambda n: f"Financials {n}")
    # Only the stored name: these tests list documents, they never open them.
    file = factory.LazyAttribute(lambda o: f"dataroom/{o.listing.pk}/financials.pdf")
    content_type = "application/pdf"
    size = 13
    sha256 = "0" * 64
