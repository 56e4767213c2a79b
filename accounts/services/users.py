"""Actions on users: an operator's, and a user's own on their account."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from accounts.cache import viewers_changed
from accounts.models import User
from accounts.services.tokens import refresh_tokens_revoke
from fabrknt.live.access import access_changed


def user_grant_staff(*, user: User, superuser: bool = False) -> User:
    """Let the user into the admin (and, with `superuser`, grant every permission)."""
    user.is_staff = True
    fields = ["is_staff"]
    if superuser:
        user.is_superuser = True
        fields.append("is_superuser")
    user.save(update_fields=fields)
    return user


def user_sign_out_everywhere(*, user: User) -> int:
    """End every session of the user (each browser's, this one's too) and revoke their API
    tokens: refresh tokens spent, access tokens refused from now on. Returns how many
    refresh tokens were revoked. Its open live connections are closed."""
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
        access_changed(user_id=user.pk)
        viewers_changed([user.pk])  # a session's cached user holds its generation
        user.refresh_from_db(fields=["session_generation"])
        return refresh_tokens_revoke(user=user)
