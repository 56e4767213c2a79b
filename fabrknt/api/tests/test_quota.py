"""Usage plans: the daily quota of `read` and `write` API keys, on the real Redis of
REDIS_URL (and on a Redis of the test's own that it stops, for the fallback). The day is
moved with time-machine: the quota's day is this server's UTC clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client

from accounts.models import ApiKey
from accounts.services.api_keys import api_key_issue
from accounts.services.organizations import organization_daily_quota_set
from accounts.tests.factories import MembershipFactory, OrganizationFactory
from fabrknt.api.rate_limit import KEY_PREFIX
from trace.models import Project
from trace.tests.factories import CampaignFactory, ProjectFactory

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db]

QUOTA = 3
WALLET = "0x52908400098527886E0F7030069857D2E4169EE7"
# 2026-12-01 00:00 UTC, when the counts of 2026-11-30 end.
MIDNIGHT = int(datetime(2026, 12, 1, tzinfo=UTC).timestamp())
DAY = MIDNIGHT // 86_400 - 1  # 2026-11-30, in days since the epoch


@pytest.fixture(autouse=True)
def _redis(redis_client):
    return redis_client


@pytest.fixture
def evening():
    """2026-11-30 23:00 UTC, the clock standing still."""
    with time_machine.travel(datetime(2026, 11, 30, 23, 0, tzinfo=UTC), tick=False) as traveller:
        yield traveller


def _key(organization, *scopes: str) -> tuple[str, ApiKey]:
    issued = api_key_issue(organization=organization, name="+".join(scopes), scopes=list(scopes))
    return issued.key, issued.api_key


def _read(key: str):
    return Client().get("/api/v1/projects", HTTP_X_API_KEY=key)


def _create_project(key: str, organization, name: str):
    return Client().post(
        "/api/v1/projects",
        {
            "organization": str(organization.pk),
            "name": name,
            "chain": "eip155:1",
            "contract_addresses": [WALLET],
        },
        content_type="application/json",
        HTTP_X_API_KEY=key,
    )


def _quota_headers(response) -> tuple[str, str, str]:
    return (
        response["X-RateLimit-Limit"],
        response["X-RateLimit-Remaining"],
        response["X-RateLimit-Reset"],
    )


def _counted(redis_client, api_key: ApiKey, day: int = DAY) -> int | None:
    value = redis_client.get(f"{KEY_PREFIX}day:{day}:key:{api_key.pk}")
    return int(value) if value is not None else None


def test_a_read_key_over_its_quota_gets_429_until_midnight_utc(evening, redis_client):
    organization = OrganizationFactory(daily_request_quota=QUOTA)
    key, api_key = _key(organization, "read")

    # The first request looks the key up; the next ones take the held path (one round trip).
    answers = [_read(key) for _ in range(QUOTA)]
    refused = _read(key)

    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert [_quota_headers(answer) for answer in answers] == [
        ("3", "2", str(MIDNIGHT)),
        ("3", "1", str(MIDNIGHT)),
        ("3", "0", str(MIDNIGHT)),
    ]
    assert refused.status_code == 429
    assert refused.json() == {
        "detail": (
            "This key's daily quota of 3 requests is used up; it starts again at 00:00 UTC. "
            "Expected available in 3600 seconds."
        ),
        "code": "quota_exceeded",
    }
    assert refused["Retry-After"] == "3600"
    assert _quota_headers(refused) == ("3", "0", str(MIDNIGHT))
    assert _counted(redis_client, api_key) == QUOTA  # a refusal is not counted
    # The counter goes soon after its day.
    assert 3600 < redis_client.ttl(f"{KEY_PREFIX}day:{DAY}:key:{api_key.pk}") <= 7200


def test_a_write_key_over_its_quota_stores_nothing(evening, redis_client):
    organization = OrganizationFactory(daily_request_quota=2)
    key, api_key = _key(organization, "write")

    created = [_create_project(key, organization, f"P{n}").status_code for n in range(2)]
    refused = _create_project(key, organization, "over quota")

    assert created == [201, 201]
    assert refused.status_code == 429
    assert refused.json()["code"] == "quota_exceeded"
    assert _quota_headers(refused) == ("2", "0", str(MIDNIGHT))
    assert sorted(Project.objects.values_list("name", flat=True)) == ["P0", "P1"]
    assert _counted(redis_client, api_key) == 2


def test_other_keys_and_organizations_keep_their_own_count(evening, redis_client):
    organization = OrganizationFactory(daily_request_quota=1)
    key, _ = _key(organization, "read")
    same_organization, _ = _key(organization, "read")
    elsewhere, _ = _key(OrganizationFactory(daily_request_quota=1), "read", "write")

    assert [_read(key).status_code for _ in range(2)] == [200, 429]

    assert _read(same_organization).status_code == 200
    other = _read(elsewhere)
    assert other.status_code == 200
    assert _quota_headers(other) == ("1", "0", str(MIDNIGHT))


def test_ingest_keys_keep_their_per_minute_limit_alone(evening, redis_client):
    organization = OrganizationFactory(daily_request_quota=1)
    _, api_key = _key(organization, "ingest")
    campaign = CampaignFactory(project=ProjectFactory(organization=organization))
    ingest = Client(HTTP_X_API_KEY=api_key.publishable_key)

    clicks = [
        ingest.post(
            "/api/v1/clicks",
            {"campaign_id": str(campaign.pk), "click_id": f"c{n}"},
            content_type="application/json",
        )
        for n in range(3)
    ]
    identified = ingest.post(
        "/api/v1/identify",
        {"click_id": "c0", "wallet_address": WALLET},
        content_type="application/json",
    )

    assert [click.status_code for click in clicks] == [202, 202, 202]
    assert identified.status_code == 200
    for response in (*clicks, identified):
        assert "X-RateLimit-Limit" not in response
    assert redis_client.keys(f"{KEY_PREFIX}day:*") == []


def test_the_count_starts_again_when_the_utc_day_rolls_over(redis_client):
    organization = OrganizationFactory(daily_request_quota=2)
    key, api_key = _key(organization, "read")

    with time_machine.travel(datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC), tick=False) as clock:
        assert [_read(key).status_code for _ in range(2)] == [200, 200]
        late = _read(key)
        assert (late.status_code, late["Retry-After"]) == (429, "1")

        clock.move_to(datetime(2026, 12, 1, 0, 0, 1, tzinfo=UTC))
        next_day = _read(key)

    assert next_day.status_code == 200
    assert _quota_headers(next_day) == ("2", "1", str(MIDNIGHT + 86_400))
    assert (_counted(redis_client, api_key), _counted(redis_client, api_key, DAY + 1)) == (2, 1)


def test_the_per_minute_limit_refuses_without_counting(evening, redis_client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "api_key": 2}
    organization = OrganizationFactory(daily_request_quota=5)
    key, api_key = _key(organization, "read")

    statuses = [_read(key).status_code for _ in range(2)]
    throttled = _read(key)

    assert statuses == [200, 200]
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "throttled"
    assert 1 <= int(throttled["Retry-After"]) <= 30
    # The day's figures, with quota left: the per-minute limit refused this one.
    assert _quota_headers(throttled) == ("5", "3", str(MIDNIGHT))
    assert _counted(redis_client, api_key) == 2


def test_a_new_quota_applies_to_the_next_request(
    evening, redis_client, django_capture_on_commit_callbacks
):
    organization = OrganizationFactory(daily_request_quota=1)
    key, _ = _key(organization, "read")
    assert [_read(key).status_code for _ in range(2)] == [200, 429]  # the key is held now

    with django_capture_on_commit_callbacks(execute=True):
        organization_daily_quota_set(organization=organization, quota=3, actor=None)
    raised = _read(key)

    assert raised.status_code == 200
    assert _quota_headers(raised) == ("3", "1", str(MIDNIGHT))


def test_session_callers_have_no_quota(evening, redis_client):
    membership = MembershipFactory()
    client = Client()
    client.force_login(membership.user)

    response = client.get("/api/v1/projects")

    assert response.status_code == 200
    assert "X-RateLimit-Limit" not in response
    assert redis_client.keys(f"{KEY_PREFIX}day:*") == []


def test_while_redis_is_down_each_process_counts_on_its_own(evening, redis_server, settings):
    settings.REDIS_BACKOFF_SECONDS = 60
    organization = OrganizationFactory(daily_request_quota=2)
    key, _ = _key(organization, "read")
    assert _read(key).status_code == 200  # counted in Redis

    redis_server.stop()
    statuses = [_read(key).status_code for _ in range(3)]
    refused = _read(key)

    # This process's own count starts at 0: the quota holds per process.
    assert statuses == [200, 200, 429]
    assert refused.json()["code"] == "quota_exceeded"
    assert refused["Retry-After"] == "3600"
    assert _quota_headers(refused) == ("2", "0", str(MIDNIGHT))
