"""Endpoint-level gates. Per-organization checks live in `fabrknt.api.access`."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from accounts.models import ApiKey


class IsSignedIn(BasePermission):
    """A signed-in user or a valid API key."""

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated)


class IsUser(BasePermission):
    """A person signed in with a wallet; API keys are refused."""

    message = "This endpoint needs a signed-in user, not an API key."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated) and not isinstance(
            request.auth, ApiKey
        )


class IsStaff(IsUser):
    message = "Staff only."

    def has_permission(self, request, view) -> bool:
        return super().has_permission(request, view) and request.user.is_staff
