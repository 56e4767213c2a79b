"""USD values of on-chain transfers, by asset identity.

An asset is (CAIP-2 chain, contract or mint address), or `native` for the chain's own coin,
looked up in the `Asset` registry; a token's self-declared symbol is never used, so a
contract that calls itself "USDC" is worth nothing unless the registry lists that contract.
A transfer is valued with its asset's latest `AssetPrice` on or before its day.

The rules, in order:

1. Nothing fungible moved (an NFT): unpriced, `not_fungible`.
2. Public testnets (`TESTNET_CHAINS`): every asset on them is worth exactly 0. This is a
   rule here rather than registry rows so that no registry edit can give a testnet coin a
   mainnet price, and a testnet token nobody registered is still known to be worthless.
3. A zero amount is worth 0 whatever the asset.
4. Local development chains (`DEVELOPMENT_CHAINS`): outside production their coin is priced
   as Ethereum's ETH; in production it is an unknown asset like any other.
5. An asset missing from the registry is `unknown_asset`, a disabled one `asset_disabled`,
   one without a price on or before the day `no_price`; all are stored as evidence, valued
   0 and counted as unpriced transfers in the day's metrics.
6. A value above `TRANSFER_VALUE_CAP_USD` is not money but a spam token's made-up figure
   (or a mistyped price): unpriced, `over_cap`, never silently 0.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from fabrknt.api.errors import InvalidInput
from trace.models import NATIVE_ASSET, Asset, AssetPrice, PriceSource, UnpricedReason

CENT = Decimal("0.01")
# Enough digits for any 256-bit integer amount times any stored price, without rounding.
EXACT_PRECISION = 160
# Public testnets (EVM chain ids and Solana clusters): their coins have no market value.
TESTNET_CHAINS = frozenset(
    {
        "eip155:5",  # Goerli
        "eip155:31",  # Rootstock testnet
        "eip155:97",  # BNB testnet
        "eip155:300",  # zkSync Sepolia
        "eip155:420",  # OP Goerli
        "eip155:1301",  # Unichain Sepolia
        "eip155:1946",  # Soneium Minato
        "eip155:4002",  # Fantom testnet
        "eip155:4801",  # World Chain Sepolia
        "eip155:5003",  # Mantle Sepolia
        "eip155:5373",  # Settlus testnet
        "eip155:7001",  # ZetaChain testnet
        "eip155:10143",  # Monad testnet
        "eip155:10200",  # Gnosis Chiado
        "eip155:11011",  # Shape Sepolia
        "eip155:11124",  # Abstract testnet
        "eip155:17000",  # Holesky
        "eip155:33111",  # ApeChain Curtis
        "eip155:43113",  # Avalanche Fuji
        "eip155:44787",  # Celo Alfajores
        "eip155:57054",  # Sonic Blaze
        "eip155:59141",  # Linea Sepolia
        "eip155:80001",  # Polygon Mumbai
        "eip155:80002",  # Polygon Amoy
        "eip155:80069",  # Berachain Bepolia
        "eip155:84531",  # Base Goerli
        "eip155:84532",  # Base Sepolia
        "eip155:421613",  # Arbitrum Goerli
        "eip155:421614",  # Arbitrum Sepolia
        "eip155:534351",  # Scroll Sepolia
        "eip155:560048",  # Hoodi
        "eip155:631571",  # Geist Polter
        "eip155:763373",  # Ink Sepolia
        "eip155:11155111",  # Sepolia
        "eip155:11155420",  # OP Sepolia
        "eip155:168587773",  # Blast Sepolia
        "eip155:999999999",  # Zora Sepolia
        "solana:devnet",
        "solana:testnet",
    }
)
# Ganache (1337) and Hardhat/Anvil (31337): local chains whose coin stands in for ETH.
DEVELOPMENT_CHAINS = frozenset({"eip155:1337", "eip155:31337"})
DEVELOPMENT_PRICED_AS = ("eip155:1", NATIVE_ASSET)


@dataclasses.dataclass(frozen=True)
class Valuation:
    """A transfer's USD value; `unpriced_reason` is empty when the value is a price."""

    value_usd: Decimal
    unpriced_reason: str = ""


ZERO = Valuation(Decimal("0.00"))
# A quote refused because its price is older than a day (`current_quote`).
STALE_PRICE = "stale_price"


@dataclasses.dataclass(frozen=True)
class PriceQuote:
    """An asset's unit price: `price_usd` None when it has none (`unpriced_reason` says
    why); `asset` the registry row priced (None on a testnet, whose coins are worth 0)."""

    asset: Asset | None
    price_usd: Decimal | None = None
    unpriced_reason: str = ""


def _unpriced(reason: str) -> Valuation:
    return Valuation(Decimal("0.00"), reason)


class PriceBook:
    """Registry rows and prices memoised for one ingest run: a block of 500 transfers costs
    a query per asset and one per asset and day."""

    def __init__(self) -> None:
        self._assets: dict[tuple[str, str], Asset | None] = {}
        self._prices: dict[tuple[int, dt.date], Decimal | None] = {}

    def asset(self, *, chain: str, address: str) -> Asset | None:
        """The registry row for (chain, address), address in canonical form or `native`."""
        key = (chain, address)
        if key not in self._assets:
            self._assets[key] = Asset.objects.filter(chain=chain, address=address).first()
        return self._assets[key]

    def decimals(self, *, chain: str, address: str) -> int | None:
        """The registry's decimals for an asset (they win over a payload's), if listed."""
        asset = self.asset(chain=chain, address=address) if address else None
        return asset.decimals if asset is not None else None

    def price_usd(self, *, asset: Asset, day: dt.date) -> Decimal | None:
        key = (asset.pk, day)
        if key not in self._prices:
            self._prices[key] = (
                AssetPrice.objects.filter(asset=asset, day__lte=day)
                .order_by("-day")
                .values_list("price_usd", flat=True)
                .first()
            )
        return self._prices[key]

    def valuation(self, *, chain: str, address: str, amount: Decimal, day: dt.date) -> Valuation:
        """`amount` of the asset (chain, address) in dollars and cents (half up) on `day`.

        `address` is canonical or `native`; empty when nothing fungible moved.
        """
        if not address:
            return _unpriced(UnpricedReason.NOT_FUNGIBLE)
        if chain in TESTNET_CHAINS or not amount:
            return ZERO
        quote = self.quote(chain=chain, address=address, day=day)
        if quote.price_usd is None:
            return _unpriced(quote.unpriced_reason)
        return _capped(amount, quote.price_usd)

    def quote(self, *, chain: str, address: str, day: dt.date) -> PriceQuote:
        """The USD price of one whole unit of the asset (chain, address) on `day`, by the
        rules above (a testnet coin: exactly 0; a development chain's coin: ETH's), with
        the registry row it comes from and its decimals. `address`: canonical or `native`."""
        if chain in TESTNET_CHAINS:
            return PriceQuote(asset=None, price_usd=Decimal(0))
        if chain in DEVELOPMENT_CHAINS and address == NATIVE_ASSET and not settings.PRODUCTION:
            chain, address = DEVELOPMENT_PRICED_AS
        asset = self.asset(chain=chain, address=address)
        if asset is None:
            return PriceQuote(asset=None, unpriced_reason=UnpricedReason.UNKNOWN_ASSET)
        if not asset.enabled:
            return PriceQuote(asset=asset, unpriced_reason=UnpricedReason.ASSET_DISABLED)
        price = self.price_usd(asset=asset, day=day)
        if price is None:
            return PriceQuote(asset=asset, unpriced_reason=UnpricedReason.NO_PRICE)
        return PriceQuote(asset=asset, price_usd=price)


def current_quote(*, chain: str, address: str) -> PriceQuote:
    """An asset's price to pay with now (an escrow deal's amount): `PriceBook.quote` for
    today, refused as `stale_price` when the latest price is older than a day
    (`price_is_stale`): money that moves is never priced from an old figure."""
    quote = PriceBook().quote(chain=chain, address=address, day=timezone.now().date())
    if quote.asset is None or quote.price_usd is None:
        return quote
    latest = (
        AssetPrice.objects.filter(asset=quote.asset, day__lte=timezone.now().date())
        .order_by("-day")
        .first()
    )
    if latest is None or latest.is_stale:
        return PriceQuote(asset=quote.asset, unpriced_reason=STALE_PRICE)
    return quote


def _capped(amount: Decimal, price: Decimal) -> Valuation:
    with decimal.localcontext(prec=EXACT_PRECISION):
        value = amount * price
        if not value.is_finite() or abs(value) > settings.TRANSFER_VALUE_CAP_USD:
            return _unpriced(UnpricedReason.OVER_CAP)
        return Valuation(value.quantize(CENT, rounding=ROUND_HALF_UP))


def amount_from_base_units(raw: int, decimals: int) -> Decimal:
    """An integer amount in an asset's smallest unit (wei, lamports, 10^-6 USDC), exactly."""
    with decimal.localcontext(prec=EXACT_PRECISION):
        return Decimal(raw).scaleb(-decimals)


def asset_price_set(
    *, asset: Asset, day: dt.date, price_usd: Decimal, now: dt.datetime | None = None
) -> AssetPrice:
    """An operator's price for an asset and day; it replaces the feed's for that day, and
    the hourly feed leaves it alone."""
    if price_usd < 0 or not price_usd.is_finite():
        raise InvalidInput(fields={"price_usd": ["Must be zero or more."]})
    with transaction.atomic():
        price, _ = AssetPrice.objects.update_or_create(
            asset=asset,
            day=day,
            defaults={
                "price_usd": price_usd,
                "source": PriceSource.ADMIN,
                "fetched_at": now or timezone.now(),
            },
        )
    return price
