"""Wallet addresses: parse any accepted spelling into the stored one, and the user a wallet
belongs to (created the first time the wallet is seen)."""

from __future__ import annotations

from dataclasses import dataclass

import base58
from django.db import IntegrityError, transaction
from eth_utils import is_hex_address, to_checksum_address

from accounts.models import User, Wallet, WalletKind

EIP155 = "eip155"
SOLANA = "solana"
# The chain recorded for a wallet that was added by address before it ever signed in, or
# that signed in with a message naming no chain.
DEFAULT_CHAINS = {EIP155: "eip155:1", SOLANA: "solana:mainnet"}
_SOLANA_PUBLIC_KEY_BYTES = 32


@dataclass(frozen=True)
class WalletAddress:
    namespace: str  # CAIP-2 namespace: "eip155" or "solana"
    address: str  # EIP-55 checksummed, or base58 as given


def solana_public_key(address: str) -> bytes | None:
    """The 32 bytes of a base58 Solana address, or None when it is not one."""
    if not 32 <= len(address) <= 44:
        return None
    try:
        raw = base58.b58decode(address)
    except ValueError:
        return None
    # base58 has one spelling per value, so a re-encode that differs means leading "1"s
    # or other padding tricks that would let two strings name one wallet.
    if len(raw) != _SOLANA_PUBLIC_KEY_BYTES or base58.b58encode(raw).decode() != address:
        return None
    return raw


def wallet_address_parse(*, address: str) -> WalletAddress | None:
    """EVM addresses in any letter case (returned EIP-55) or base58 Solana ones; else None."""
    address = address.strip()
    if address.startswith(("0x", "0X")) and is_hex_address("0x" + address[2:].lower()):
        return WalletAddress(EIP155, to_checksum_address("0x" + address[2:].lower()))
    if solana_public_key(address) is not None:
        return WalletAddress(SOLANA, address)
    return None


def wallet_identity(*, kind: str, namespace: str, chain: str, address: str) -> dict[str, str]:
    """The fields that make a wallet one wallet (its unique constraint), as filters."""
    if kind == WalletKind.CONTRACT:
        return {"kind": kind, "chain": chain, "address": address}
    return {"kind": kind, "namespace": namespace, "address": address}


def wallet_user_ensure(
    *, namespace: str, address: str, chain: str, kind: str = WalletKind.EOA
) -> tuple[Wallet, bool]:
    """(wallet with its user, created?) for this address, creating both the first time.

    An EOA is one wallet per namespace, whatever `chain` it shows up on (`chain` is only
    recorded the first time); a contract wallet is one wallet per chain (see Wallet). Two
    first sign-ins of one wallet can race; the unique constraint of its kind lets one win
    and the other reads the winner's row.
    """
    wallet = Wallet.objects.select_related("user").filter(
        **wallet_identity(kind=kind, namespace=namespace, chain=chain, address=address)
    )
    existing = wallet.first()
    if existing is not None:
        return existing, False
    # A contract's user is named by its chain too: the address alone is not the account.
    username = f"{chain}:{address}" if kind == WalletKind.CONTRACT else f"{namespace}:{address}"
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=username)
            created = Wallet.objects.create(
                user=user, kind=kind, namespace=namespace, chain=chain, address=address
            )
    except IntegrityError:
        return wallet.get(), False
    return created, True


def wallet_user_get_or_create(*, namespace: str, address: str, chain: str) -> Wallet:
    """The EOA wallet (with its user) for this address, creating both the first time."""
    wallet, _ = wallet_user_ensure(namespace=namespace, address=address, chain=chain)
    return wallet
