"""Organizations and their members: create, rename, add, change roles, remove, transfer
ownership, export and delete. Every change is recorded in the audit log.

Role rules (the same for the API and the pages; owners and admins reach these services,
`accounts.selectors.MANAGE`): only an owner makes, changes or removes an owner, and an
organization always keeps at least one owner.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.cache import organization_viewers_changed
from accounts.models import (
    DAILY_REQUEST_QUOTA_MAX,
    AuditAction,
    Membership,
    Organization,
    Role,
    User,
    WalletKind,
)
from accounts.services.api_keys import api_key_revoke, api_keys_reload
from accounts.services.audit import audit_record
from accounts.services.wallets import DEFAULT_CHAINS, WalletAddress, wallet_user_ensure
from fabrknt.api.errors import Conflict, InvalidInput, PermissionDenied
from fabrknt.live.access import access_changed

_SLUG_MAX = 200  # leaves room in the 220-character column for a "-<n>" suffix
_SLUG_ATTEMPTS = 5
# Deletion needs an export downloaded this recently: the owners hold their current data.
EXPORT_FRESHNESS = timedelta(hours=24)


class MembershipExists(Conflict):
    code = "already_member"


class RoleNotGrantable(PermissionDenied):
    code = "role_not_grantable"


class OwnerProtected(PermissionDenied):
    code = "owner_protected"
    default_detail = "Only an owner can change or remove an owner."


class LastOwner(Conflict):
    code = "last_owner"
    default_detail = "An organization needs an owner: make someone else owner first."


class ExportRequired(Conflict):
    code = "export_required"
    default_detail = "Download the organization's export first (within the last 24 hours)."


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
                audit_record(
                    organization_id=organization.pk,
                    actor=owner,
                    action=AuditAction.ORGANIZATION_CREATED,
                    target=organization,
                )
        except IntegrityError:
            continue
        return organization
    raise RuntimeError("could not find a free organization slug")


def organization_update(*, organization: Organization, name: str, actor: User) -> Organization:
    """Rename; nothing is recorded when nothing changed."""
    if name == organization.name:
        return organization
    previous = organization.name
    with transaction.atomic():
        organization.name = name
        organization.save(update_fields=["name"])
        audit_record(
            organization_id=organization.pk,
            actor=actor,
            action=AuditAction.ORGANIZATION_UPDATED,
            target=organization,
            details={"name": {"from": previous, "to": name}},
        )
    return organization


def organization_daily_quota_set(
    *, organization: Organization, quota: int, actor: User | None
) -> Organization:
    """Set how many requests a UTC day each of the organization's `read` and `write` keys
    may make (`fabrknt.api.quota`). Counts so far today stay: a lower quota than a key's
    count refuses it at once. Nothing is recorded when nothing changed."""
    if isinstance(quota, bool) or not 1 <= quota <= DAILY_REQUEST_QUOTA_MAX:
        raise InvalidInput(
            fields={
                "daily_request_quota": [
                    f"A whole number of requests from 1 to {DAILY_REQUEST_QUOTA_MAX:,}."
                ]
            }
        )
    if quota == organization.daily_request_quota:
        return organization
    previous = organization.daily_request_quota
    with transaction.atomic():
        organization.daily_request_quota = quota
        organization.save(update_fields=["daily_request_quota"])
        audit_record(
            organization_id=organization.pk,
            actor=actor,
            action=AuditAction.ORGANIZATION_UPDATED,
            target=organization,
            details={"daily_request_quota": {"from": previous, "to": quota}},
        )
        # Keys carry the quota in their cached copies: after the commit, so that a lookup
        # cannot cache the old figure again.
        transaction.on_commit(lambda: api_keys_reload(organization_id=organization.pk))
    return organization


def membership_add(
    *,
    organization: Organization,
    wallet: WalletAddress,
    role: str,
    granted_by_role: str | None,
    actor: User | None = None,
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
            membership = Membership.objects.create(
                organization=organization, user=user_wallet.user, role=role
            )
            audit_record(
                organization_id=organization.pk,
                actor=actor,
                action=AuditAction.MEMBER_ADDED,
                target=user_wallet.user,
                label=wallet.address,
                details={"role": role},
            )
    except IntegrityError:
        raise MembershipExists("This wallet's user is already a member.") from None
    return membership


def _locked_membership(membership: Membership) -> Membership:
    """The membership's current row, locked with every owner row of its organization, so
    that two demotions cannot each leave the other as the last owner."""
    list(
        Membership.objects.select_for_update()
        .filter(organization_id=membership.organization_id, role=Role.OWNER)
        .values_list("pk", flat=True)
    )
    return Membership.objects.select_for_update().get(pk=membership.pk)


def _owner_count(organization_id: uuid.UUID) -> int:
    return Membership.objects.filter(organization_id=organization_id, role=Role.OWNER).count()


def membership_role_change(
    *, membership: Membership, role: str, changed_by_role: str | None, actor: User
) -> Membership:
    """Give a member another role: an owner's role, or the owner role, only by an owner;
    never the last owner's."""
    if role == Role.OWNER and changed_by_role != Role.OWNER:
        raise RoleNotGrantable("Only an owner can make an owner.")
    with transaction.atomic():
        current = _locked_membership(membership)
        if current.role == role:
            return current
        if current.role == Role.OWNER:
            if changed_by_role != Role.OWNER:
                raise OwnerProtected()
            if _owner_count(current.organization_id) == 1:
                raise LastOwner()
        previous = current.role
        current.role = role
        current.save(update_fields=["role"])
        audit_record(
            organization_id=current.organization_id,
            actor=actor,
            action=AuditAction.MEMBER_ROLE_CHANGED,
            target=current.user,
            label=_member_label(current.user),
            details={"role": {"from": previous, "to": role}},
        )
        access_changed(user_id=current.user_id)
    return current


def membership_remove(
    *, membership: Membership, removed_by_role: str | None, actor: User
) -> Membership:
    """Take a member out: an owner only by an owner, and never the last owner."""
    with transaction.atomic():
        current = _locked_membership(membership)
        if current.role == Role.OWNER:
            if removed_by_role != Role.OWNER:
                raise OwnerProtected()
            if _owner_count(current.organization_id) == 1:
                raise LastOwner()
        current.delete()
        audit_record(
            organization_id=current.organization_id,
            actor=actor,
            action=AuditAction.MEMBER_REMOVED,
            target=current.user,
            label=_member_label(current.user),
            details={"role": current.role},
        )
        access_changed(user_id=current.user_id)
    return current


def ownership_transfer(*, organization: Organization, to: Membership, actor: User) -> Membership:
    """Make `to` an owner and the acting owner an admin, in one step."""
    if to.organization_id != organization.pk or to.user_id == actor.pk:
        raise Conflict("Choose another member of this organization.", code="invalid_member")
    with transaction.atomic():
        giver = (
            Membership.objects.select_for_update()
            .filter(organization=organization, user=actor, role=Role.OWNER)
            .first()
        )
        if giver is None:
            raise OwnerProtected("Only an owner can transfer ownership.")
        receiver = Membership.objects.select_for_update().get(pk=to.pk)
        previous = receiver.role
        receiver.role = Role.OWNER
        receiver.save(update_fields=["role"])
        giver.role = Role.ADMIN
        giver.save(update_fields=["role"])
        audit_record(
            organization_id=organization.pk,
            actor=actor,
            action=AuditAction.OWNERSHIP_TRANSFERRED,
            target=receiver.user,
            label=_member_label(receiver.user),
            details={"role": {"from": previous, "to": Role.OWNER}, "previous_owner_role": "admin"},
        )
    return receiver


def organization_exported(*, organization: Organization, actor: User) -> None:
    """Note that the organization's export was downloaded (deletion needs a fresh one)."""
    with transaction.atomic():
        now = timezone.now()
        Organization.objects.filter(pk=organization.pk).update(exported_at=now)
        organization.exported_at = now
        organization_viewers_changed(organization.pk)  # their memberships name it
        audit_record(
            organization_id=organization.pk,
            actor=actor,
            action=AuditAction.ORGANIZATION_EXPORTED,
            target=organization,
        )


def organization_export_is_fresh(*, organization: Organization) -> bool:
    """Whether an export was downloaded recently enough for the organization's deletion."""
    exported_at = organization.exported_at
    return exported_at is not None and timezone.now() - exported_at <= EXPORT_FRESHNESS


def organization_delete(*, organization: Organization, actor: User) -> Organization:
    """Soft-delete: hidden from pages and the API from now on, its keys revoked at once.
    Needs an export downloaded within EXPORT_FRESHNESS."""
    if not organization_export_is_fresh(organization=organization):
        raise ExportRequired()
    now = timezone.now()
    with transaction.atomic():
        deleted = Organization.objects.filter(pk=organization.pk, deleted_at__isnull=True).update(
            deleted_at=now
        )
        if not deleted:
            return organization  # someone else deleted it meanwhile
        organization.deleted_at = now
        organization_viewers_changed(organization.pk)  # no longer among their memberships
        from fabric.cache import organization_listings_changed

        organization_listings_changed(organization.pk)  # off the market, cached or not
        for api_key in organization.api_keys.active():
            api_key_revoke(api_key=api_key, actor=actor)
        audit_record(
            organization_id=organization.pk,
            actor=actor,
            action=AuditAction.ORGANIZATION_DELETED,
            target=organization,
        )
    return organization


def _member_label(user: User) -> str:
    """A member as people know them: their first wallet's address, else the username."""
    wallet = user.wallets.order_by("created_at").first()
    return wallet.address if wallet else user.get_username()
