"""JWT pairs for the API: issued at sign-in, rotated on refresh.

simplejwt signs and checks the tokens; the rotation is ours because its stock refresh
serializer checks the blacklist and then blacklists with `get_or_create`, so two
concurrent refreshes of one token both succeed. Here the blacklist row is the claim: its
unique constraint lets exactly one refresh spend a token.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from accounts.services.token_claims import GENERATION_CLAIM
from fabrknt.api.errors import NotAuthenticated


class RefreshRefused(NotAuthenticated):
    code = "refresh_refused"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


def token_pair_issue(*, user: User) -> TokenPair:
    refresh = RefreshToken.for_user(user)  # also records it as outstanding
    refresh[GENERATION_CLAIM] = user.session_generation
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))


def refresh_tokens_revoke(*, user: User) -> int:
    """Spend every refresh token of the user that is not spent yet. Returns how many."""
    unspent = OutstandingToken.objects.filter(
        user=user, blacklistedtoken__isnull=True, expires_at__gt=timezone.now()
    )
    revoked = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in unspent], ignore_conflicts=True
    )
    return len(revoked)


def token_refresh(*, refresh: str) -> TokenPair:
    """Spend a refresh token for a new pair. Any token already spent is refused."""
    try:
        # Checks signature, expiry, type and blacklist. simplejwt annotates the argument as
        # a Token; it is the encoded token string.
        token = RefreshToken(refresh)  # type: ignore[arg-type]
    except TokenError as error:
        raise RefreshRefused(f"Refresh token refused: {error}.") from None
    user_id = token.payload.get(api_settings.USER_ID_CLAIM)
    try:
        user = (
            User.objects.filter(pk=user_id, is_active=True).first() if user_id is not None else None
        )
    except ValidationError:  # a signed token with a user id that is not a UUID
        user = None
    if user is None:
        raise RefreshRefused("No active account for this refresh token.")
    outstanding = OutstandingToken.objects.filter(jti=token[api_settings.JTI_CLAIM]).first()
    if outstanding is None:
        raise RefreshRefused("Refresh token was not issued here.")
    try:
        with transaction.atomic():
            BlacklistedToken.objects.create(token=outstanding)
    except IntegrityError:
        raise RefreshRefused("Refresh token already used.") from None
    return token_pair_issue(user=user)
