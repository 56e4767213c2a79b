"""USD values of on-chain amounts, from the admin-edited `PriceQuote` table.

A value is priced with the latest quote on or before the day it happened; with no quote
it is 0 (the interaction is still stored), except for dollar stablecoins, which are worth
one dollar unless a quote says otherwise (a de-peg entered by an operator wins).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from trace.models import PriceQuote

STABLECOINS = frozenset({"USDC", "USDT", "DAI"})
# Wrapped coins trade at their coin's price.
ALIASES = {"WETH": "ETH", "WSOL": "SOL", "WPOL": "POL", "WMATIC": "POL", "MATIC": "POL"}
CENT = Decimal("0.01")
# ContractInteraction.value_usd is DECIMAL(20, 2): anything at or above this is a spam
# token's made-up figure, not money, and is recorded as 0.
MAX_VALUE_USD = Decimal(10) ** 18


def price_usd(*, asset: str, day: dt.date) -> Decimal | None:
    """The USD price of one unit of `asset` on `day`, or None when nothing prices it."""
    symbol = ALIASES.get(asset.upper(), asset.upper())
    quote = (
        PriceQuote.objects.filter(asset=symbol, day__lte=day)
        .order_by("-day")
        .values_list("price_usd", flat=True)
        .first()
    )
    if quote is not None:
        return quote
    if symbol in STABLECOINS:
        return Decimal(1)
    return None


def value_usd(*, asset: str, amount: Decimal, day: dt.date) -> Decimal:
    return PriceBook().value_usd(asset=asset, amount=amount, day=day)


class PriceBook:
    """Prices memoised for one ingest run: a block of 500 transfers costs a few queries."""

    def __init__(self) -> None:
        self._prices: dict[tuple[str, dt.date], Decimal | None] = {}

    def price_usd(self, *, asset: str, day: dt.date) -> Decimal | None:
        key = (asset.upper(), day)
        if key not in self._prices:
            self._prices[key] = price_usd(asset=asset, day=day)
        return self._prices[key]

    def value_usd(self, *, asset: str, amount: Decimal, day: dt.date) -> Decimal:
        """`amount` of `asset` in dollars and cents (half up); 0.00 when unpriced."""
        price = self.price_usd(asset=asset, day=day) if asset else None
        if price is None or not amount:
            return Decimal("0.00")
        value = amount * price
        if abs(value) >= MAX_VALUE_USD:
            return Decimal("0.00")
        return value.quantize(CENT, rounding=ROUND_HALF_UP)
