"""Listings for FABRIC's tests, written straight to the tables (the listing API is tested
on its own)."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.utils import timezone

from accounts.tests.factories import OrganizationFactory
from fabric.models import Listing, ListingStatus, Visibility


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
