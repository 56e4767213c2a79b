"""API clients for the accounts tests: JSON bodies, a user's bearer token or an API key."""

from __future__ import annotations

from rest_framework.test import APIClient

from accounts.models import User
from accounts.services.tokens import token_pair_issue


class JsonClient(APIClient):
    """The API accepts only JSON bodies; send them by default."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.default_format = "json"


def as_user(user: User) -> JsonClient:
    client = JsonClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_pair_issue(user=user).access}")
    return client


def as_key(key: str) -> JsonClient:
    client = JsonClient()
    client.credentials(HTTP_X_API_KEY=key)
    return client
