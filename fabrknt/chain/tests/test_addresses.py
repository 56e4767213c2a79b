"""fabrknt.chain.addresses: EVM and Solana addresses, and CAIP-2 namespaces."""

from __future__ import annotations

import pytest
from eth_account import Account

from fabrknt.chain.addresses import (
    address_key,
    address_normalize,
    chain_namespace,
    evm_address_normalize,
    solana_address_validate,
)

CHECKSUMMED = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def test_evm_addresses_in_any_case_come_back_checksummed():
    assert evm_address_normalize(CHECKSUMMED.lower()) == CHECKSUMMED
    assert evm_address_normalize("0x" + CHECKSUMMED[2:].upper()) == CHECKSUMMED
    assert evm_address_normalize(CHECKSUMMED) == CHECKSUMMED
    account = Account.create()
    assert evm_address_normalize(account.address.lower()) == account.address


@pytest.mark.parametrize(
    "bad",
    ["", "0x", "0x123", CHECKSUMMED[2:], CHECKSUMMED + "00", "0x" + "g" * 40,
     "0x" + CHECKSUMMED[2:].swapcase(), None, 123],
)  # fmt: skip
def test_bad_evm_addresses_are_refused(bad):
    with pytest.raises(ValueError):
        evm_address_normalize(bad)


def test_solana_addresses_are_base58_of_32_bytes():
    assert solana_address_validate("11111111111111111111111111111111") == (
        "11111111111111111111111111111111"
    )
    assert solana_address_validate("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
    for bad in ["", "0OIl" * 10, "1" * 31, "z" * 44, CHECKSUMMED]:
        with pytest.raises(ValueError):
            solana_address_validate(bad)


def test_address_normalize_follows_the_chain_namespace():
    assert address_normalize(chain="eip155:8453", address=CHECKSUMMED.lower()) == CHECKSUMMED
    solana = "So11111111111111111111111111111111111111112"
    assert address_normalize(chain="solana:mainnet", address=solana) == solana
    assert chain_namespace("eip155:1") == "eip155"
    for chain in ["cosmos:hub-4", "eip155", "", "EIP155:1"]:
        with pytest.raises(ValueError):
            address_normalize(chain=chain, address=CHECKSUMMED)
    assert address_key(CHECKSUMMED) == CHECKSUMMED.lower()
    assert address_key(solana) == solana
