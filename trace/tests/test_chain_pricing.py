"""USD values by asset identity: the registry's (chain, address) and its latest price on or
before the day; never a symbol."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fabrknt.api.errors import InvalidInput
from trace.models import NATIVE_ASSET, Asset, AssetPrice, PriceSource, price_is_stale
from trace.services.ingest import amount_storable
from trace.services.pricing import PriceBook, Valuation, amount_from_base_units, asset_price_set
from trace.tests.factories import AssetFactory, AssetPriceFactory, asset_price

pytestmark = pytest.mark.django_db

DAY = dt.date(2025, 3, 10)
MAINNET = "eip155:1"
USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"  # Circle's, seeded by the migration
FORGED_USDC = "0x59479De9d374bDbcBA6C791E5d036591976fE422"


@pytest.fixture(autouse=True)
def prices():
    asset_price(MAINNET, NATIVE_ASSET, dt.date(2025, 3, 1), "2150.12345678")
    asset_price(MAINNET, NATIVE_ASSET, dt.date(2025, 3, 9), "2201.50")
    asset_price(MAINNET, NATIVE_ASSET, dt.date(2025, 3, 11), "9999.00")
    asset_price(MAINNET, USDC, dt.date(2025, 3, 5), "0.9950")


def value(chain: str, address: str, amount: str, day: dt.date = DAY) -> Valuation:
    return PriceBook().valuation(chain=chain, address=address, amount=Decimal(amount), day=day)


def test_the_latest_price_on_or_before_the_day_prices_it():
    assert value(MAINNET, NATIVE_ASSET, "1.5") == Valuation(Decimal("3302.25"))
    assert value(MAINNET, NATIVE_ASSET, "1", dt.date(2025, 3, 8)) == Valuation(Decimal("2150.12"))
    # 0.000123 * 2150.12345678 = 0.26446518... -> 0.26; half a cent rounds up
    assert value(MAINNET, NATIVE_ASSET, "0.000123", dt.date(2025, 3, 2)).value_usd == Decimal(
        "0.26"
    )
    assert value(MAINNET, USDC, "293.092129") == Valuation(Decimal("291.63"))
    assert value(MAINNET, USDC, "0.005025126") == Valuation(Decimal("0.01"))


def test_before_any_price_the_transfer_is_unpriced():
    assert value(MAINNET, NATIVE_ASSET, "1", dt.date(2025, 2, 28)) == Valuation(
        Decimal("0.00"), "no_price"
    )
    # A registered stablecoin is not a dollar by name either: it needs a price.
    assert value(MAINNET, USDC, "10", dt.date(2025, 3, 4)) == Valuation(Decimal("0.00"), "no_price")


def test_a_token_that_calls_itself_usdc_is_an_unknown_asset():
    AssetFactory(chain="eip155:8453", address=FORGED_USDC, symbol="USDC", decimals=6)

    # The same address on another chain is another asset; on mainnet nobody registered it.
    assert value(MAINNET, FORGED_USDC, "1000000") == Valuation(Decimal("0.00"), "unknown_asset")


def test_the_same_coin_on_another_chain_has_its_own_prices():
    assert value("eip155:8453", NATIVE_ASSET, "1") == Valuation(Decimal("0.00"), "no_price")
    assert value("eip155:424242", NATIVE_ASSET, "1") == Valuation(Decimal("0.00"), "unknown_asset")


@pytest.mark.parametrize(
    "chain", ["eip155:11155111", "eip155:84532", "eip155:80002", "eip155:17000", "solana:devnet"]
)
def test_public_testnets_are_worth_nothing_even_when_registered(chain):
    asset_price(chain, NATIVE_ASSET, DAY, "3000.00")

    assert value(chain, NATIVE_ASSET, "1") == Valuation(Decimal("0.00"))
    assert value(chain, "0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238", "5") == Valuation(
        Decimal("0.00")
    )


@pytest.mark.parametrize("chain", ["eip155:1337", "eip155:31337"])
def test_development_chains_are_priced_as_eth_outside_production_only(chain, settings):
    settings.PRODUCTION = False
    assert value(chain, NATIVE_ASSET, "2") == Valuation(Decimal("4403.00"))
    assert value(chain, FORGED_USDC, "2") == Valuation(Decimal("0.00"), "unknown_asset")

    settings.PRODUCTION = True
    assert value(chain, NATIVE_ASSET, "2") == Valuation(Decimal("0.00"), "unknown_asset")


def test_a_disabled_asset_is_unpriced():
    Asset.objects.filter(chain=MAINNET, address=USDC).update(enabled=False)

    assert value(MAINNET, USDC, "5") == Valuation(Decimal("0.00"), "asset_disabled")


def test_nfts_are_unpriced_and_zero_amounts_are_worth_zero():
    assert value(MAINNET, "", "1") == Valuation(Decimal("0.00"), "not_fungible")
    assert value(MAINNET, NATIVE_ASSET, "0") == Valuation(Decimal("0.00"))
    assert value(MAINNET, FORGED_USDC, "0") == Valuation(Decimal("0.00"))


def test_a_value_above_the_transfer_cap_is_unpriced_not_zero(settings):
    settings.TRANSFER_VALUE_CAP_USD = 1_000_000
    assert value(MAINNET, USDC, "1005025.125") == Valuation(Decimal("1000000.00"))
    assert value(MAINNET, USDC, "1005025.13") == Valuation(Decimal("0.00"), "over_cap")
    assert value(MAINNET, USDC, str(2**256)) == Valuation(Decimal("0.00"), "over_cap")


def test_price_book_queries_once_per_asset_and_once_per_asset_and_day(
    django_assert_num_queries,
):
    book = PriceBook()
    with django_assert_num_queries(3):  # ETH: asset + price; the unknown token: asset
        for _ in range(5):
            assert book.valuation(
                chain=MAINNET, address=NATIVE_ASSET, amount=Decimal(2), day=DAY
            ) == Valuation(Decimal("4403.00"))
            assert book.valuation(
                chain=MAINNET, address=FORGED_USDC, amount=Decimal(2), day=DAY
            ) == Valuation(Decimal("0.00"), "unknown_asset")


def test_base_units_convert_exactly():
    assert amount_from_base_units(293092129, 6) == Decimal("293.092129")
    assert amount_from_base_units(2**256 - 1, 18) == Decimal(
        "115792089237316195423570985008687907853269984665640564039457.584007913129639935"
    )


def test_amounts_fit_the_column():
    assert amount_storable(Decimal(2**64).scaleb(-18)) == Decimal("18.446744073709551616")
    assert amount_storable(Decimal("1.1234567890123456789")) == Decimal("1.123456789012345678")
    assert amount_storable(Decimal(10) ** 22) == Decimal(0)
    assert amount_storable(Decimal(2**256 - 1)) == Decimal(0)


def test_an_operator_price_replaces_the_feed_price_of_the_day():
    eth = Asset.objects.get(chain=MAINNET, address=NATIVE_ASSET)
    AssetPriceFactory(asset=eth, day=DAY, price_usd=Decimal("1.00"), source=PriceSource.FEED)
    now = dt.datetime(2025, 3, 10, 9, tzinfo=dt.UTC)

    price = asset_price_set(asset=eth, day=DAY, price_usd=Decimal("2250.5"), now=now)

    assert (price.price_usd, price.source, price.fetched_at) == (
        Decimal("2250.5"),
        PriceSource.ADMIN,
        now,
    )
    assert AssetPrice.objects.filter(asset=eth, day=DAY).count() == 1


def test_a_negative_price_is_refused_and_stores_nothing():
    eth = Asset.objects.get(chain=MAINNET, address=NATIVE_ASSET)
    before = list(AssetPrice.objects.values_list("id", "price_usd"))

    with pytest.raises(InvalidInput):
        asset_price_set(asset=eth, day=DAY, price_usd=Decimal("-1"))

    assert list(AssetPrice.objects.values_list("id", "price_usd")) == before


def test_a_price_older_than_a_day_is_stale():
    now = dt.datetime(2025, 3, 10, 12, tzinfo=dt.UTC)
    fresh = dt.datetime(2025, 3, 10, 11, tzinfo=dt.UTC)
    assert not price_is_stale(day=dt.date(2025, 3, 10), fetched_at=fresh, now=now)
    assert not price_is_stale(
        day=dt.date(2025, 3, 9), fetched_at=now - dt.timedelta(hours=23), now=now
    )
    assert price_is_stale(
        day=dt.date(2025, 3, 10), fetched_at=now - dt.timedelta(hours=25), now=now
    )
    # An old day entered just now still does not price today.
    assert price_is_stale(day=dt.date(2025, 3, 1), fetched_at=fresh, now=now)
