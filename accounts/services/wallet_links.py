"""More wallets for one account: link a wallet by signing with it, unlink one.

Linking proves control exactly as signing in does (the same message formats, nonces,
domains and signature checks of accounts.services.sign_in), with a statement that names
the account, so a signature made to sign in, or to link to another account, links nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from django.db import IntegrityError, transaction

from accounts.models import User, Wallet
from accounts.services.sign_in import (
    ProvenWallet,
    ProviderLookup,
    SignInRefused,
    chain_rpc_provider,
    siwe_wallet_prove,
    siws_wallet_prove,
)
from accounts.services.wallets import wallet_identity
from fabrknt.api.errors import Conflict, InvalidInput, NotFound

Protocol = Literal["siwe", "siws"]


class WalletLinkRefused(InvalidInput):
    code = "wallet_link_refused"


class WalletOfAnotherAccount(Conflict):
    code = "wallet_of_another_account"
    default_detail = (
        "This wallet belongs to another account. Sign in with it and unlink it there "
        "first (an account keeps at least one wallet), then link it here."
    )


class LastWallet(Conflict):
    code = "last_wallet"
    default_detail = (
        "This is the only wallet of your account: link another one before unlinking it, "
        "or you could never sign in again."
    )


@dataclass(frozen=True)
class LinkedWallet:
    wallet: Wallet
    created: bool  # False: the wallet was already this account's


def wallet_link_statement(*, user: User) -> str:
    """The statement a linking message must carry: it names the account it links to."""
    return f"Link this wallet to Fabrknt Suite account {user.pk}."


def wallet_link(
    *,
    user: User,
    protocol: Protocol,
    message: str,
    signature: str,
    provider_for: ProviderLookup = chain_rpc_provider,
) -> LinkedWallet:
    """Link the wallet that signed `message` to `user`. A wallet of another account is
    refused (accounts are never merged); one already the user's is left as it is."""
    try:
        if protocol == "siwe":
            proven = siwe_wallet_prove(
                message=message, signature=signature, provider_for=provider_for
            )
        else:
            proven = siws_wallet_prove(message=message, signature=signature)
    except SignInRefused as refusal:
        raise WalletLinkRefused(refusal.reason) from None
    if proven.statement != wallet_link_statement(user=user):
        raise WalletLinkRefused("The message was not signed to link a wallet to this account.")
    return _wallet_attach(user=user, proven=proven)


def _wallet_attach(*, user: User, proven: ProvenWallet) -> LinkedWallet:
    identity = wallet_identity(
        kind=proven.kind, namespace=proven.namespace, chain=proven.chain, address=proven.address
    )
    existing = Wallet.objects.filter(**identity).first()
    if existing is None:
        try:
            with transaction.atomic():
                wallet = Wallet.objects.create(user=user, **_fields(proven))
            return LinkedWallet(wallet=wallet, created=True)
        except IntegrityError:  # a sign-in or another link of this wallet won the race
            existing = Wallet.objects.get(**identity)
    if existing.user_id != user.pk:
        raise WalletOfAnotherAccount()
    return LinkedWallet(wallet=existing, created=False)


def _fields(proven: ProvenWallet) -> dict[str, str]:
    return {
        "kind": proven.kind,
        "namespace": proven.namespace,
        "chain": proven.chain,
        "address": proven.address,
    }


def wallet_unlink(*, user: User, wallet_id: uuid.UUID) -> Wallet:
    """Remove one of the user's wallets, never the last: the user signs in with them."""
    with transaction.atomic():
        # Locking every wallet of the user serialises two unlinks that would each leave
        # the other wallet as the last one.
        wallets = list(Wallet.objects.select_for_update().filter(user=user).order_by("pk"))
        wallet = next((w for w in wallets if w.pk == wallet_id), None)
        if wallet is None:
            raise NotFound("No such wallet on your account.")
        if len(wallets) == 1:
            raise LastWallet()
        wallet.delete()
    return wallet
