"""429 with Retry-After per client network, user, API key and on sign-in. These run on the
per-process token bucket without REDIS_URL and on the Redis one with it."""

from __future__ import annotations

import pytest
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import SignInNonce
from accounts.services.api_keys import api_key_issue
from accounts.tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

LIMITS = {"anonymous": 2, "user": 3, "api_key": 4, "sign_in": 2, "ingest": 5}


@pytest.fixture(autouse=True)
def low_limits(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, **LIMITS}


def assert_throttled(response) -> None:
    assert response.status_code == 429
    assert response.json()["detail"].startswith("Request was throttled.")
    assert 1 <= int(response["Retry-After"]) <= 60


def statuses(client, path: str, times: int, **extra) -> list[int]:
    return [client.get(path, **extra).status_code for _ in range(times)]


@pytest.fixture
def user_headers():
    return {"HTTP_AUTHORIZATION": f"Bearer {AccessToken.for_user(UserFactory())}"}


@pytest.fixture
def key_headers():
    issued = api_key_issue(organization=OrganizationFactory(), name="ci", scopes=["read"])
    return {"HTTP_X_API_KEY": issued.key}


@pytest.mark.urls("fabrknt.api.tests.urls")
def test_anonymous_callers_are_limited_per_address(client):
    assert statuses(client, "/api/v1/open", 2, REMOTE_ADDR="198.51.100.1") == [200, 200]

    refused = client.get("/api/v1/open", REMOTE_ADDR="198.51.100.1")

    assert_throttled(refused)
    assert client.get("/api/v1/open", REMOTE_ADDR="198.51.100.2").status_code == 200


@pytest.mark.urls("fabrknt.api.tests.urls")
def test_ipv6_callers_share_their_64(client):
    assert statuses(client, "/api/v1/open", 2, REMOTE_ADDR="2001:db8:1:2::1") == [200, 200]

    assert_throttled(client.get("/api/v1/open", REMOTE_ADDR="2001:db8:1:2::ffff"))
    assert client.get("/api/v1/open", REMOTE_ADDR="2001:db8:1:3::1").status_code == 200


@pytest.mark.urls("fabrknt.api.tests.urls")
def test_callers_behind_our_load_balancer_are_limited_per_client(client, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/16"]
    via_load_balancer = {"REMOTE_ADDR": "10.0.1.5"}

    first = {"HTTP_X_FORWARDED_FOR": "198.51.100.1", **via_load_balancer}
    assert statuses(client, "/api/v1/open", 2, **first) == [200, 200]
    assert_throttled(client.get("/api/v1/open", **first))
    # Claiming another address left of what the load balancer saw changes nothing.
    spoofed = {"HTTP_X_FORWARDED_FOR": "192.0.2.1, 198.51.100.1", **via_load_balancer}
    assert_throttled(client.get("/api/v1/open", **spoofed))
    other = {"HTTP_X_FORWARDED_FOR": "198.51.100.2", **via_load_balancer}
    assert client.get("/api/v1/open", **other).status_code == 200
    # An IPv6 client behind it is counted by its /64.
    ipv6 = [{"HTTP_X_FORWARDED_FOR": f"2001:db8:1:2::{n}", **via_load_balancer} for n in (1, 2)]
    assert [client.get("/api/v1/open", **meta).status_code for meta in ipv6] == [200, 200]
    assert_throttled(
        client.get("/api/v1/open", HTTP_X_FORWARDED_FOR="2001:db8:1:2::3", **via_load_balancer)
    )


@pytest.mark.urls("fabrknt.api.tests.urls")
def test_users_are_limited_per_user_not_per_address(client, user_headers):
    assert statuses(client, "/api/v1/signed-in", 3, **user_headers) == [200, 200, 200]

    assert_throttled(client.get("/api/v1/signed-in", REMOTE_ADDR="198.51.100.9", **user_headers))
    other_user = {"HTTP_AUTHORIZATION": f"Bearer {AccessToken.for_user(UserFactory())}"}
    assert client.get("/api/v1/signed-in", **other_user).status_code == 200
    # The user's budget is not the address's: anonymous callers there still get theirs.
    assert client.get("/api/v1/open").status_code == 200


@pytest.mark.urls("fabrknt.api.tests.urls")
def test_api_keys_are_limited_per_key(client, key_headers):
    assert statuses(client, "/api/v1/signed-in", 4, **key_headers) == [200] * 4

    assert_throttled(client.get("/api/v1/signed-in", **key_headers))
    other = api_key_issue(organization=OrganizationFactory(), name="b", scopes=["read"])
    assert client.get("/api/v1/signed-in", HTTP_X_API_KEY=other.key).status_code == 200


@pytest.mark.urls("fabrknt.api.tests.urls")
def test_ingest_endpoints_have_their_own_budget(client, key_headers):
    assert statuses(client, "/api/v1/ingest", 5, **key_headers) == [200] * 5

    assert_throttled(client.get("/api/v1/ingest", **key_headers))
    assert client.get("/api/v1/signed-in", **key_headers).status_code == 200


@pytest.mark.urls("fabrknt.api.tests.urls")
def test_sign_in_budget_is_separate_from_the_general_one(client):
    assert statuses(client, "/api/v1/sign-in", 2) == [200, 200]

    assert_throttled(client.get("/api/v1/sign-in"))
    assert client.get("/api/v1/open").status_code == 200


def test_nonce_endpoint_is_limited_and_a_refused_call_stores_nothing(client):
    assert statuses(client, "/api/v1/auth/nonce", 2) == [200, 200]

    refused = client.get("/api/v1/auth/nonce")

    assert_throttled(refused)
    assert SignInNonce.objects.count() == 2


def test_anonymous_limit_applies_to_the_nonce_endpoint_too(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sign_in": 100, "anonymous": 1}

    assert client.get("/api/v1/auth/nonce").status_code == 200
    assert_throttled(client.get("/api/v1/auth/nonce"))
    assert SignInNonce.objects.count() == 1


def test_health_probes_are_never_limited(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "anonymous": 1}

    assert statuses(client, "/healthz", 5) == [200] * 5
