"""Fixtures shared by the TRACE tests."""

from __future__ import annotations

import pytest
from django.test.utils import override_settings

from accounts.models import Organization
from accounts.tests.factories import OrganizationFactory
from fabrknt.security.tests import local_site as outgoing
from trace.tests.callers import Caller, key_caller, member_caller
from trace.tests.factories import CampaignFactory, ProjectFactory

# A real HTTP server on 127.0.0.1 and a fake DNS (fabrknt.security.tests.local_site).
local_site = outgoing.local_site
fake_dns = outgoing.fake_dns


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


@pytest.fixture
def local_verification(settings, local_site, fake_dns) -> outgoing.LocalSite:
    """Development's settings for the landing-domain check, pointed at the local site:
    shop.example.com resolves to it, over http, on its port."""
    settings.DOMAIN_VERIFICATION_ALLOW_PRIVATE = True
    settings.DOMAIN_VERIFICATION_SCHEME = "http"
    settings.DOMAIN_VERIFICATION_PORT = local_site.port
    settings.DOMAIN_VERIFICATION_TIMEOUT_SECONDS = 0.5
    settings.DOMAIN_VERIFICATION_MAX_BYTES = 256
    fake_dns.answers["shop.example.com"] = ["127.0.0.1"]
    return local_site
