"""Fixtures shared by the PULSE tests."""

from __future__ import annotations

import pytest

from accounts.models import Organization
from accounts.tests.factories import OrganizationFactory
from pulse.models import Team
from pulse.tests.factories import TeamFactory


@pytest.fixture
def organization(db) -> Organization:
    return OrganizationFactory()


@pytest.fixture
def team(organization) -> Team:
    return TeamFactory(organization=organization, github_webhook_secret="team-secret-1")
