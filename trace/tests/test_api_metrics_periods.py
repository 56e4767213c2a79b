"""Periods at the ends of the calendar on the metrics and growth-certificate endpoints:
hostile dates are field errors (400), never date arithmetic that overflows (500)."""

from __future__ import annotations

import pytest

from accounts.models import Role
from accounts.tests.factories import OrganizationFactory
from trace.models import ActivityMetric, GrowthCertificate
from trace.tests.callers import member_caller
from trace.tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

TOO_EARLY = ["Ensure this value is greater than or equal to 1970-01-01."]
TOO_LATE = ["Ensure this value is less than or equal to 9998-12-31."]

HOSTILE_PERIODS = [
    ("?to=0001-01-01", {"to": TOO_EARLY}),
    ("?to=0001-01-29", {"to": TOO_EARLY}),
    ("?from=0001-01-01", {"from": TOO_EARLY}),
    ("?from=0001-01-01&to=0001-01-01", {"from": TOO_EARLY, "to": TOO_EARLY}),
    ("?from=0001-01-01&to=0001-01-30", {"from": TOO_EARLY, "to": TOO_EARLY}),
    ("?from=9999-12-31", {"from": TOO_LATE}),
    ("?to=9999-12-31", {"to": TOO_LATE}),
    ("?from=9999-12-31&to=9999-12-31", {"from": TOO_LATE, "to": TOO_LATE}),
    ("?from=9999-12-31&to=0001-01-01", {"from": TOO_LATE, "to": TOO_EARLY}),
    ("?from=0001-01-01&to=9999-12-31", {"from": TOO_EARLY, "to": TOO_LATE}),
    ("?from=1969-12-31&to=1970-01-01", {"from": TOO_EARLY}),
    ("?to=9999-01-01", {"to": TOO_LATE}),
]


@pytest.fixture
def project():
    return ProjectFactory(organization=OrganizationFactory())


@pytest.fixture
def member(project):
    return member_caller(project.organization, Role.VIEWER)


@pytest.mark.parametrize("endpoint", ["metrics", "growth-certificate"])
@pytest.mark.parametrize(("query", "errors"), HOSTILE_PERIODS, ids=[q for q, _ in HOSTILE_PERIODS])
def test_dates_at_the_ends_of_the_calendar_are_field_errors(
    member, project, endpoint, query, errors
):
    response = member.get(f"/api/v1/{endpoint}/{project.id}{query}")

    assert response.status_code == 400
    assert response.json() == {**errors, "code": "invalid"}
    assert GrowthCertificate.objects.count() == 0
    assert ActivityMetric.objects.count() == 0


@pytest.mark.parametrize("endpoint", ["metrics", "growth-certificate"])
def test_the_earliest_period_is_served(member, project, endpoint):
    response = member.get(f"/api/v1/{endpoint}/{project.id}?from=1970-01-01&to=1970-01-02")

    assert response.status_code == 200, response.content


def test_the_latest_day_reads_an_empty_period(member, project):
    response = member.get(f"/api/v1/metrics/{project.id}?from=9998-12-31")

    assert response.status_code == 200
    assert response.json() == {"project_id": str(project.id), "results": []}


def test_a_default_period_ending_on_the_earliest_day_is_served(member, project):
    # `to` alone reaches 30 days back, before the earliest day a caller may name.
    response = member.get(f"/api/v1/metrics/{project.id}?to=1970-01-01")

    assert response.status_code == 200
    assert response.json()["results"] == []
