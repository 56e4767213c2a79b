"""The current organization: the one the header's selector shows, kept in the session.

Pages that act in one organization take it from the URL; opening one makes it current,
so the header always names the organization on screen.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from accounts.models import Membership, Organization, User
from accounts.selectors import CallerAccess, caller_access, user_memberships, viewer_memberships

SESSION_KEY = "current_organization_id"
_MEMO = "_organization_memberships"
_ACCESS_MEMO = "_page_caller_access"


def _signed_in(request: HttpRequest) -> User | None:
    """The signed-in user: not an API key, which DRF puts in `request.user` of the API's
    HTML views (the Swagger UI page) rendered with this module's context processor."""
    user = request.user
    return user if isinstance(user, User) and user.is_authenticated else None


def memberships_of(request: HttpRequest) -> list[Membership]:
    """The signed-in user's memberships (live organizations): those read with the session's
    user (accounts.backends), else read once per request."""
    cached: list[Membership] | None = getattr(request, _MEMO, None)
    if cached is None:
        user = _signed_in(request)
        if user is None:
            cached = []
        else:
            known = viewer_memberships(user)
            cached = list(user_memberships(user=user)) if known is None else known
        setattr(request, _MEMO, cached)
    return cached


def page_access(request: HttpRequest) -> CallerAccess:
    """`caller_access` for the signed-in user of a page, once per request, its roles taken
    from `memberships_of` (which the header reads anyway): one membership query a page."""
    cached: CallerAccess | None = getattr(request, _ACCESS_MEMO, None)
    if cached is None:
        user = request.user
        memberships = memberships_of(request) if user.is_authenticated else None
        cached = caller_access(user=user, memberships=memberships)
        setattr(request, _ACCESS_MEMO, cached)
    return cached


def current_membership(request: HttpRequest) -> Membership | None:
    """The chosen organization's membership, else the first one, else None (no team yet)."""
    memberships = memberships_of(request)
    chosen = request.session.get(SESSION_KEY)
    for membership in memberships:
        if str(membership.organization_id) == chosen:
            return membership
    return memberships[0] if memberships else None


def current_organization_choose(request: HttpRequest, organization: Organization) -> None:
    # Written only when it changes: an unchanged session is not saved again (no UPDATE).
    if request.session.get(SESSION_KEY) != str(organization.pk):
        request.session[SESSION_KEY] = str(organization.pk)


def current_organization_forget(request: HttpRequest, organization: Organization) -> None:
    if request.session.get(SESSION_KEY) == str(organization.pk):
        del request.session[SESSION_KEY]


def organizations(request: HttpRequest) -> dict[str, Any]:
    """Context processor: the header's organization selector."""
    if _signed_in(request) is None:
        return {}
    return {
        "organization_memberships": memberships_of(request),
        "current_membership": current_membership(request),
    }
