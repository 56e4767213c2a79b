"""Request types for annotations only, for code that only signed-in people reach (IsUser
endpoints, MANAGE access, the admin): Django and DRF build plain requests whose `user`
is then a User, never an anonymous user or an API key's principal."""

from __future__ import annotations

from django.http import HttpRequest
from rest_framework.request import Request

from accounts.models import User


class AuthenticatedHttpRequest(HttpRequest):
    user: User


class AuthenticatedRequest(Request):
    user: User
