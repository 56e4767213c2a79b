"""The caller's organizations and access for a DRF request: `accounts.selectors.caller_access`
for the request's user or API key, asked once per request."""

from __future__ import annotations

from rest_framework.request import Request

from accounts.models import ApiKey
from accounts.selectors import (
    INGEST,
    MANAGE,
    READ,
    WRITE,
    Access,
    CallerAccess,
    caller_access,
    viewer_memberships,
)

__all__ = ["INGEST", "MANAGE", "READ", "WRITE", "Access", "access_of"]


_MEMO = "_caller_access"


def access_of(request: Request) -> CallerAccess:
    """What the caller of this request may do (memoised on the request)."""
    cached: CallerAccess | None = getattr(request, _MEMO, None)
    if cached is None:
        api_key = request.auth if isinstance(request.auth, ApiKey) else None
        if api_key is not None:
            cached = caller_access(api_key=api_key)
        else:  # a session's user comes with their memberships (accounts/cache.py)
            user = request.user
            cached = caller_access(user=user, memberships=viewer_memberships(user))
        setattr(request, _MEMO, cached)
    return cached
