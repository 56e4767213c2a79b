"""The asset registry's prices from a CoinGecko-compatible API (`PRICE_FEED_URL`).

One request for every enabled asset with a price source,
`GET {PRICE_FEED_URL}/simple/price?ids=ethereum,usd-coin&vs_currencies=usd`
`&include_last_updated_at=true`, answers
`{"ethereum": {"usd": 3012.5, "last_updated_at": 1711356300}, ...}` (ids it does not know
are left out). Each asset gets today's (UTC) price, written again by every run of the day,
so a re-run stores nothing twice. A price an operator set for the day is left alone. A
feed that is down, slow or answers anything but that shape stores nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from pydantic import Field, RootModel, ValidationError

from fabrknt.chain.wire import JsonNumber, PayloadError, WireModel, json_body_parse
from trace.models import Asset, AssetPrice, PriceSource

logger = logging.getLogger(__name__)

# (connect, read) seconds: the hourly run must not hang on a slow feed.
FEED_TIMEOUT_SECONDS = (3.05, 10)
MAX_RESPONSE_BYTES = 1024 * 1024
# AssetPrice.price_usd is DECIMAL(36, 18).
PRICE_PLACES = Decimal("1e-18")


class PriceFeedError(Exception):
    """The feed could not be read, or did not answer in CoinGecko's shape."""


class _CoinQuote(WireModel):
    usd: JsonNumber | None = Field(default=None, ge=0, lt=Decimal(10) ** 18, allow_inf_nan=False)
    last_updated_at: int | None = Field(default=None, ge=0, le=253402300799)


class _SimplePriceAnswer(RootModel[dict[str, _CoinQuote]]):
    root: dict[str, _CoinQuote]


@dataclasses.dataclass(frozen=True)
class FeedQuote:
    price_usd: Decimal
    observed_at: dt.datetime | None


@dataclasses.dataclass(frozen=True)
class PriceFetchResult:
    stored: int = 0  # asset prices written for the day
    missing: tuple[str, ...] = ()  # price sources the feed did not answer for
    error: str = ""  # why nothing was stored


def prices_fetch(
    *, asset_ids: Iterable[int] | None = None, now: dt.datetime | None = None
) -> PriceFetchResult:
    """Fetch and store today's USD price of the enabled assets (or of `asset_ids` among
    them) that have a price source. Never raises for the feed's failures: they are logged
    and returned as `error`."""
    if not settings.PRICE_FEED_URL:
        return PriceFetchResult(error="PRICE_FEED_URL is not set: prices come from the admin")
    priced = Asset.objects.filter(enabled=True).exclude(price_source="").order_by("pk")
    if asset_ids is not None:
        priced = priced.filter(pk__in=list(asset_ids))
    assets = list(priced)
    sources = sorted({asset.price_source for asset in assets})
    if not sources:
        return PriceFetchResult()
    try:
        quotes = feed_quotes(coin_ids=sources)
    except PriceFeedError as error:
        logger.warning("price feed %s: %s; nothing stored", settings.PRICE_FEED_URL, error)
        return PriceFetchResult(error=str(error))
    now = now or timezone.now()
    stored = 0
    with transaction.atomic():
        for asset in assets:
            quote = quotes.get(asset.price_source)
            if quote is not None:
                stored += _feed_price_store(asset, quote, now)
    missing = tuple(source for source in sources if source not in quotes)
    if missing:
        logger.warning("price feed has no USD price for %s", ", ".join(missing))
    return PriceFetchResult(stored=stored, missing=missing)


def feed_quotes(*, coin_ids: list[str]) -> dict[str, FeedQuote]:
    """The feed's USD price of each coin id it knows; `PriceFeedError` on any failure."""
    url = settings.PRICE_FEED_URL.rstrip("/") + "/simple/price"
    params = {
        "ids": ",".join(coin_ids),
        "vs_currencies": "usd",
        "include_last_updated_at": "true",
    }
    try:
        with requests.get(
            url,
            params=params,
            timeout=FEED_TIMEOUT_SECONDS,
            allow_redirects=False,
            headers={"Accept": "application/json"},
            stream=True,
        ) as response:
            if response.status_code != 200:
                raise PriceFeedError(f"answered HTTP {response.status_code}")
            body = _bounded_body(response)
    except requests.RequestException as error:
        raise PriceFeedError(f"unreachable: {error}") from error
    try:
        answer = _SimplePriceAnswer.model_validate(json_body_parse(body))
    except (PayloadError, ValidationError) as error:
        raise PriceFeedError(f"not a CoinGecko /simple/price answer: {error}") from error
    return {
        coin_id: FeedQuote(
            price_usd=quote.usd,
            observed_at=(
                dt.datetime.fromtimestamp(quote.last_updated_at, tz=dt.UTC)
                if quote.last_updated_at is not None
                else None
            ),
        )
        for coin_id, quote in answer.root.items()
        if coin_id in coin_ids and quote.usd is not None
    }


def _bounded_body(response: requests.Response) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_content(chunk_size=64 * 1024):
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise PriceFeedError(f"answer larger than {MAX_RESPONSE_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _feed_price_store(asset: Asset, quote: FeedQuote, now: dt.datetime) -> int:
    """Today's feed price for the asset, inserted or refreshed; 0 when an operator's
    price holds the day."""
    day = now.astimezone(dt.UTC).date()
    values = {
        "price_usd": quote.price_usd.quantize(PRICE_PLACES, rounding=ROUND_HALF_UP),
        # When the feed last saw the price (not in the future): how stale it is.
        "fetched_at": min(quote.observed_at or now, now),
    }
    if AssetPrice.objects.filter(asset=asset, day=day, source=PriceSource.FEED).update(**values):
        return 1
    _, created = AssetPrice.objects.get_or_create(
        asset=asset, day=day, defaults={**values, "source": PriceSource.FEED}
    )
    return int(created)
