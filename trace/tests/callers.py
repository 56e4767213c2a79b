"""API callers for the TRACE tests: one per way of calling (API key, member's token)."""

from __future__ import annotations

from dataclasses import dataclass

from django.test import Client
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import Organization, Role, User
from accounts.services.api_keys import api_key_issue
from accounts.tests.factories import MembershipFactory


@dataclass
class Caller:
    """A JSON client for one way of calling the API, and the organization it acts for."""

    client: Client
    organization: Organization
    headers: dict
    user: User | None = None

    def post(self, path: str, data: object, **extra):
        return self.client.post(
            path, data=data, content_type="application/json", **self.headers, **extra
        )

    def get(self, path: str, **extra):
        return self.client.get(path, **self.headers, **extra)

    def patch(self, path: str, data: object, **extra):
        return self.client.patch(
            path, data=data, content_type="application/json", **self.headers, **extra
        )

    def delete(self, path: str, **extra):
        return self.client.delete(path, **self.headers, **extra)


def key_caller(organization: Organization, *scopes: str) -> Caller:
    issued = api_key_issue(organization=organization, name="test", scopes=list(scopes))
    return Caller(Client(), organization, {"HTTP_X_API_KEY": issued.key})


def member_caller(organization: Organization, role: str = Role.MEMBER) -> Caller:
    membership = MembershipFactory(organization=organization, role=role)
    token = AccessToken.for_user(membership.user)
    return Caller(
        Client(), organization, {"HTTP_AUTHORIZATION": f"Bearer {token}"}, membership.user
    )
