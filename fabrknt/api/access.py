"""Which organizations a caller may act for, and the 404-before-403 rule for objects.

A user acts through their memberships, with a minimum role; an API key acts for its own
organization, within its scopes. Objects of an organization the caller cannot read are
404 (their existence is never revealed); readable but not writable is 403.
"""

from __future__ import annotations

from django.db.models import Model, QuerySet
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request

from accounts.models import ROLE_RANK, ApiKey, Membership, Role, Scope

READ = (Scope.READ, Role.VIEWER)
WRITE = (Scope.WRITE, Role.MEMBER)
INGEST = (Scope.INGEST, Role.MEMBER)
MANAGE = (None, Role.ADMIN)  # people only: members and keys are managed by owners/admins


def organization_ids(request: Request, access: tuple[str | None, str]) -> list:
    """Ids of the organizations the caller may act for with this kind of access."""
    scope, min_role = access
    if isinstance(request.auth, ApiKey):
        if scope is not None and request.auth.has_scope(scope):
            return [request.auth.organization_id]
        return []
    user = request.user
    if not user or not user.is_authenticated:
        return []
    roles = [role for role, rank in ROLE_RANK.items() if rank >= ROLE_RANK[min_role]]
    return list(
        Membership.objects.filter(user=user, role__in=roles).values_list(
            "organization_id", flat=True
        )
    )


def can_act_for(request: Request, organization_id, access: tuple[str | None, str]) -> bool:
    return organization_id in organization_ids(request, access)


def scoped(queryset: QuerySet, request: Request, access=READ, *, field="organization") -> QuerySet:
    """The part of `queryset` that belongs to organizations the caller may act for."""
    return queryset.filter(**{f"{field}__in": organization_ids(request, access)})


def get_for(
    request: Request, queryset: QuerySet, *, access=READ, field="organization", **lookup
) -> Model:
    """One object, 404 if the caller cannot read it, 403 if it can read but not `access`."""
    obj = scoped(queryset, request, READ, field=field).filter(**lookup).first()
    if obj is None:
        raise NotFound()
    if access != READ:
        owner_id = _organization_id(obj, field)
        if not can_act_for(request, owner_id, access):
            raise PermissionDenied()
    return obj


def _organization_id(obj: Model, field: str):
    for part in field.split("__")[:-1]:
        obj = getattr(obj, part)
    return getattr(obj, f"{field.split('__')[-1]}_id")
