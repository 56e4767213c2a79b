"""Reads of accounts data for the API and the admin."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from accounts.models import ApiKey, Membership, Organization, User, Wallet
from accounts.services.wallets import wallet_address_parse


def user_wallets(*, user: User) -> QuerySet[Wallet]:
    return Wallet.objects.filter(user=user).order_by("created_at")


def user_memberships(*, user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user)
        .select_related("organization")
        .order_by("organization__name", "organization_id")
    )


def user_organizations(*, user: User) -> QuerySet[Organization]:
    return Organization.objects.filter(memberships__user=user).order_by("name", "id")


def organization_api_keys(*, organization: Organization) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(organization=organization).order_by("-created_at", "id")


def membership_role(*, organization: Organization, user: User) -> str | None:
    return (
        Membership.objects.filter(organization=organization, user=user)
        .values_list("role", flat=True)
        .first()
    )


def wallet_by_address(*, address: str) -> Wallet | None:
    """The wallet with this address in any accepted spelling, with its user."""
    parsed = wallet_address_parse(address=address)
    if parsed is None:
        return None
    return (
        Wallet.objects.select_related("user")
        .filter(namespace=parsed.namespace, address=parsed.address)
        .first()
    )


@dataclass(frozen=True)
class UserProfile:
    """What /me shows, and what a sign-in returns as `user`."""

    id: object
    wallets: list[Wallet]
    organizations: list[dict]


def user_profile(*, user: User) -> UserProfile:
    return UserProfile(
        id=user.pk,
        wallets=list(user_wallets(user=user)),
        organizations=[
            {"id": m.organization_id, "name": m.organization.name, "role": m.role}
            for m in user_memberships(user=user)
        ],
    )
