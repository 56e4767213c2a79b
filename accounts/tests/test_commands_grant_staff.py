"""manage.py grant_staff WALLET [--chain CAIP2] [--superuser]"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from accounts.tests.factories import WalletFactory
from accounts.tests.signing import SolanaWallet

pytestmark = pytest.mark.django_db


def test_grants_staff_to_the_wallets_user_by_address_in_any_case():
    wallet = WalletFactory()
    out = StringIO()

    call_command("grant_staff", wallet.address.lower(), stdout=out)

    wallet.user.refresh_from_db()
    assert (wallet.user.is_staff, wallet.user.is_superuser) == (True, False)
    assert out.getvalue() == f"{wallet.user.username} ({wallet.address}) is now staff.\n"


def test_superuser_flag_for_a_solana_wallet():
    solana = SolanaWallet()
    wallet = WalletFactory(namespace="solana", chain="solana:mainnet", address=solana.address)

    call_command("grant_staff", solana.address, "--superuser", stdout=StringIO())

    wallet.user.refresh_from_db()
    assert (wallet.user.is_staff, wallet.user.is_superuser) == (True, True)


@pytest.mark.parametrize("address", ["0x" + "ab" * 20, "nonsense"])
def test_an_unknown_wallet_is_an_error_and_changes_nothing(address):
    WalletFactory()
    with pytest.raises(CommandError, match="No user has signed in with wallet"):
        call_command("grant_staff", address, stdout=StringIO())
    assert User.objects.filter(is_staff=True).count() == 0


def test_a_contract_wallet_is_named_by_its_chain():
    eoa = WalletFactory(kind="eoa")
    on_base = WalletFactory(kind="contract", chain="eip155:8453", address=eoa.address)
    WalletFactory(kind="contract", chain="eip155:10", address=eoa.address)

    call_command("grant_staff", eoa.address, "--chain", "eip155:8453", stdout=StringIO())

    assert list(User.objects.filter(is_staff=True)) == [on_base.user]
