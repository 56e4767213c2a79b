"""Proof of funds: what one of a buyer's proven wallets holds, read from the chains now.

For an EVM wallet, every EVM chain of `CHAIN_RPC_URLS` (a contract wallet, only its own
chain): the native balance and the ERC-20 balances of `PROOF_OF_FUNDS_TOKENS[chain]`, or,
for a chain not named there, of every enabled ERC-20 the asset registry lists on it — one
JSON-RPC batch a chain (`rpc_batch`). For a Solana wallet, its SOL on each configured Solana
chain. Each balance is valued with TRACE's price of that asset by identity (chain and
contract address, or `native`; `trace.services.pricing`), never by the symbol a token
declares. A balance without a price shows `usd: null`, is left out of `total_usd` and says
why in `note`; a chain that does not answer is listed under `unavailable`.

The chains' answer is cached per wallet for PROOF_OF_FUNDS_CACHE_SECONDS; `sufficient`
is decided per request against the amount asked.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from eth_typing import HexStr
from eth_utils import function_signature_to_4byte_selector
from web3 import Web3
from web3.exceptions import Web3Exception

from accounts.models import User, Wallet, WalletKind
from accounts.selectors import user_wallets
from fabrknt.api.errors import InvalidInput, PermissionDenied, Unavailable
from fabrknt.chain.addresses import address_key, evm_address_normalize, solana_address_validate
from fabrknt.chain.evm import (
    ChainNotConfigured,
    evm_client_serving,
    is_evm_chain,
    native_asset,
    rpc_batch,
)
from fabrknt.chain.solana import SolanaRpcError, solana_balance
from trace.models import NATIVE_ASSET
from trace.selectors import registry_tokens
from trace.services.pricing import PriceBook, amount_from_base_units

logger = logging.getLogger(__name__)

_BALANCE_OF = function_signature_to_4byte_selector("balanceOf(address)")
_DECIMALS = function_signature_to_4byte_selector("decimals()")
ERC20_DEFAULT_DECIMALS = 18
LAMPORTS_DECIMALS = 9
CACHE_VERSION = 1
# What a failing chain may raise: no or wrong endpoint, the endpoint's errors (requests'
# are OSErrors), an answer that does not decode.
_CHAIN_FAILURES = (ChainNotConfigured, Web3Exception, OSError, ValueError, SolanaRpcError)
UNPRICED_NOTES = {
    "unknown_asset": "not in the asset registry",
    "asset_disabled": "disabled in the asset registry",
    "no_price": "no price in the asset registry",
    "over_cap": "value above the sanity cap",
}


@dataclasses.dataclass(frozen=True)
class Holding:
    """One balance: `asset` is `native` or the token's address (EIP-55)."""

    chain: str
    asset: str
    symbol: str
    amount: Decimal
    usd: Decimal | None
    note: str = ""


@dataclasses.dataclass(frozen=True)
class UnavailableChain:
    chain: str
    reason: str


@dataclasses.dataclass(frozen=True)
class Balances:
    """What the chains said about a wallet at `checked_at` (the cached part)."""

    wallet: str
    holdings: list[Holding]
    unavailable: list[UnavailableChain]
    checked_at: dt.datetime

    @property
    def total_usd(self) -> Decimal:
        return sum((h.usd for h in self.holdings if h.usd is not None), Decimal("0.00"))

    @property
    def notes(self) -> list[str]:
        notes = [
            f"{h.symbol or h.asset} on {h.chain} is not counted: {h.note}."
            for h in self.holdings
            if h.usd is None
        ]
        notes += [f"{u.chain} did not answer: {u.reason}." for u in self.unavailable]
        return notes


@dataclasses.dataclass(frozen=True)
class ProofOfFunds:
    balances: Balances
    amount_usd: Decimal | None

    @property
    def sufficient(self) -> bool | None:
        """Whether the priced total covers the amount asked; None when none was asked."""
        if self.amount_usd is None:
            return None
        return self.balances.total_usd >= self.amount_usd


@dataclasses.dataclass(frozen=True)
class _Token:
    address: str
    symbol: str
    decimals: int | None  # None: not in the registry, asked of the token


def proof_of_funds(*, user: User, wallet: str, amount_usd: Decimal | None = None) -> ProofOfFunds:
    """The balances of `wallet`, one of `user`'s proven wallets, and whether they cover
    `amount_usd`. 400 for an address that does not parse, 403 for a wallet the user has not
    proven (signed in with, or linked), 503 when no chain of the wallet is configured."""
    owned = _proven_wallet(user=user, wallet=wallet)
    if not _chains_of(owned):
        # Nothing could be read: a total of 0 would be a figure nobody measured.
        raise Unavailable(
            "No chain this wallet can hold funds on is configured (CHAIN_RPC_URLS).",
            code="chain_not_configured",
        )
    key = f"fabric:proof-of-funds:{CACHE_VERSION}:{owned.kind}:{owned.chain}:{owned.address}"
    balances: Balances | None = cache.get(key)
    if balances is None:
        balances = wallet_balances(owned)
        cache.set(key, balances, settings.PROOF_OF_FUNDS_CACHE_SECONDS)
    return ProofOfFunds(balances=balances, amount_usd=amount_usd)


def _proven_wallet(*, user: User, wallet: str) -> Wallet:
    try:
        address = (
            evm_address_normalize(wallet)
            if isinstance(wallet, str) and wallet.startswith("0x")
            else solana_address_validate(wallet)
        )
    except ValueError as error:
        raise InvalidInput(fields={"wallet": [str(error)]}) from None
    for owned in user_wallets(user=user):
        if address_key(owned.address) == address_key(address):
            return owned
    raise PermissionDenied(
        "Proof of funds is for your own wallets: sign in with this wallet or link it first.",
        code="wallet_not_proven",
    )


def wallet_balances(wallet: Wallet) -> Balances:
    """Read the wallet's balances on every configured chain it can hold funds on (the chains
    in parallel), then value them."""
    chains = _chains_of(wallet)
    prices = PriceBook()
    tokens = {chain: _tokens(chain, prices) for chain in chains if is_evm_chain(chain)}
    readers: list[Callable[[], list[tuple[str, str, int, int | None]]]] = [
        functools.partial(_evm_read, chain, wallet.address, tokens[chain])
        if is_evm_chain(chain)
        else functools.partial(_solana_read, chain, wallet.address)
        for chain in chains
    ]
    holdings: list[Holding] = []
    unavailable: list[UnavailableChain] = []
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(readers)))) as pool:
        futures = [pool.submit(reader) for reader in readers]
        for chain, future in zip(chains, futures, strict=True):
            try:
                raw = future.result()
            except _CHAIN_FAILURES as error:
                logger.info("proof of funds: %s unavailable: %s", chain, error)
                unavailable.append(UnavailableChain(chain, _reason(error)))
                continue
            holdings += [_holding(chain, row, tokens.get(chain, {}), prices) for row in raw]
    return Balances(
        wallet=wallet.address,
        holdings=holdings,
        unavailable=unavailable,
        checked_at=timezone.now(),
    )


def _chains_of(wallet: Wallet) -> list[str]:
    configured = sorted(chain for chain, url in settings.CHAIN_RPC_URLS.items() if url)
    if wallet.kind == WalletKind.CONTRACT:
        return [wallet.chain] if wallet.chain in configured else []
    return [chain for chain in configured if chain.split(":", 1)[0] == wallet.namespace]


def _tokens(chain: str, prices: PriceBook) -> dict[str, _Token]:
    configured = settings.PROOF_OF_FUNDS_TOKENS.get(chain)
    if configured is None:
        return {
            asset.address: _Token(asset.address, asset.symbol, asset.decimals)
            for asset in registry_tokens(chain=chain)
        }
    tokens: dict[str, _Token] = {}
    for given in configured:
        try:
            address = evm_address_normalize(given)
        except ValueError:
            logger.warning("PROOF_OF_FUNDS_TOKENS: ignoring %r on %s", given, chain)
            continue
        asset = prices.asset(chain=chain, address=address)
        tokens[address] = _Token(
            address, asset.symbol if asset else "", asset.decimals if asset else None
        )
    return tokens


def _call_data(selector: bytes, argument: str | None = None) -> HexStr:
    padded = bytes(12) + bytes.fromhex(argument[2:]) if argument else b""
    return HexStr("0x" + (selector + padded).hex())


def _evm_read(
    chain: str, address: str, tokens: dict[str, _Token]
) -> list[tuple[str, str, int, int | None]]:
    """(chain, asset, raw balance, decimals read from the token) per asset: the native coin
    and the tokens in one batch; the decimals of unregistered tokens held, one call each."""
    client = evm_client_serving(chain)
    calls: list[Callable[[], Any]] = [
        functools.partial(client.eth.get_balance, evm_address_normalize(address))
    ]
    calls += [
        functools.partial(client.eth.call, {"to": token, "data": _call_data(_BALANCE_OF, address)})
        for token in tokens
    ]
    results = rpc_batch(client, calls, size=settings.INDEXER_RPC_BATCH_SIZE)
    rows: list[tuple[str, str, int, int | None]] = [(chain, NATIVE_ASSET, int(results[0]), None)]
    for token, raw in zip(tokens.values(), results[1:], strict=True):
        balance = int.from_bytes(bytes(raw)[:32], "big") if raw else 0
        if balance:
            decimals = None if token.decimals is not None else _token_decimals(client, token)
            rows.append((chain, token.address, balance, decimals))
    return rows


def _token_decimals(client: Web3, token: _Token) -> int:
    raw = bytes(client.eth.call({"to": token.address, "data": _call_data(_DECIMALS)}))
    decimals = int.from_bytes(raw[:32], "big") if len(raw) >= 32 else ERC20_DEFAULT_DECIMALS
    return decimals if decimals <= 36 else ERC20_DEFAULT_DECIMALS


def _solana_read(chain: str, address: str) -> list[tuple[str, str, int, int | None]]:
    url = settings.CHAIN_RPC_URLS[chain]
    return [(chain, NATIVE_ASSET, solana_balance(url=url, address=address), LAMPORTS_DECIMALS)]


def _holding(
    chain: str,
    row: tuple[str, str, int, int | None],
    tokens: dict[str, _Token],
    prices: PriceBook,
) -> Holding:
    _, asset, raw, read_decimals = row
    token = tokens.get(asset)
    registry_decimals = prices.decimals(chain=chain, address=asset)
    decimals = next(
        d for d in (registry_decimals, read_decimals, ERC20_DEFAULT_DECIMALS) if d is not None
    )
    amount = amount_from_base_units(raw, decimals)
    valuation = prices.valuation(
        chain=chain, address=asset, amount=amount, day=timezone.now().date()
    )
    if asset == NATIVE_ASSET:
        symbol = native_asset(chain) if is_evm_chain(chain) else "SOL"
    else:
        symbol = token.symbol if token else ""
    if valuation.unpriced_reason:
        note = UNPRICED_NOTES.get(valuation.unpriced_reason, valuation.unpriced_reason)
        return Holding(chain, asset, symbol, amount, None, note)
    return Holding(chain, asset, symbol, amount, valuation.value_usd)


def _reason(error: Exception) -> str:
    if isinstance(error, ChainNotConfigured):
        return str(error).split(":")[0]
    return f"the endpoint failed ({type(error).__name__})"
