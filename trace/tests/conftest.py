"""Fixtures shared by the TRACE tests."""

from __future__ import annotations

import pytest
from django.test.utils import override_settings

from accounts.models import Organization
from accounts.tests.factories import OrganizationFactory
from trace.services.clicks.validation import campaign_cache_clear
from trace.tests.callers import Caller, key_caller, member_caller
from trace.tests.factories import CampaignFactory, ProjectFactory


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
