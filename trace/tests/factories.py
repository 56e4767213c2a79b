from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone
from eth_account import Account

from accounts.tests.factories import OrganizationFactory
from trace.models import (
    NATIVE_ASSET,
    ActivityMetric,
    Asset,
    AssetPrice,
    Campaign,
    Click,
    ContractInteraction,
    ContractVerification,
    Conversion,
    InteractionSource,
    LandingDomain,
    PriceSource,
    Project,
    WalletLink,
)
from trace.services.ingest import log_position, trace_position
from trace.services.rollups import (
    campaign_days_clicks_recount,
    campaign_days_conversions_refresh,
    click_wallet_cells,
    conversion_cells,
    utc_day,
)


def evm_address() -> str:
    return Account.create().address


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Project {n}")
    chain = "eip155:8453"
    contract_addresses = factory.LazyFunction(lambda: [evm_address()])


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    project = factory.SubFactory(ProjectFactory)
    organization = factory.SelfAttribute("project.organization")
    name = factory.Sequence(lambda n: f"Campaign {n}")
    landing_url = "https://app.example.com/"
    target_contract = factory.LazyAttribute(lambda c: c.project.contract_addresses[0])
    budget_usd = Decimal("1000.00")


class ClickFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Click

    click_id = factory.Sequence(lambda n: f"click-{n:08d}")
    campaign = factory.SubFactory(CampaignFactory)
    organization = factory.SelfAttribute("campaign.organization")
    occurred_at = factory.LazyFunction(timezone.now)
    ip_address = "203.0.113.0"
    user_agent = "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # A row written directly, as the demo seed does: its day's rollup is recounted.
        click = super()._create(model_class, *args, **kwargs)
        campaign_days_clicks_recount({(click.campaign_id, utc_day(click.occurred_at))})
        return click


class WalletLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WalletLink

    click = factory.SubFactory(ClickFactory)
    campaign = factory.SelfAttribute("click.campaign")
    wallet_address = factory.LazyFunction(evm_address)
    identified_at = factory.LazyFunction(timezone.now)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        link = super()._create(model_class, *args, **kwargs)
        campaign_days_conversions_refresh(
            click_wallet_cells(click_id=link.click_id, wallet_address=link.wallet_address)
        )
        return link


class ConversionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversion

    click = factory.SubFactory(ClickFactory)
    campaign = factory.SelfAttribute("click.campaign")
    organization = factory.SelfAttribute("campaign.organization")
    wallet_address = factory.LazyFunction(evm_address)
    transaction_hash = factory.Sequence(lambda n: f"0x{n:064x}")
    value_usd = Decimal("100.00")
    occurred_at = factory.LazyFunction(timezone.now)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        conversion = super()._create(model_class, *args, **kwargs)
        campaign_days_conversions_refresh(conversion_cells([conversion.pk]))
        return conversion


class ContractInteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContractInteraction

    project = factory.SubFactory(ProjectFactory)
    chain = factory.SelfAttribute("project.chain")
    transaction_hash = factory.Sequence(lambda n: f"0x{n + 10**6:064x}")
    log_index = -1
    transfer_position = factory.LazyAttribute(
        lambda i: log_position(i.log_index) if i.log_index >= 0 else trace_position("external")
    )
    block_number = factory.Sequence(lambda n: 1000 + n)
    wallet_address = factory.LazyFunction(evm_address)
    contract_address = factory.LazyAttribute(lambda i: i.project.contract_addresses[0])
    occurred_at = factory.LazyFunction(timezone.now)
    source = InteractionSource.INDEXER


class ActivityMetricFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActivityMetric

    project = factory.SubFactory(ProjectFactory)
    date = factory.LazyFunction(lambda: timezone.now().date() - dt.timedelta(days=1))


class AssetFactory(factory.django.DjangoModelFactory):
    """A registry row; the seed migration's rows are found, not duplicated."""

    class Meta:
        model = Asset
        django_get_or_create = ("chain", "address")

    chain = "eip155:1"
    address = NATIVE_ASSET
    symbol = "ETH"
    decimals = 18
    price_source = "ethereum"


class AssetPriceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AssetPrice

    asset = factory.SubFactory(AssetFactory)
    day = factory.LazyFunction(lambda: timezone.now().date())
    price_usd = Decimal("3000.00")
    source = PriceSource.ADMIN
    fetched_at = factory.LazyFunction(timezone.now)


def asset_price(chain: str, address: str, day: dt.date, price: str, **asset) -> AssetPrice:
    """A price for (chain, address), registering the asset when the seed did not."""
    return AssetPriceFactory(
        asset=AssetFactory(chain=chain, address=address, **asset),
        day=day,
        price_usd=Decimal(price),
    )


class LandingDomainFactory(factory.django.DjangoModelFactory):
    """A landing domain; verified unless `verified_at=None` is given."""

    class Meta:
        model = LandingDomain

    organization = factory.SubFactory(OrganizationFactory)
    domain = "example.com"
    verified_at = factory.LazyFunction(timezone.now)
    last_checked_at = factory.LazyAttribute(lambda d: d.verified_at)


class ContractVerificationFactory(factory.django.DjangoModelFactory):
    """A stored proof of control (the signature flow has its own tests)."""

    class Meta:
        model = ContractVerification

    project = factory.SubFactory(ProjectFactory)
    chain = factory.SelfAttribute("project.chain")
    contract_address = factory.LazyAttribute(lambda v: v.project.contract_addresses[0])
    method = "owner"
    signer = factory.LazyFunction(evm_address)
    message = "signed message"
    signature = "0x" + "11" * 65
    verified_at = factory.LazyFunction(timezone.now)
