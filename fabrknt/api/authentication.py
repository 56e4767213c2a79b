"""How API callers prove who they are: a Bearer JWT (a user), an X-API-Key (an
organization's key) or the pages' Django session.

An API key this process authenticated a moment ago (`api_key_hold`, HELD_SECONDS) is taken
from process memory without a lookup, but only as `held`: the rate limiter's script, which
runs on every such request, first checks the key's revocation marker and takes the token
only when it is absent (`fabrknt.api.throttles`), so authentication and rate limiting cost
one Redis round trip and a revocation made anywhere still refuses the key at once. A
session costs one too: the script that reads it takes the token (`SessionAuthentication`)."""

from __future__ import annotations

from typing import cast

from django.conf import settings
from rest_framework import authentication, exceptions
from rest_framework_simplejwt.authentication import JWTAuthentication

from accounts.models import ApiKey, User
from accounts.read_ahead import token_wanted
from accounts.services.api_keys import api_key_authenticate, api_key_held, api_key_hold
from accounts.services.token_claims import token_generation_current
from fabrknt.redis_backoff import redis_skipped


class ApiKeyPrincipal:
    """`request.user` for a call made with an API key: the organization, not a person."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, api_key: ApiKey, *, held: bool = False) -> None:
        self.api_key = api_key
        self.pk = self.id = None
        self.organization_id = api_key.organization_id
        # Taken from this process's memory, not yet confirmed unrevoked: the throttle that
        # takes this request's token confirms it (ApiKeyAuthentication).
        self.held = held

    def __str__(self) -> str:
        return f"api-key:{self.api_key.prefix}"


class BearerJWTAuthentication(JWTAuthentication):
    www_authenticate_realm = "api"

    def get_user(self, validated_token):
        # simplejwt loads AUTH_USER_MODEL, which is User.
        user = cast(User, super().get_user(validated_token))
        if not token_generation_current(token=validated_token, user=user):
            raise exceptions.AuthenticationFailed(
                "Token revoked: the account signed out everywhere.", code="token_revoked"
            )
        return user


API_KEY_HEADER = "HTTP_X_API_KEY"
INVALID_KEY = "Invalid or revoked API key."


class ApiKeyAuthentication(authentication.BaseAuthentication):
    header = API_KEY_HEADER

    def authenticate(self, request):
        key = request.META.get(self.header)
        if not key:
            return None
        if _held_keys_confirmed(request):
            held = api_key_held(key=key)
            if held is not None:
                return ApiKeyPrincipal(held, held=True), held
        return api_key_authenticated(key)

    def authenticate_header(self, request) -> str:
        return "X-API-Key"


def api_key_authenticated(key: str) -> tuple[ApiKeyPrincipal, ApiKey]:
    """The key looked up (cache, else database) and held for the next requests; 401 when
    it is unknown or revoked."""
    api_key = api_key_authenticate(key=key)
    if api_key is None:
        raise exceptions.AuthenticationFailed(INVALID_KEY)
    api_key_hold(api_key=api_key)
    return ApiKeyPrincipal(api_key), api_key


class SessionAuthentication(authentication.SessionAuthentication):
    """DRF's, with the session read in a round trip that also takes the token of the view's
    first throttle (accounts/sessions.py): who is asking and their rate limit, one trip."""

    def authenticate(self, request):
        from fabrknt.api.throttles import signed_in_bucket  # throttles import this module

        view = (getattr(request, "parser_context", None) or {}).get("view")
        with token_wanted(None if view is None else signed_in_bucket(view)):
            return super().authenticate(request)


def _held_keys_confirmed(request) -> bool:
    """Whether a held key would be confirmed on this request: Redis answers, and the view
    takes a token from a bucket (a `_BucketThrottle`), whose script checks the marker."""
    if not settings.REDIS_URL or redis_skipped():
        return False
    from fabrknt.api.throttles import confirms_held_keys  # throttles import this module

    view = (getattr(request, "parser_context", None) or {}).get("view")
    return view is not None and confirms_held_keys(view)
