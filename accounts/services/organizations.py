"""Organizations and their members."""

from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from accounts.models import Membership, Organization, Role, User, WalletKind
from accounts.services.wallets import DEFAULT_CHAINS, WalletAddress, wallet_user_ensure
from fabrknt.api.errors import Conflict, PermissionDenied

_SLUG_MAX = 200  # leaves room in the 220-character column for a "-<n>" suffix
_SLUG_ATTEMPTS = 5


class MembershipExists(Conflict):
    code = "already_member"


class RoleNotGrantable(PermissionDenied):
    code = "role_not_grantable"


def _free_slug(base: str) -> str:
    taken = set(Organization.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def organization_create(*, name: str, owner: User) -> Organization:
    """A new organization with `owner` as its owner and a unique slug from its name."""
    base = slugify(name)[:_SLUG_MAX].strip("-") or "organization"
    for attempt in range(_SLUG_ATTEMPTS):
        # Two creations with one name can pick the same free slug; the unique constraint
        # turns the loser back here to pick again.
        slug = (
            _free_slug(base) if attempt < _SLUG_ATTEMPTS - 1 else f"{base}-{secrets.token_hex(4)}"
        )
        try:
            with transaction.atomic():
                organization = Organization.objects.create(name=name, slug=slug)
                Membership.objects.create(organization=organization, user=owner, role=Role.OWNER)
        except IntegrityError:
            continue
        return organization
    raise RuntimeError("could not find a free organization slug")


def membership_add(
    *, organization: Organization, wallet: WalletAddress, role: str, granted_by_role: str | None
) -> Membership:
    """Add the wallet's user (created now if the wallet was never seen) with `role`.

    The address names the EOA (an address alone is no contract wallet: that is one per
    chain). Only an owner may make another owner. Raises MembershipExists when already a
    member. `granted_by_role` is the granting user's role (None: not a member).
    """
    if role == Role.OWNER and granted_by_role != Role.OWNER:
        raise RoleNotGrantable("Only an owner can add an owner.")
    user_wallet, _ = wallet_user_ensure(
        kind=WalletKind.EOA,
        namespace=wallet.namespace,
        address=wallet.address,
        chain=DEFAULT_CHAINS[wallet.namespace],
    )
    try:
        with transaction.atomic():
            return Membership.objects.create(
                organization=organization, user=user_wallet.user, role=role
            )
    except IntegrityError:
        raise MembershipExists("This wallet's user is already a member.") from None
