"""The demo organization and its people, for `manage.py seed_demo` and `make run`.

The demo user's wallet is the well-known first development account of Hardhat and Anvil
(its private key is published in their docs), so a newcomer can import it into a browser
wallet and sign in as the demo user on a local server. That is also why `seed_demo` refuses
to run in production.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from accounts.cache import viewers_changed
from accounts.models import Membership, Organization, Role, User, Wallet, WalletKind
from accounts.services.wallets import (
    DEFAULT_CHAINS,
    wallet_address_parse,
    wallet_user_get_or_create,
)

DEMO_ORGANIZATION_NAME = "Fabrknt Demo"
DEMO_ORGANIZATION_SLUG = "fabrknt-demo"
DEMO_USERNAME = "demo"
DEMO_WALLET_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
DEMO_WALLET_CHAIN = "eip155:8453"
# FABRIC's demo buyer: Hardhat/Anvil development account #1, whose key is published too (so
# the demo can sign its NDA for real, and a newcomer can sign in as the buyer). Demo only.
DEMO_BUYER_USERNAME = "demo-buyer"
DEMO_BUYER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
DEMO_BUYER_ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
# Demo operators may do everything in the admin: a staff user without permissions would
# find it empty. Local only: seed_demo refuses to run in production.
OPERATOR = {"is_staff": True, "is_superuser": True}


class DemoWalletError(ValueError):
    """The --wallet address is neither an EVM address nor a Solana public key."""


@dataclass(frozen=True)
class DemoAccounts:
    organization: Organization
    user: User
    created: int  # rows created by this call (organization, users, wallets, memberships)


@transaction.atomic
def demo_accounts_ensure(*, extra_wallet: str | None = None) -> DemoAccounts:
    """The demo organization with its operator and owner "demo", and optionally one more.

    `extra_wallet` is a newcomer's own address: its user (existing, or created now so the
    wallet signs in into it) becomes an operator (staff, all admin permissions) and an owner
    of the demo organization.
    """
    created = 0
    organization, made = Organization.objects.get_or_create(
        slug=DEMO_ORGANIZATION_SLUG, defaults={"name": DEMO_ORGANIZATION_NAME}
    )
    created += made
    user, made = User.objects.get_or_create(username=DEMO_USERNAME, defaults=OPERATOR)
    created += made
    if made:
        user.set_unusable_password()  # wallet sign-in only
        user.save(update_fields=["password"])
    _operator_ensure(user)
    created += _wallet_ensure(user, "eip155", DEMO_WALLET_CHAIN, DEMO_WALLET_ADDRESS)
    created += _owner_ensure(organization, user)
    if extra_wallet:
        created += _extra_owner_ensure(organization, extra_wallet)
    return DemoAccounts(organization=organization, user=user, created=created)


@transaction.atomic
def demo_buyer_ensure() -> tuple[User, int]:
    """The demo buyer "demo-buyer" and its wallet (no member of the demo organization: a
    buyer from outside); the rows created."""
    user, made = User.objects.get_or_create(username=DEMO_BUYER_USERNAME)
    if made:
        user.set_unusable_password()  # wallet sign-in only
        user.save(update_fields=["password"])
    return user, int(made) + _wallet_ensure(user, "eip155", DEMO_WALLET_CHAIN, DEMO_BUYER_ADDRESS)


def _extra_owner_ensure(organization: Organization, address: str) -> int:
    parsed = wallet_address_parse(address=address)
    if parsed is None:
        raise DemoWalletError(f"{address!r} is neither an EVM nor a Solana address")
    existed = Wallet.objects.filter(
        kind=WalletKind.EOA, namespace=parsed.namespace, address=parsed.address
    ).exists()
    # The same user the wallet's first sign-in would create, so signing in lands in it.
    wallet = wallet_user_get_or_create(
        namespace=parsed.namespace,
        address=parsed.address,
        chain=DEFAULT_CHAINS[parsed.namespace],
    )
    _operator_ensure(wallet.user)
    return (0 if existed else 2) + _owner_ensure(organization, wallet.user)


def _operator_ensure(user: User) -> None:
    if not (user.is_staff and user.is_superuser):
        User.objects.filter(pk=user.pk).update(**OPERATOR)
        viewers_changed([user.pk])


def _wallet_ensure(user: User, namespace: str, chain: str, address: str) -> int:
    _, made = Wallet.objects.get_or_create(
        kind=WalletKind.EOA,
        namespace=namespace,
        address=address,
        defaults={"user": user, "chain": chain},
    )
    return int(made)


def _owner_ensure(organization: Organization, user: User) -> int:
    membership, made = Membership.objects.get_or_create(
        organization=organization, user=user, defaults={"role": Role.OWNER}
    )
    if not made and membership.role != Role.OWNER:
        # Re-running with --wallet promotes an existing member: an explicit operator request.
        Membership.objects.filter(pk=membership.pk).update(role=Role.OWNER)
        viewers_changed([user.pk])
    return int(made)
