"""Fixtures for the TRACE core tests (projects, campaigns, clicks, attribution, ROI)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client
from django.test.utils import override_settings
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import Organization, Role, User
from accounts.services.api_keys import api_key_issue
from accounts.tests.factories import MembershipFactory, OrganizationFactory
from trace.services.clicks import campaign_cache_clear
from trace.tests.factories import CampaignFactory, ProjectFactory


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


def key_caller(organization: Organization, *scopes: str) -> Caller:
    issued = api_key_issue(organization=organization, name="test", scopes=list(scopes))
    return Caller(Client(), organization, {"HTTP_X_API_KEY": issued.key})


def member_caller(organization: Organization, role: str = Role.MEMBER) -> Caller:
    membership = MembershipFactory(organization=organization, role=role)
    token = AccessToken.for_user(membership.user)
    return Caller(
        Client(), organization, {"HTTP_AUTHORIZATION": f"Bearer {token}"}, membership.user
    )


@pytest.fixture(autouse=True)
def _fresh_campaign_cache():
    campaign_cache_clear()
    yield
    campaign_cache_clear()


@pytest.fixture
def without_redis():
    """Clicks straight to the database, whatever REDIS_URL the run has."""
    with override_settings(REDIS_URL=""):
        yield


@pytest.fixture
def organization(db) -> Organization:
    return OrganizationFactory()


@pytest.fixture
def project(organization):
    return ProjectFactory(organization=organization)


@pytest.fixture
def campaign(project):
    return CampaignFactory(project=project, landing_url="https://app.example.com/start?ref=x")


@pytest.fixture
def ingest(organization) -> Caller:
    return key_caller(organization, "ingest")


@pytest.fixture
def member(organization) -> Caller:
    return member_caller(organization)
