"""Address parsing shared by every app: EVM (EIP-55) and Solana (base58, 32 bytes).

API.md: EVM addresses are accepted in any case and returned checksummed; Solana addresses
are base58; anything that does not parse is a 400. These helpers raise `ValueError` so
serializers, pydantic models and services can all turn it into their own error.
"""

from __future__ import annotations

import re

import base58
from eth_typing import ChecksumAddress
from eth_utils import to_checksum_address

_EVM_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_BASE58_CHARS = re.compile(r"^[1-9A-HJ-NP-Za-km-z]{32,44}$")
_CAIP2 = re.compile(r"^(?P<namespace>[-a-z0-9]{3,8}):(?P<reference>[-_a-zA-Z0-9]{1,32})$")


def evm_address_normalize(value: str) -> ChecksumAddress:
    """The EIP-55 checksummed form of an EVM address given in any case.

    A mixed-case address whose checksum is wrong is refused: it is a typo, not a style.
    """
    if not isinstance(value, str) or not _EVM_ADDRESS.match(value):
        raise ValueError("Enter a valid EVM address (0x followed by 40 hex digits).")
    checksummed = to_checksum_address(value)
    body = value[2:]
    if body != body.lower() and body != body.upper() and value != checksummed:
        raise ValueError("The EVM address has a wrong EIP-55 checksum.")
    return checksummed


def solana_address_validate(value: str) -> str:
    """A Solana address (base58 of 32 bytes), returned unchanged: base58 is case-sensitive."""
    if not isinstance(value, str) or not _BASE58_CHARS.match(value):
        raise ValueError("Enter a valid Solana address (base58).")
    if len(base58.b58decode(value)) != 32:
        raise ValueError("A Solana address is the base58 encoding of 32 bytes.")
    return value


def chain_namespace(chain: str) -> str:
    """The CAIP-2 namespace ("eip155", "solana") of a chain id such as "eip155:8453"."""
    match = _CAIP2.match(chain) if isinstance(chain, str) else None
    if match is None:
        raise ValueError("Enter a CAIP-2 chain id such as eip155:8453 or solana:mainnet.")
    return match["namespace"]


def address_normalize(*, chain: str, address: str) -> str:
    """An address in its canonical form for the chain's namespace."""
    namespace = chain_namespace(chain)
    if namespace == "eip155":
        return evm_address_normalize(address)
    if namespace == "solana":
        return solana_address_validate(address)
    raise ValueError(f"Chains of namespace {namespace!r} are not supported.")


def address_key(address: str) -> str:
    """A key to compare addresses with: EVM hex is case-insensitive, base58 is not."""
    return address.lower() if address.startswith("0x") else address
