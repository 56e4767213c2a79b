"""projects_with_latest_metric, written out as correlated subqueries (_OfProject): each
project's campaign count, whether it has on-chain activity, and its last complete day's
metrics (today's only when there is nothing before), in two queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import OrganizationFactory
from trace.models import CampaignStatus, Project
from trace.selectors import projects_with_latest_metric
from trace.tests.factories import (
    ActivityMetricFactory,
    CampaignFactory,
    ContractInteractionFactory,
    ProjectFactory,
)


@pytest.mark.django_db
def test_counts_activity_and_latest_complete_day():
    organization = OrganizationFactory()
    today = timezone.localdate()
    busy = ProjectFactory(organization=organization, name="a busy")
    for status in (CampaignStatus.ACTIVE, CampaignStatus.ARCHIVED, CampaignStatus.PAUSED):
        CampaignFactory(organization=organization, project=busy, status=status)
    ContractInteractionFactory(project=busy)
    ContractInteractionFactory(project=busy)
    for offset in (0, -1, -5):
        ActivityMetricFactory(project=busy, date=today + dt.timedelta(days=offset))
    fresh = ProjectFactory(organization=organization, name="b fresh")  # today's day only
    ActivityMetricFactory(project=fresh, date=today)
    ProjectFactory(organization=organization, name="c bare")  # nothing at all
    other = ProjectFactory(name="d other organization")
    CampaignFactory(organization=other.organization, project=other)
    ContractInteractionFactory(project=other)
    ActivityMetricFactory(project=other, date=today - dt.timedelta(days=1))

    with CaptureQueriesContext(connection) as queries:
        projects = projects_with_latest_metric(Project.objects.filter(organization=organization))
    assert len(queries) == 2
    assert [p.name for p in projects] == ["a busy", "b fresh", "c bare"]
    assert [p.campaign_count for p in projects] == [3, 0, 0]
    assert [p.has_activity for p in projects] == [True, False, False]
    assert [p.latest.date if p.latest else None for p in projects] == [
        today - dt.timedelta(days=1),
        today,
        None,
    ]
    assert projects[0].organization == organization  # joined, no query
