"""The usage plan on the organization's API-keys page and in the admin: each key's
requests today against the daily quota (counted on the real Redis of REDIS_URL), and the
quota's form: valid, invalid (a message, nothing stored) and forbidden (403)."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import AuditAction, AuditEvent, Organization, Role
from accounts.services.api_keys import api_key_issue, api_key_revoke
from accounts.tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _redis(redis_client):
    return redis_client


@pytest.fixture
def organization() -> Organization:
    return OrganizationFactory(name="Acme Growth", daily_request_quota=5)


def _as(organization: Organization, role: str) -> Client:
    client = Client()
    client.force_login(MembershipFactory(organization=organization, role=role).user)
    return client


def _page(organization: Organization) -> str:
    return f"/organizations/{organization.pk}/api-keys/"


def _quota_events(organization: Organization) -> list[dict]:
    return [
        event.details
        for event in AuditEvent.objects.filter(
            organization=organization, action=AuditAction.ORGANIZATION_UPDATED
        )
    ]


def _usage_cells(html: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r'<td data-testid="quota-usage">(.*?)</td>', html)
    ]


def test_the_page_shows_each_keys_requests_today_against_the_quota(organization):
    backend = api_key_issue(organization=organization, name="Backend", scopes=["read"])
    api_key_issue(organization=organization, name="Site", scopes=["ingest"])
    old = api_key_issue(organization=organization, name="Old", scopes=["write"])
    api_key_revoke(api_key=old.api_key)
    for _ in range(2):
        assert Client().get("/api/v1/projects", HTTP_X_API_KEY=backend.key).status_code == 200

    response = _as(organization, Role.ADMIN).get(_page(organization))

    assert response.status_code == 200
    # Newest first: Old (revoked), Site (ingest), Backend.
    assert _usage_cells(response.text) == ["—", "per-minute limit only", "2 of 5"]
    assert '<strong data-testid="daily-quota">5</strong>' in response.text
    assert 'name="daily_request_quota" value="5"' in response.text


def test_a_key_at_its_quota_is_marked(organization):
    large = OrganizationFactory(daily_request_quota=100_000)
    backend = api_key_issue(organization=large, name="Backend", scopes=["read"])
    for _ in range(2):
        Client().get("/api/v1/projects", HTTP_X_API_KEY=backend.key)
    small = api_key_issue(organization=organization, name="Small", scopes=["read"])
    statuses = [
        Client().get("/api/v1/projects", HTTP_X_API_KEY=small.key).status_code for _ in range(6)
    ]

    assert statuses == [200] * 5 + [429]
    assert _usage_cells(_as(organization, Role.OWNER).get(_page(organization)).text) == [
        "5 of 5 quota reached"
    ]
    assert _usage_cells(_as(large, Role.OWNER).get(_page(large)).text) == ["2 of 100,000"]


def test_while_redis_is_down_the_page_says_the_counts_are_unavailable(
    organization, redis_server, settings
):
    settings.REDIS_BACKOFF_SECONDS = 60
    api_key_issue(organization=organization, name="Backend", scopes=["read"])
    redis_server.stop()

    response = _as(organization, Role.OWNER).get(_page(organization))

    assert response.status_code == 200
    assert _usage_cells(response.text) == ["unavailable"]
    assert "Today's counts are unavailable" in response.text


def test_an_owner_sets_the_quota(organization):
    response = _as(organization, Role.OWNER).post(
        _page(organization), {"daily_request_quota": "250000"}, follow=True
    )

    assert response.redirect_chain == [(_page(organization), 303)]
    assert "Daily quota saved: 250,000 requests per key." in response.text
    organization.refresh_from_db()
    assert organization.daily_request_quota == 250_000
    assert _quota_events(organization) == [{"daily_request_quota": {"from": 5, "to": 250_000}}]


def test_the_export_carries_the_quota(organization):
    response = _as(organization, Role.OWNER).get(f"/organizations/{organization.pk}/export")

    document = json.loads(b"".join(response.streaming_content))
    assert document["organization"]["daily_request_quota"] == 5


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "Ensure this value is greater than or equal to 1."),
        ("-3", "Ensure this value is greater than or equal to 1."),
        ("1000000001", "Ensure this value is less than or equal to 1000000000."),
        ("1.5", "Enter a whole number."),
        ("lots", "Enter a whole number."),
        ("", "This field is required."),
    ],
)
def test_a_bad_quota_is_refused_with_a_message_and_nothing_stored(organization, value, message):
    response = _as(organization, Role.ADMIN).post(
        _page(organization), {"daily_request_quota": value}
    )

    assert response.status_code == 400
    assert message in response.text
    organization.refresh_from_db()
    assert organization.daily_request_quota == 5
    assert _quota_events(organization) == []


@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
def test_members_and_viewers_may_neither_see_nor_set_the_quota(organization, role):
    client = _as(organization, role)

    assert client.get(_page(organization)).status_code == 403
    assert client.post(_page(organization), {"daily_request_quota": "9"}).status_code == 403
    organization.refresh_from_db()
    assert organization.daily_request_quota == 5


def test_another_organizations_page_is_not_found(organization):
    stranger = _as(OrganizationFactory(), Role.OWNER)

    assert stranger.post(_page(organization), {"daily_request_quota": "9"}).status_code == 404
    organization.refresh_from_db()
    assert organization.daily_request_quota == 5


def _admin_change(organization: Organization, quota: str) -> dict[str, str]:
    return {
        "name": organization.name,
        "slug": organization.slug,
        "daily_request_quota": quota,
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }


def test_an_operator_sets_the_quota_in_the_admin(organization):
    operator = Client()
    operator.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:accounts_organization_change", args=[organization.pk])

    refused = operator.post(url, _admin_change(organization, "0"))
    organization.refresh_from_db()
    assert refused.status_code == 200  # the form again, with the error
    assert "Ensure this value is greater than or equal to 1." in refused.text
    assert organization.daily_request_quota == 5

    saved = operator.post(url, _admin_change(organization, "20"))

    assert saved.status_code == 302
    organization.refresh_from_db()
    assert organization.daily_request_quota == 20
    assert _quota_events(organization) == [{"daily_request_quota": {"from": 5, "to": 20}}]
