"""`wallet_by_address`: an address alone names the EOA; a contract wallet needs its chain."""

from __future__ import annotations

import pytest

from accounts.selectors import wallet_by_address
from accounts.tests.factories import WalletFactory
from accounts.tests.signing import new_evm_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def address() -> str:
    return new_evm_account().address


def test_an_address_alone_is_the_eoa_even_with_contract_wallets_there(address):
    WalletFactory(kind="contract", chain="eip155:8453", address=address)
    eoa = WalletFactory(kind="eoa", chain="eip155:10", address=address)
    WalletFactory(kind="contract", chain="eip155:10", address=address)

    assert wallet_by_address(address=address.lower()) == eoa


def test_an_address_with_a_chain_is_the_contract_wallet_on_that_chain(address):
    WalletFactory(kind="eoa", chain="eip155:8453", address=address)
    on_base = WalletFactory(kind="contract", chain="eip155:8453", address=address)
    on_optimism = WalletFactory(kind="contract", chain="eip155:10", address=address)

    assert wallet_by_address(address=address, chain="eip155:8453") == on_base
    assert wallet_by_address(address=address, chain="eip155:10") == on_optimism
    assert wallet_by_address(address=address, chain="eip155:1") is None


def test_only_contract_wallets_at_an_address_is_no_eoa(address):
    WalletFactory(kind="contract", chain="eip155:8453", address=address)

    assert wallet_by_address(address=address) is None
