"""How API callers prove who they are: a Bearer JWT (a user), an X-API-Key (an
organization's key) or the pages' Django session."""

from __future__ import annotations

from typing import cast

from rest_framework import authentication, exceptions
from rest_framework_simplejwt.authentication import JWTAuthentication

from accounts.models import ApiKey, User
from accounts.services.api_keys import api_key_authenticate
from accounts.services.token_claims import token_generation_current


class ApiKeyPrincipal:
    """`request.user` for a call made with an API key: the organization, not a person."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, api_key: ApiKey) -> None:
        self.api_key = api_key
        self.pk = self.id = None
        self.organization_id = api_key.organization_id

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


class ApiKeyAuthentication(authentication.BaseAuthentication):
    header = "HTTP_X_API_KEY"

    def authenticate(self, request):
        key = request.META.get(self.header)
        if not key:
            return None
        api_key = api_key_authenticate(key=key)
        if api_key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        return ApiKeyPrincipal(api_key), api_key

    def authenticate_header(self, request) -> str:
        return "X-API-Key"
