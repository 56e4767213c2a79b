"""Linking more wallets to one account, and unlinking them: real eth-account and PyNaCl
signatures over the messages a wallet signs, checked by the sign-in services."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from accounts.models import SignInNonce, User, Wallet
from accounts.services.sign_in import sign_in_nonce_issue
from accounts.services.wallet_links import (
    LastWallet,
    WalletLinkRefused,
    WalletOfAnotherAccount,
    wallet_link,
    wallet_link_statement,
    wallet_unlink,
)
from accounts.tests.factories import UserFactory, WalletFactory
from accounts.tests.signing import (
    SolanaWallet,
    new_evm_account,
    personal_sign,
    siwe_text,
    siws_text,
)
from fabrknt.api.errors import NotFound

pytestmark = pytest.mark.django_db


def _siwe_link(user, account, *, chain_id=1, statement=None):
    text = siwe_text(
        address=account.address,
        nonce=sign_in_nonce_issue().value,
        chain_id=chain_id,
        statement=statement or wallet_link_statement(user=user),
    )
    return {"protocol": "siwe", "message": text, "signature": personal_sign(account, text)}


def test_an_evm_wallet_on_any_chain_is_linked_to_the_signed_in_user():
    user = WalletFactory().user
    account = new_evm_account()

    linked = wallet_link(user=user, **_siwe_link(user, account, chain_id=56))

    assert linked.created is True
    assert (linked.wallet.user, linked.wallet.kind, linked.wallet.chain) == (
        user,
        "eoa",
        "eip155:56",
    )
    assert linked.wallet.address == account.address
    assert user.wallets.count() == 2
    assert User.objects.count() == 1
    assert SignInNonce.objects.get().used_at is not None


def test_a_solana_wallet_is_linked_with_its_sign_in_with_solana_signature():
    user = WalletFactory().user
    solana = SolanaWallet()
    text = siws_text(
        address=solana.address,
        nonce=sign_in_nonce_issue().value,
        statement=wallet_link_statement(user=user),
    )

    linked = wallet_link(user=user, protocol="siws", message=text, signature=solana.sign(text))

    assert (linked.wallet.namespace, linked.wallet.chain, linked.wallet.address) == (
        "solana",
        "solana:mainnet",
        solana.address,
    )
    assert linked.wallet.user == user


def test_linking_a_wallet_the_user_already_has_changes_nothing():
    account = new_evm_account()
    wallet = WalletFactory(address=account.address)

    linked = wallet_link(user=wallet.user, **_siwe_link(wallet.user, account, chain_id=10))

    assert (linked.created, linked.wallet.pk) == (False, wallet.pk)
    assert Wallet.objects.get().chain == "eip155:1"


def test_a_wallet_of_another_account_is_refused_and_stays_there():
    user = WalletFactory().user
    account = new_evm_account()
    theirs = WalletFactory(address=account.address)

    with pytest.raises(WalletOfAnotherAccount) as refusal:
        wallet_link(user=user, **_siwe_link(user, account))

    assert refusal.value.code == "wallet_of_another_account"
    assert "belongs to another account" in refusal.value.detail
    assert Wallet.objects.get(address=account.address).user == theirs.user
    assert user.wallets.count() == 1


@pytest.mark.parametrize(
    "case",
    ["sign-in statement", "another account's statement", "signature by another key", "reused"],
)
def test_refused_links_say_why_and_store_nothing(case):
    user = WalletFactory().user
    account = new_evm_account()
    if case == "sign-in statement":
        body = _siwe_link(user, account, statement="Sign in to Fabrknt Suite.")
        detail = "The message was not signed to link a wallet to this account."
    elif case == "another account's statement":
        body = _siwe_link(user, account, statement=wallet_link_statement(user=UserFactory()))
        detail = "The message was not signed to link a wallet to this account."
    elif case == "signature by another key":
        body = _siwe_link(user, account)
        body["signature"] = personal_sign(new_evm_account(), body["message"])
        detail = "Signature does not match the message's address."
    else:
        body = _siwe_link(user, account)
        SignInNonce.objects.update(used_at=SignInNonce.objects.get().created_at)
        detail = "Nonce already used."

    with pytest.raises(WalletLinkRefused) as refusal:
        wallet_link(user=user, **body)

    assert (refusal.value.status, refusal.value.code, refusal.value.detail) == (
        400,
        "wallet_link_refused",
        detail,
    )
    assert Wallet.objects.count() == 1


def test_unlinking_removes_the_wallet_but_never_the_last():
    first = WalletFactory()
    second = WalletFactory(user=first.user)

    assert wallet_unlink(user=first.user, wallet_id=second.pk).address == second.address

    assert list(first.user.wallets.all()) == [first]
    with pytest.raises(LastWallet) as refusal:
        wallet_unlink(user=first.user, wallet_id=first.pk)
    assert (refusal.value.status, refusal.value.code) == (409, "last_wallet")
    assert list(first.user.wallets.all()) == [first]


def test_another_users_wallet_cannot_be_unlinked():
    mine = WalletFactory()
    WalletFactory(user=mine.user)
    theirs = WalletFactory()
    WalletFactory(user=theirs.user)

    with pytest.raises(NotFound):
        wallet_unlink(user=mine.user, wallet_id=theirs.pk)

    assert Wallet.objects.count() == 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_unlinks_leave_one_wallet():
    first = WalletFactory()
    second = WalletFactory(user=first.user)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def unlink(wallet_id):
        barrier.wait()
        try:
            wallet_unlink(user=first.user, wallet_id=wallet_id)
            outcomes.append("unlinked")
        except LastWallet:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=unlink, args=(w.pk,)) for w in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["refused", "unlinked"]
    assert Wallet.objects.filter(user=first.user).count() == 1
