"""The scheduled price fetch against a real local HTTP server speaking CoinGecko's
`/simple/price` (trace.tests.feed_server): what it asks, what it stores, and that a feed
that is down or garbled stores nothing and never fails the task."""

from __future__ import annotations

import datetime as dt
import socket
from decimal import Decimal

import pytest

from fabrknt.celery import app as celery_app
from trace import tasks
from trace.models import NATIVE_ASSET, Asset, AssetPrice, PriceSource
from trace.services.price_feed import MAX_RESPONSE_BYTES, prices_fetch
from trace.tests.factories import AssetFactory, AssetPriceFactory
from trace.tests.feed_server import FeedServer, price_feed_fixture  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 6, 2, 10, 30, tzinfo=dt.UTC)
UPDATED = 1748860000  # 2025-06-02 10:26:40 UTC, CoinGecko's last_updated_at
ANSWER = {
    "ethereum": {"usd": 2612.35, "last_updated_at": UPDATED},
    "usd-coin": {"usd": 0.999912, "last_updated_at": UPDATED},
    "tether": {"usd": 1.0002, "last_updated_at": UPDATED},
    "dai": {"usd": 0.9998, "last_updated_at": UPDATED},
    "polygon-ecosystem-token": {"usd": 0.2281, "last_updated_at": UPDATED},
    "solana": {"usd": 157.12, "last_updated_at": UPDATED},
}
SOURCES = ["dai", "ethereum", "polygon-ecosystem-token", "solana", "tether", "usd-coin"]


def price_of(chain: str, address: str) -> tuple:
    return AssetPrice.objects.values_list("day", "price_usd", "source", "fetched_at").get(
        asset__chain=chain, asset__address=address
    )


def test_one_request_stores_today_price_of_every_enabled_asset(price_feed: FeedServer):
    price_feed.answer(ANSWER)
    assets = Asset.objects.exclude(price_source="").filter(enabled=True).count()

    result = prices_fetch(now=NOW)

    assert (result.stored, result.missing, result.error) == (assets, (), "")
    assert assets == 30  # the seeded registry
    assert price_feed.requests == [
        (
            "/api/v3/simple/price",
            {
                "ids": [",".join(SOURCES)],
                "vs_currencies": ["usd"],
                "include_last_updated_at": ["true"],
            },
        )
    ]
    updated_at = dt.datetime.fromtimestamp(UPDATED, tz=dt.UTC)
    assert price_of("eip155:8453", NATIVE_ASSET) == (
        dt.date(2025, 6, 2),
        Decimal("2612.35"),
        PriceSource.FEED,
        updated_at,
    )
    assert price_of("solana:mainnet", "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v")[1] == (
        Decimal("0.999912")
    )
    assert AssetPrice.objects.count() == assets


def test_a_second_run_the_same_day_updates_in_place(price_feed: FeedServer):
    price_feed.answer(ANSWER)
    prices_fetch(now=NOW)
    price_feed.answer({**ANSWER, "ethereum": {"usd": 2650, "last_updated_at": UPDATED + 3600}})

    result = prices_fetch(now=NOW + dt.timedelta(hours=1))

    assert result.stored == 30
    assert AssetPrice.objects.count() == 30
    assert price_of("eip155:1", NATIVE_ASSET)[1:] == (
        Decimal("2650"),
        PriceSource.FEED,
        dt.datetime.fromtimestamp(UPDATED + 3600, tz=dt.UTC),
    )


def test_an_operator_price_for_the_day_is_left_alone(price_feed: FeedServer):
    price_feed.answer(ANSWER)
    eth = Asset.objects.get(chain="eip155:1", address=NATIVE_ASSET)
    AssetPriceFactory(asset=eth, day=NOW.date(), price_usd=Decimal("2500"), fetched_at=NOW)

    result = prices_fetch(now=NOW)

    assert result.stored == 29
    assert price_of("eip155:1", NATIVE_ASSET) == (
        NOW.date(),
        Decimal("2500"),
        PriceSource.ADMIN,
        NOW,
    )


def test_only_enabled_assets_with_a_source_are_asked_and_missing_ones_are_reported(
    price_feed: FeedServer,
):
    Asset.objects.exclude(chain="eip155:1").update(enabled=False)
    Asset.objects.filter(symbol="DAI").update(price_source="")
    AssetFactory(chain="eip155:1", address="0x6982508145454Ce325dDbE47a25d4ec3d2311933",
                 symbol="PEPE", price_source="pepe")  # fmt: skip
    price_feed.answer({"ethereum": ANSWER["ethereum"], "tether": ANSWER["tether"]})

    result = prices_fetch(now=NOW)

    assert price_feed.requests[0][1]["ids"] == ["ethereum,pepe,tether,usd-coin"]
    assert (result.stored, result.missing) == (3, ("pepe", "usd-coin"))  # ETH, WETH, USDT
    assert sorted(AssetPrice.objects.values_list("asset__symbol", flat=True)) == [
        "ETH",
        "USDT",
        "WETH",
    ]


def test_without_a_feed_url_nothing_is_asked_or_stored(price_feed: FeedServer, settings):
    settings.PRICE_FEED_URL = ""

    result = prices_fetch(now=NOW)

    assert result.error == "PRICE_FEED_URL is not set: prices come from the admin"
    assert price_feed.requests == []
    assert AssetPrice.objects.count() == 0


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (500, b'{"error": "boom"}', "answered HTTP 500"),
        (429, b'{"status": {"error_code": 429}}', "answered HTTP 429"),
        (301, b"", "answered HTTP 301"),
        (200, b"<html>maintenance</html>", "not a CoinGecko /simple/price answer"),
        (200, b"[1, 2, 3]", "not a CoinGecko /simple/price answer"),
        (200, b'{"ethereum": {"usd": "a lot"}}', "not a CoinGecko /simple/price answer"),
        (200, b'{"ethereum": {"usd": -5}}', "not a CoinGecko /simple/price answer"),
        (200, b'{"ethereum": {"usd": NaN}}', "not a CoinGecko /simple/price answer"),
        (200, b'{"ethereum": {"usd": 1e30}}', "not a CoinGecko /simple/price answer"),
        (200, b'{"ethereum": 2612.35}', "not a CoinGecko /simple/price answer"),
        (200, b" " * (MAX_RESPONSE_BYTES + 1), "answer larger than"),
    ],
)
def test_a_garbled_feed_stores_nothing_and_the_task_does_not_raise(
    price_feed: FeedServer, status, body, error
):
    # One good entry next to the bad one: nothing of a garbled answer is trusted.
    price_feed.answer_raw(body.replace(b"{", b'{"solana": {"usd": 157.12}, ', 1), status=status)

    outcome = tasks.fetch_prices.delay().get()

    assert outcome["stored"] == 0
    assert error in outcome["error"]
    assert AssetPrice.objects.count() == 0


def test_a_feed_that_is_down_stores_nothing_and_the_task_does_not_raise(settings):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.PRICE_FEED_URL = f"http://127.0.0.1:{port}/api/v3"

    outcome = tasks.fetch_prices.delay().get()

    assert outcome["stored"] == 0
    assert outcome["error"].startswith("unreachable: ")
    assert AssetPrice.objects.count() == 0


def test_the_fetch_runs_hourly_on_beat():
    entry = celery_app.conf.beat_schedule["trace-fetch-prices"]
    assert entry["task"] == tasks.fetch_prices.name == "trace.fetch_prices"
    assert entry["schedule"].minute == {2}
    assert entry["schedule"].hour == set(range(24))
