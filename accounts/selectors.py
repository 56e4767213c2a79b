"""Reads of accounts data for the API, the pages and the admin.

`caller_access` is the one answer to "which organizations may this user or key see, and
with what access": API views (through `fabrknt.api.access`), pages and the click fast path
all ask it. The organization of an object it hands out names the request's log lines.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypedDict, TypeVar

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import Case, Model, Prefetch, QuerySet, Value, When

from accounts.models import (
    ROLE_RANK,
    ApiKey,
    AuditEvent,
    Membership,
    NotificationSettings,
    Organization,
    Role,
    Scope,
    User,
    Wallet,
    WalletKind,
)
from accounts.services.wallets import wallet_address_parse
from fabrknt.api.errors import NotFound, PermissionDenied
from fabrknt.ops.logs import log_context_bind

M = TypeVar("M", bound=Model)
# Whoever `request.user` is: a signed-in User, or an anonymous one who may see nothing.
Caller = AbstractBaseUser | AnonymousUser


@dataclass(frozen=True)
class Access:
    """A kind of access: the key scope that grants it (None: people only, keys never) and
    the lowest membership role that does."""

    scope: str | None
    min_role: str


READ = Access(Scope.READ, Role.VIEWER)
WRITE = Access(Scope.WRITE, Role.MEMBER)
INGEST = Access(Scope.INGEST, Role.MEMBER)
# People only: members and keys are managed by owners and admins.
MANAGE = Access(None, Role.ADMIN)
# People only: deleting an organization and handing over its ownership.
OWN = Access(None, Role.OWNER)


class CallerAccess:
    """What one caller (a user, or an organization's API key) may do in which organization.

    A user acts through their memberships with their role; a key acts for its own
    organization within its scopes. Objects of organizations the caller is not of are
    NotFound (their existence is never revealed); its own organization's objects that its
    role or scopes do not grant are PermissionDenied, saying what is lacking (`refusal`).
    A deleted organization is seen by nobody. A user's memberships are
    read once, when first needed; `scoped` filters with a subquery and reads nothing itself.
    """

    def __init__(self, *, user: Caller | None = None, api_key: ApiKey | None = None) -> None:
        self.api_key = api_key
        self.user = user if api_key is None and isinstance(user, User) and user.pk else None

    @cached_property
    def roles(self) -> dict[uuid.UUID, str]:
        if self.user is None:
            return {}
        return dict(_live_memberships(self.user).values_list("organization_id", "role"))

    def allows(self, organization_id: object, access: Access) -> bool:
        organization_id = _as_uuid(organization_id)
        if organization_id is None:
            return False
        if self.api_key is not None:
            return (
                access.scope is not None
                and organization_id == self.api_key.organization_id
                and self.api_key.has_scope(access.scope)
            )
        role = self.roles.get(organization_id)
        return role is not None and ROLE_RANK[role] >= ROLE_RANK[access.min_role]

    def belongs(self, organization_id: object) -> bool:
        """The caller is of this organization (a key's own, a user's membership), whatever
        its scopes or role: what it is refused there is a 403, not a 404."""
        organization_id = _as_uuid(organization_id)
        if self.api_key is not None:
            return organization_id == self.api_key.organization_id
        return organization_id is not None and organization_id in self.roles

    def denial(self, organization_id: object, access: Access) -> NotFound | PermissionDenied:
        """What refusing `access` to an object of `organization_id` answers: a 403 saying
        what is lacking to a caller of that organization, a 404 to anyone else."""
        return self.refusal(access) if self.belongs(organization_id) else NotFound()

    def organization_ids(self, access: Access = READ) -> list[uuid.UUID]:
        """The organizations this caller may act for with `access`."""
        if self.api_key is not None:
            key_organization = self.api_key.organization_id
            return [key_organization] if self.allows(key_organization, access) else []
        return [pk for pk in self.roles if self.allows(pk, access)]

    def role(self, organization_id: object) -> str | None:
        organization_id = _as_uuid(organization_id)
        return None if organization_id is None else self.roles.get(organization_id)

    def scoped(
        self, queryset: QuerySet[M], access: Access = READ, *, via: str = "organization"
    ) -> QuerySet[M]:
        """The part of `queryset` whose organization (reached through `via`, a field path
        ending at the organization's foreign key, or `pk` for organizations themselves)
        this caller may act for with `access`. A key without the scope is refused
        (PermissionDenied) rather than shown nothing: its own organization's objects are
        there, and it lacks the scope to see them."""
        self._refuse_a_key_without(access)
        return queryset.filter(**{f"{via}__in": self._organizations(access)})

    def acting_for(self, access: Access = READ) -> list[uuid.UUID]:
        """`organization_ids`, sorted, refusing a key without the scope as `scoped` does:
        what a read of the caller's organizations' objects depends on (a cache's part)."""
        self._refuse_a_key_without(access)
        return sorted(self.organization_ids(access))

    def _refuse_a_key_without(self, access: Access) -> None:
        if self.api_key is not None and not self.allows(self.api_key.organization_id, access):
            raise self.refusal(access)

    def get(
        self,
        queryset: QuerySet[M],
        access: Access = READ,
        *,
        via: str = "organization",
        **lookup: object,
    ) -> M:
        """One object of the caller's own organizations (NotFound otherwise: another
        organization's objects are never revealed); PermissionDenied when the caller's role
        or scopes do not grant `access` on it."""
        obj = queryset.filter(**{f"{via}__in": self._own_organizations()}, **lookup).first()
        if obj is None:
            raise NotFound()
        if "__" not in via:  # the id is on the object: no query to learn it
            log_context_bind(organization_id=_organization_id_of(obj, via))
        if self._checks(access) and not self.allows(_organization_id_of(obj, via), access):
            raise self.refusal(access)
        return obj

    def admit(self, organization_id: object, access: Access = READ) -> None:
        """`get`'s decision for an object of `organization_id` read without it (from the
        read cache): NotFound unless it is of the caller's own organizations,
        PermissionDenied when the caller's role or scopes do not grant `access` on it."""
        if not self.belongs(organization_id):
            raise NotFound()
        log_context_bind(organization_id=organization_id)
        if self._checks(access) and not self.allows(organization_id, access):
            raise self.refusal(access)

    def _checks(self, access: Access) -> bool:
        """Whether granting `access` to a caller of the organization needs a check: every
        role reads (viewer is the lowest), so a user's READ needs no roles read."""
        return access != READ or self.user is None

    def refusal(self, access: Access) -> PermissionDenied:
        """The 403 of a caller of the organization that lacks `access` there, saying why."""
        if self.api_key is None:
            return PermissionDenied(f"This needs the {access.min_role} role or above.")
        if access.scope is None:
            return PermissionDenied("API keys cannot do this: it is for people signed in.")
        return PermissionDenied(f"This API key lacks the `{access.scope}` scope.")

    def organization(self, organization_id: object, access: Access = READ) -> Organization:
        alive: QuerySet[Organization] = Organization.objects.alive()
        return self.get(alive, access, via="pk", pk=_as_uuid(organization_id))

    def _own_organizations(self) -> list[uuid.UUID] | QuerySet[Membership, Any]:
        """A key's organization, whatever its scopes; a user's, whatever their role."""
        if self.api_key is not None:
            return [self.api_key.organization_id]
        return self._organizations(READ)

    def _organizations(self, access: Access) -> list[uuid.UUID] | QuerySet[Membership, Any]:
        if self.user is None or "roles" in self.__dict__:
            return self.organization_ids(access)
        ranks = [role for role, rank in ROLE_RANK.items() if rank >= ROLE_RANK[access.min_role]]
        return _live_memberships(self.user).filter(role__in=ranks).values("organization_id")


def _live_memberships(user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user, organization__deleted_at__isnull=True)


def caller_access(
    *,
    user: Caller | None = None,
    api_key: ApiKey | None = None,
    memberships: Iterable[Membership] | None = None,
) -> CallerAccess:
    """What this user or this key may do (see CallerAccess); an anonymous user, nothing.

    `memberships`, the user's live memberships already read (`user_memberships`, as the
    pages' header does, or a session's user came with: `viewer_memberships`), spares
    reading them again."""
    access = CallerAccess(user=user, api_key=api_key)
    if memberships is not None and access.user is not None:
        access.__dict__["roles"] = {m.organization_id: m.role for m in memberships}
    return access


def _as_uuid(value: object) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _organization_id_of(obj: Model, via: str) -> object:
    """The organization id at the end of the field path `via` from `obj`."""
    *path, last = via.split("__")
    for part in path:
        obj = getattr(obj, part)
    if last in ("pk", "id") and isinstance(obj, Organization):
        return obj.pk
    return getattr(obj, f"{last}_id")


def user_wallets(*, user: User) -> QuerySet[Wallet]:
    return Wallet.objects.filter(user=user).order_by("created_at")


def user_notification_settings(*, user: User) -> NotificationSettings:
    """The user's mail settings: the defaults (no address, every kind on) until they set any."""
    return NotificationSettings.objects.filter(user=user).first() or NotificationSettings(user=user)


def user_memberships(*, user: User) -> QuerySet[Membership]:
    return (
        _live_memberships(user)
        .select_related("organization")
        .order_by("organization__name", "organization_id")
    )


_VIEWER_MEMBERSHIPS = "_viewer_memberships"


def viewer_memberships_known(user: User, memberships: list[Membership]) -> None:
    # An attribute (not the instance's __dict__ only): request.user is a lazy proxy of it.
    setattr(user, _VIEWER_MEMBERSHIPS, memberships)


def viewer_memberships(user: object) -> list[Membership] | None:
    """The user's live memberships when they were read with the session's user
    (accounts/cache.py), else None."""
    memberships: list[Membership] | None = getattr(user, _VIEWER_MEMBERSHIPS, None)
    return memberships


def user_organizations(*, user: User) -> QuerySet[Organization]:
    return Organization.objects.alive().filter(memberships__user=user).order_by("name", "id")


def organization_api_keys(*, organization: Organization) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(organization=organization).order_by("-created_at", "id")


def organization_publishable_keys(*, organization_id: uuid.UUID) -> QuerySet[ApiKey]:
    """The organization's active `ingest`-only keys, whole: they may sit in public pages."""
    return (
        ApiKey.objects.active()
        .filter(organization_id=organization_id)
        .exclude(publishable_key="")
        .order_by("-created_at", "id")
    )


def organization_members(*, organization: Organization) -> QuerySet[Membership]:
    """Members, owners first, each with their wallets (one query for all of them)."""
    rank = Case(*(When(role=role, then=Value(-r)) for role, r in ROLE_RANK.items()))
    return (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .prefetch_related(Prefetch("user__wallets", queryset=Wallet.objects.order_by("created_at")))
        .order_by(rank, "created_at", "id")
    )


@dataclass(frozen=True)
class AuditFilters:
    action: str = ""
    actor_id: uuid.UUID | None = None
    since: dt.date | None = None
    until: dt.date | None = None


def organization_audit_events(
    *, organization: Organization, filters: AuditFilters | None = None
) -> QuerySet[AuditEvent]:
    """The organization's audit log, newest first, narrowed by `filters` (days inclusive)."""
    filters = filters or AuditFilters()
    events = (
        AuditEvent.objects.filter(organization=organization)
        .select_related("actor")
        .prefetch_related(
            Prefetch("actor__wallets", queryset=Wallet.objects.order_by("created_at"))
        )
    )
    if filters.action:
        events = events.filter(action=filters.action)
    if filters.actor_id is not None:
        events = events.filter(actor_id=filters.actor_id)
    if filters.since is not None:
        events = events.filter(at__date__gte=filters.since)
    if filters.until is not None:
        events = events.filter(at__date__lte=filters.until)
    return events.order_by("-at", "-id")


def membership_role(*, organization: Organization, user: User) -> str | None:
    return (
        Membership.objects.filter(organization=organization, user=user)
        .values_list("role", flat=True)
        .first()
    )


def wallet_by_address(*, address: str, chain: str | None = None) -> Wallet | None:
    """The wallet at this address (in any accepted spelling), with its user: the EOA, or
    with `chain` (CAIP-2) the contract wallet at that address on that chain. An address
    alone never names a contract wallet: the same address on two chains is two wallets."""
    parsed = wallet_address_parse(address=address)
    if parsed is None:
        return None
    wallets = Wallet.objects.select_related("user").filter(address=parsed.address)
    if chain is None:
        return wallets.filter(kind=WalletKind.EOA, namespace=parsed.namespace).first()
    return wallets.filter(kind=WalletKind.CONTRACT, chain=chain).first()


class ProfileOrganization(TypedDict):
    id: uuid.UUID
    name: str
    role: str


@dataclass(frozen=True)
class UserProfile:
    """What /me shows, and what a sign-in returns as `user`."""

    id: object
    wallets: list[Wallet]
    organizations: list[ProfileOrganization]


def user_profile(*, user: User) -> UserProfile:
    return UserProfile(
        id=user.pk,
        wallets=list(user_wallets(user=user)),
        organizations=[
            {"id": m.organization_id, "name": m.organization.name, "role": m.role}
            for m in user_memberships(user=user)
        ],
    )
