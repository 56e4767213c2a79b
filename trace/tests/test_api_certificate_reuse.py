"""GET /api/v1/growth-certificate/{project_id} returns the stored certificate for the same
period and the same data, instead of minting one per call (issue 7, item 12)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from trace.models import GrowthCertificate
from trace.tests.callers import member_caller
from trace.tests.factories import (
    ContractInteractionFactory,
    ContractVerificationFactory,
    ProjectFactory,
)

pytestmark = pytest.mark.django_db

YESTERDAY = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
PERIOD = f"?from={YESTERDAY - dt.timedelta(days=6)}&to={YESTERDAY}"


@pytest.fixture
def project():
    project = ProjectFactory()
    ContractInteractionFactory(
        project=project,
        occurred_at=dt.datetime.combine(YESTERDAY, dt.time(8), tzinfo=dt.UTC),
        value_usd=Decimal("12.34"),
    )
    return project


def ask(caller, project, period: str = PERIOD) -> dict:
    response = caller.get(f"/api/v1/growth-certificate/{project.pk}{period}")
    assert response.status_code == 200, response.content
    return response.json()


def test_asking_twice_returns_the_stored_certificate(project):
    member = member_caller(project.organization)

    first, second = ask(member, project), ask(member, project)

    assert GrowthCertificate.objects.count() == 1
    assert second == first


def test_new_data_makes_a_new_certificate_and_then_that_one_is_returned(project):
    member = member_caller(project.organization)
    first = ask(member, project)
    ContractInteractionFactory(
        project=project,
        occurred_at=dt.datetime.combine(YESTERDAY, dt.time(9), tzinfo=dt.UTC),
        value_usd=Decimal("1.00"),
    )

    second, third = ask(member, project), ask(member, project)

    assert GrowthCertificate.objects.count() == 2
    assert second["certificate"]["certificate_id"] != first["certificate"]["certificate_id"]
    assert second["certificate"]["metrics"]["transaction_volume_usd"] == "13.34"
    assert third == second


def test_another_period_is_another_certificate(project):
    member = member_caller(project.organization)
    ask(member, project)
    ask(member, project, f"?from={YESTERDAY}&to={YESTERDAY}")
    assert GrowthCertificate.objects.count() == 2


@pytest.mark.parametrize("change", ["verification", "organization_name", "contracts"])
def test_what_the_certificate_names_is_data_too(project, change):
    member = member_caller(project.organization)
    first = ask(member, project)
    if change == "verification":
        ContractVerificationFactory(project=project)
    elif change == "organization_name":
        project.organization.name = "Renamed Labs"
        project.organization.save()
    else:
        project.contract_addresses = [*project.contract_addresses, "0x" + "ab" * 20]
        project.save()

    second = ask(member, project)

    assert GrowthCertificate.objects.count() == 2
    assert second["certificate"]["certificate_id"] != first["certificate"]["certificate_id"]
