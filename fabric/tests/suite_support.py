"""Listings and revenue records for the suite-score tests, written with the ORM (the
listing API has its own tests)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from accounts.tests.factories import OrganizationFactory
from fabric.models import Listing, ListingStatus, RevenueRecord, RevenueSource, Visibility


class ListingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Listing

    organization = factory.SubFactory(OrganizationFactory)
    title = factory.Sequence(lambda n: f"Listing {n}")
    asking_price_usd = Decimal("250000.00")
    blockchain = "eip155:8453"
    status = ListingStatus.PUBLISHED
    visibility = Visibility.PUBLIC
    published_at = factory.LazyFunction(timezone.now)


class RevenueRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RevenueRecord

    listing = factory.SubFactory(ListingFactory)
    source = RevenueSource.ONCHAIN
    window_days = 30
    period_end = factory.LazyFunction(
        lambda: timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    )
    period_start = factory.LazyAttribute(lambda r: r.period_end - dt.timedelta(days=30))
    fees_usd = Decimal("12000.00")
    revenue_usd = Decimal("10000.00")
    evidence = factory.LazyFunction(lambda: {"transactions": ["0x" + "ab" * 32]})
