"""Single-use tokens for `/ws/live?token=…`, for clients that send no session cookie.

A token lives in the shared cache for TOKEN_SECONDS under its hash (the cache never holds
a usable token). Consuming it deletes it: of two handshakes racing with one token, only
the one whose delete removed the key gets the user."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.utils import timezone

from accounts.models import User
from fabrknt.api.errors import Unavailable
from fabrknt.redis_backoff import REDIS_ERRORS

TOKEN_SECONDS = 60


@dataclass(frozen=True)
class LiveToken:
    token: str
    expires_at: datetime


def _key(token: str) -> str:
    return "live:token:" + hashlib.sha256(token.encode()).hexdigest()


def live_token_issue(*, user: User) -> LiveToken:
    token = secrets.token_urlsafe(32)
    try:
        cache.set(_key(token), user.pk, TOKEN_SECONDS)
    except REDIS_ERRORS as error:
        raise Unavailable("Live tokens are unavailable: the cache is down.") from error
    return LiveToken(token=token, expires_at=timezone.now() + timedelta(seconds=TOKEN_SECONDS))


def live_token_consume(token: str) -> User | None:
    """The active user the token was issued to, once; None for a token unknown, expired or
    already used (or while the cache is down)."""
    if not token or len(token) > 128:
        return None
    key = _key(token)
    try:
        user_id = cache.get(key)
        if user_id is None or not cache.delete(key):
            return None
    except REDIS_ERRORS:
        return None
    return User.objects.filter(pk=user_id, is_active=True).first()
