from __future__ import annotations

import base64
import datetime as dt
import hashlib
from decimal import Decimal
from io import StringIO

import pytest
import rfc8785
from django.core.management import call_command
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from accounts.models import Role
from accounts.tests.factories import OrganizationFactory
from trace.models import ActivityMetric, GrowthCertificate
from trace.tests.callers import Caller, key_caller, member_caller
from trace.tests.factories import (
    ActivityMetricFactory,
    ContractInteractionFactory,
    ProjectFactory,
)

TODAY = dt.datetime.now(dt.UTC).date()


def metrics_url(project_id, query: str = "") -> str:
    return f"/api/v1/metrics/{project_id}{query}"


def certificate_url(project_id, query: str = "") -> str:
    return f"/api/v1/growth-certificate/{project_id}{query}"


def day(offset: int) -> dt.date:
    return TODAY + dt.timedelta(days=offset)


@pytest.fixture
def organization(db):
    return OrganizationFactory()


@pytest.fixture
def project(organization):
    return ProjectFactory(organization=organization)


@pytest.fixture
def member(organization) -> Caller:
    return member_caller(organization, Role.VIEWER)  # the lowest role that reads


@pytest.fixture
def metric_days(project):
    # Created newest first: the answer must still be oldest first.
    for offset, volume, score in ((-1, "1250.00", 61.5), (-3, "0.10", 40.0), (-2, "7.5", 0.0)):
        ActivityMetricFactory(
            project=project,
            date=day(offset),
            dau=-offset,
            wau=10,
            mau=20,
            transaction_count=3,
            transaction_volume_usd=Decimal(volume),
            activity_score=score,
        )
    ActivityMetricFactory(project=project, date=day(-40))  # outside the default 30 days


def test_metrics_shape_and_order(member, project, metric_days):
    response = member.get(metrics_url(project.id, f"?from={day(-3)}&to={day(-1)}"))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["project_id"] == str(project.id)
    assert [
        {k: row[k] for k in ("date", "dau", "transaction_volume_usd", "activity_score")}
        for row in body["results"]
    ] == [
        {"date": str(day(-3)), "dau": 3, "transaction_volume_usd": "0.10", "activity_score": 40.0},
        {"date": str(day(-2)), "dau": 2, "transaction_volume_usd": "7.50", "activity_score": 0.0},
        {
            "date": str(day(-1)),
            "dau": 1,
            "transaction_volume_usd": "1250.00",
            "activity_score": 61.5,
        },
    ]
    assert set(body["results"][0]) >= {
        "date",
        "dau",
        "wau",
        "mau",
        "transaction_count",
        "transaction_volume_usd",
        "unpriced_transfers",
        "volume_flagged",
        "volume_flag_reason",
        "activity_score",
    }
    assert (body["results"][0]["wau"], body["results"][0]["mau"]) == (10, 20)
    assert body["results"][0]["unpriced_transfers"] == 0
    assert (body["results"][0]["volume_flagged"], body["results"][0]["volume_flag_reason"]) == (
        False,
        "",
    )
    assert body["results"][0]["transaction_count"] == 3


def test_metrics_default_is_the_last_30_days(member, project, metric_days):
    ActivityMetricFactory(project=project, date=day(-29))
    ActivityMetricFactory(project=project, date=day(-30))
    body = member.get(metrics_url(project.id)).json()
    assert [row["date"] for row in body["results"]] == [
        str(day(-29)),
        str(day(-3)),
        str(day(-2)),
        str(day(-1)),
    ]


def test_metrics_with_a_read_key(organization, project, metric_days):
    response = key_caller(organization, "read").get(metrics_url(project.id))
    assert response.status_code == 200
    assert len(response.json()["results"]) == 3


@pytest.mark.parametrize("who", ["other_member", "other_key"])
def test_metrics_of_another_organization_is_404(organization, project, metric_days, who):
    caller = {
        "other_member": lambda: member_caller(OrganizationFactory(), Role.OWNER),
        "other_key": lambda: key_caller(OrganizationFactory(), "read"),
    }[who]()
    assert caller.get(metrics_url(project.id)).status_code == 404


def test_metrics_to_the_organizations_ingest_key_is_403(organization, project, metric_days):
    response = key_caller(organization, "ingest").get(metrics_url(project.id))
    assert response.status_code == 403
    assert response.json()["detail"] == "This API key lacks the `read` scope."


def test_a_period_without_days_is_empty_for_the_organization_and_404_for_others(
    organization, project, metric_days
):
    # No days: the one statement of the read finds nothing, and the project is looked up.
    empty = metrics_url(project.id, f"?from={day(-30)}&to={day(-20)}")
    response = member_caller(organization, Role.VIEWER).get(empty)
    assert (response.status_code, response.json()["results"]) == (200, [])
    assert member_caller(OrganizationFactory(), Role.OWNER).get(empty).status_code == 404
    assert key_caller(organization, "ingest").get(empty).status_code == 403


def test_metrics_needs_credentials(project):
    assert Client().get(metrics_url(project.id)).status_code == 401


def test_unknown_or_malformed_project_is_404(member):
    assert member.get(metrics_url("2f1c5b8e-0000-4000-8000-000000000000")).status_code == 404
    assert member.get(metrics_url("not-a-uuid")).status_code == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?from=yesterday", "from"),
        ("?to=2025-02-30", "to"),
        ("?from=2025-03-02&to=2025-03-01", "from"),
        ("?from=2023-01-01&to=2025-01-01", "to"),
        ("?from=2000-01-01", "from"),  # to defaults to today: 26 years
    ],
)
def test_metrics_bad_dates_are_400(member, project, query, field):
    response = member.get(metrics_url(project.id, query))
    assert response.status_code == 400
    assert field in response.json()


# --- growth certificates ------------------------------------------------------------


def keys() -> dict[str, bytes]:
    body = Client().get("/api/v1/certificates/keys").json()
    return {key["key_id"]: base64.b64decode(key["public_key"]) for key in body["keys"]}


def test_certificate_is_signed_verifiable_and_stored(member, project):
    ContractInteractionFactory(
        project=project,
        occurred_at=dt.datetime.combine(day(-1), dt.time(8), tzinfo=dt.UTC),
        value_usd=Decimal("12.34"),
    )

    response = member.get(certificate_url(project.id, f"?from={day(-7)}&to={day(-1)}"))

    assert response.status_code == 200, response.content
    document = response.json()
    assert set(document) == {"certificate", "signature", "algorithm", "key_id"}
    assert document["algorithm"] == "ed25519"
    certificate = document["certificate"]
    assert certificate["project_id"] == str(project.id)
    assert certificate["period"] == {"from": str(day(-7)), "to": str(day(-1))}
    assert certificate["metrics"]["dau"] == 1
    assert certificate["metrics"]["transaction_volume_usd"] == "12.34"
    assert certificate["organization"] == {
        "id": str(project.organization_id),
        "name": project.organization.name,
    }
    assert certificate["contracts"] == [
        {
            "chain": project.chain,
            "address": project.contract_addresses[0],
            "control_verified": False,
        }
    ]
    assert certificate["verified_metrics"] is None
    assert {"issued_at", "valid_until", "certificate_id"} <= set(certificate)
    # What a third party does: RFC 8785 JSON of `certificate`, the published key, PyNaCl.
    canonical = rfc8785.dumps(certificate)
    public = keys()[document["key_id"]]
    VerifyKey(public).verify(canonical, base64.b64decode(document["signature"]))
    certificate["metrics"]["mau"] += 1
    tampered = rfc8785.dumps(certificate)
    with pytest.raises(BadSignatureError):
        VerifyKey(public).verify(tampered, base64.b64decode(document["signature"]))
    stored = GrowthCertificate.objects.get()
    assert str(stored.id) == certificate["certificate_id"]
    assert stored.project == project


def test_certificate_with_a_read_key(organization, project):
    response = key_caller(organization, "read").get(certificate_url(project.id))
    assert response.status_code == 200
    assert response.json()["certificate"]["period"]["to"] == str(day(-1))


@pytest.mark.parametrize(
    "query",
    [f"?from={day(-1)}&to={day(-2)}", f"?to={day(1)}", "?from=2025-13-01", "?from=1999-01-01"],
)
def test_certificate_bad_period_is_400_and_stores_nothing(member, project, query):
    response = member.get(certificate_url(project.id, query))
    assert response.status_code == 400
    assert GrowthCertificate.objects.count() == 0
    assert ActivityMetric.objects.count() == 0


def test_certificate_of_another_organization_is_404_and_stores_nothing(project):
    stranger = member_caller(OrganizationFactory())
    assert stranger.get(certificate_url(project.id)).status_code == 404
    assert Client().get(certificate_url(project.id)).status_code == 401
    assert GrowthCertificate.objects.count() == 0


def test_keys_are_public(db):
    response = Client().get("/api/v1/certificates/keys", HTTP_AUTHORIZATION="Bearer garbage")
    assert response.status_code == 200
    [key] = response.json()["keys"]
    assert key["algorithm"] == "ed25519"
    raw = base64.b64decode(key["public_key"])
    assert len(raw) == 32
    assert key["key_id"] == hashlib.sha256(raw).hexdigest()[:16]


def test_endpoints_are_in_the_openapi_schema():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    metrics = paths["/api/v1/metrics/{project_id}"]["get"]
    assert {p["name"] for p in metrics["parameters"]} >= {"project_id", "from", "to"}
    assert "200" in metrics["responses"]
    assert "200" in paths["/api/v1/growth-certificate/{project_id}"]["get"]["responses"]
    assert "200" in paths["/api/v1/certificates/keys"]["get"]["responses"]


# --- money sums that do not overflow --------------------------------------------------

# Each below the 10^18 the old value column held; in cents, past a 64-bit integer.
HUGE = Decimal("900000000000000000.00")


def test_three_huge_transfers_answer_200_with_the_exact_sum(member, project):
    """Regression (issue 7): the 64-bit cents sum overflowed, so aggregate_metrics stopped
    and growth-certificate answered 500."""
    for hour in (1, 2, 3):
        ContractInteractionFactory(
            project=project,
            occurred_at=dt.datetime.combine(day(-1), dt.time(hour), tzinfo=dt.UTC),
            value_usd=HUGE,
        )

    call_command(
        "aggregate_metrics", "--project", str(project.id), "--from", str(day(-1)),
        "--to", str(day(-1)), stdout=StringIO(), stderr=StringIO(),
    )  # fmt: skip

    response = member.get(metrics_url(project.id, f"?from={day(-1)}&to={day(-1)}"))
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert (row["transaction_count"], row["transaction_volume_usd"], row["volume_flagged"]) == (
        3,
        "2700000000000000000.00",
        True,
    )
    assert row["volume_flag_reason"] == (
        "volume above the daily cap of 100000000000 USD (METRICS_DAILY_VOLUME_CAP_USD)"
    )
    response = member.get(certificate_url(project.id, f"?from={day(-7)}&to={day(-1)}"))
    assert response.status_code == 200
    metrics = response.json()["certificate"]["metrics"]
    assert (metrics["transaction_count"], metrics["transaction_volume_usd"]) == (
        3,
        "2700000000000000000.00",
    )
    assert (metrics["unpriced_transfers"], metrics["volume_flagged_days"]) == (0, 1)
