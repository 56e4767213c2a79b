"""Operator actions on users."""

from __future__ import annotations

from accounts.models import User


def user_grant_staff(*, user: User, superuser: bool = False) -> User:
    """Let the user into the admin (and, with `superuser`, grant every permission)."""
    user.is_staff = True
    fields = ["is_staff"]
    if superuser:
        user.is_superuser = True
        fields.append("is_superuser")
    user.save(update_fields=fields)
    return user
