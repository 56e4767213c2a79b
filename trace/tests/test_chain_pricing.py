"""USD pricing from PriceQuote: latest quote on or before the day, stablecoins at par."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from trace.services.ingest import amount_storable
from trace.services.pricing import PriceBook, price_usd, value_usd
from trace.tests.factories import PriceQuoteFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2025, 3, 10)


@pytest.fixture(autouse=True)
def quotes():
    PriceQuoteFactory(asset="ETH", day=dt.date(2025, 3, 1), price_usd=Decimal("2150.12345678"))
    PriceQuoteFactory(asset="ETH", day=dt.date(2025, 3, 9), price_usd=Decimal("2201.50"))
    PriceQuoteFactory(asset="ETH", day=dt.date(2025, 3, 11), price_usd=Decimal("9999.00"))
    PriceQuoteFactory(asset="USDT", day=dt.date(2025, 3, 5), price_usd=Decimal("0.9950"))


def test_latest_quote_on_or_before_the_day():
    assert price_usd(asset="ETH", day=DAY) == Decimal("2201.50")
    assert price_usd(asset="eth", day=dt.date(2025, 3, 9)) == Decimal("2201.50")
    assert price_usd(asset="ETH", day=dt.date(2025, 3, 8)) == Decimal("2150.12345678")
    assert price_usd(asset="ETH", day=dt.date(2025, 2, 28)) is None


def test_wrapped_coins_use_the_coin_price():
    assert price_usd(asset="WETH", day=DAY) == Decimal("2201.50")


def test_stablecoins_are_one_dollar_unless_quoted():
    assert price_usd(asset="USDC", day=DAY) == Decimal(1)
    assert price_usd(asset="DAI", day=DAY) == Decimal(1)
    assert price_usd(asset="USDT", day=DAY) == Decimal("0.9950")  # an operator's de-peg quote
    assert price_usd(asset="USDT", day=dt.date(2025, 3, 4)) == Decimal(1)


def test_values_in_cents_rounded_half_up():
    assert value_usd(asset="ETH", amount=Decimal("1.5"), day=DAY) == Decimal("3302.25")
    # 0.000123 * 2150.12345678 = 0.26446518... -> 0.26
    assert value_usd(asset="ETH", amount=Decimal("0.000123"), day=dt.date(2025, 3, 2)) == Decimal(
        "0.26"
    )
    # 0.5 cent rounds up
    assert value_usd(asset="USDC", amount=Decimal("0.005"), day=DAY) == Decimal("0.01")
    assert value_usd(asset="USDT", amount=Decimal("293.092129"), day=DAY) == Decimal("291.63")


def test_unpriced_or_empty_values_are_zero():
    assert value_usd(asset="PEPE", amount=Decimal("1000000"), day=DAY) == Decimal("0.00")
    assert value_usd(asset="", amount=Decimal("5"), day=DAY) == Decimal("0.00")
    assert value_usd(asset="ETH", amount=Decimal("0"), day=DAY) == Decimal("0.00")
    # a spam token's absurd figure is not money
    assert value_usd(asset="USDC", amount=Decimal(2**256), day=DAY) == Decimal("0.00")


def test_price_book_queries_once_per_asset_and_day(django_assert_num_queries):
    book = PriceBook()
    with django_assert_num_queries(2):
        for _ in range(5):
            assert book.value_usd(asset="ETH", amount=Decimal(2), day=DAY) == Decimal("4403.00")
            assert book.value_usd(asset="SOL", amount=Decimal(2), day=DAY) == Decimal("0.00")


def test_amounts_fit_the_column():
    assert amount_storable(Decimal(2**64).scaleb(-18)) == Decimal("18.446744073709551616")
    assert amount_storable(Decimal("1.1234567890123456789")) == Decimal("1.123456789012345678")
    assert amount_storable(Decimal(10) ** 22) == Decimal(0)
    assert amount_storable(Decimal(2**256 - 1)) == Decimal(0)
