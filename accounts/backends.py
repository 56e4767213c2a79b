"""The session's user, read with the wallet the header shows and their memberships, from
the read cache (accounts/cache.py)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import BaseBackend

from accounts.cache import session_user
from accounts.models import User


class SessionUserBackend(BaseBackend):
    """Loads a signed-in session's user (AuthenticationMiddleware) as ModelBackend does,
    active users only, with the header's wallet address and the user's memberships known.
    Authenticates nobody: sign-in is by wallet, passwords (the admin) stay ModelBackend's,
    and permissions are ModelBackend's too (listed after this one)."""

    def get_user(self, user_id: Any) -> User | None:
        return session_user(user_id)
