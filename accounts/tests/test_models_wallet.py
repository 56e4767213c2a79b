"""The database says what a wallet is: an EOA is one per namespace, a contract wallet one
per chain."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from accounts.models import Wallet
from accounts.tests.factories import UserFactory, WalletFactory
from accounts.tests.signing import SolanaWallet, new_evm_account

pytestmark = pytest.mark.django_db


def _refused(**fields) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Wallet.objects.create(user=UserFactory(), **fields)


def test_an_eoa_is_one_wallet_per_namespace_whatever_the_chain():
    eoa = WalletFactory(kind="eoa", chain="eip155:1")

    _refused(kind="eoa", namespace="eip155", chain="eip155:8453", address=eoa.address)

    assert Wallet.objects.count() == 1


def test_a_contract_wallet_is_one_wallet_per_chain():
    address = new_evm_account().address
    WalletFactory(kind="contract", chain="eip155:8453", address=address)
    WalletFactory(kind="contract", chain="eip155:10", address=address)

    _refused(kind="contract", namespace="eip155", chain="eip155:8453", address=address)

    assert sorted(Wallet.objects.values_list("chain", flat=True)) == ["eip155:10", "eip155:8453"]


def test_an_eoa_and_a_contract_wallet_at_one_address_are_two_wallets():
    address = new_evm_account().address
    WalletFactory(kind="eoa", chain="eip155:8453", address=address)
    WalletFactory(kind="contract", chain="eip155:8453", address=address)

    assert Wallet.objects.filter(address=address).count() == 2


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "multisig", "namespace": "eip155", "chain": "eip155:1"},
        {"kind": "contract", "namespace": "solana", "chain": "solana:mainnet"},
    ],
    ids=["unknown kind", "contract wallet outside EVM"],
)
def test_kinds_are_checked(fields):
    _refused(address=SolanaWallet().address, **fields)

    assert Wallet.objects.count() == 0
