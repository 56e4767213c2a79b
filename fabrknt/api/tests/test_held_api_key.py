"""An API key authenticated once is held by the process for a few seconds: the API's next
requests with it skip the lookup, and the rate limiter's script confirms it is not revoked
in the round trip that takes the token. A revocation made anywhere refuses it at once."""

from __future__ import annotations

import pytest
from django.conf import settings

from accounts.models import ApiKey
from accounts.services import api_keys
from accounts.services.api_keys import api_key_held, api_key_hold, api_key_issue, api_key_revoke
from fabrknt.api import authentication
from fabrknt.api.rate_limit import KEY_PREFIX
from fabrknt.redis_backoff import redis_failed
from trace.tests.factories import CampaignFactory

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db]

URL = "/api/v1/campaigns"


@pytest.fixture
def lookups(monkeypatch) -> list[str]:
    """The keys looked up (cache or database) by the API's authentication, in order."""
    seen: list[str] = []
    original = authentication.api_key_authenticate

    def counting(*, key: str):
        seen.append(key)
        return original(key=key)

    monkeypatch.setattr(authentication, "api_key_authenticate", counting)
    return seen


@pytest.fixture
def read_key(db):
    campaign = CampaignFactory()
    return api_key_issue(organization=campaign.organization, name="reader", scopes=["read"])


def _get(client, key: str):
    return client.get(URL, HTTP_X_API_KEY=key)


def test_later_requests_skip_the_lookup_and_still_take_a_token(
    client, read_key, redis_client, lookups, settings
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "api_key": 3}

    statuses = [_get(client, read_key.key).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    assert lookups == [read_key.key]


def test_a_key_revoked_by_another_process_is_refused_at_once(client, read_key, redis_client):
    assert _get(client, read_key.key).status_code == 200
    held = api_key_held(key=read_key.key)
    assert held is not None
    bucket = f"{KEY_PREFIX}key:{held.pk}"
    tokens = redis_client.hget(bucket, "tokens")

    # Revoked elsewhere (the admin's process drops its own copy); this one still holds it.
    api_key_revoke(api_key=ApiKey.objects.get(pk=held.pk))
    api_key_hold(api_key=held)
    response = _get(client, read_key.key)

    assert response.status_code == 401
    assert response.json() == {
        "detail": "Invalid or revoked API key.",
        "code": "authentication_failed",
    }
    assert redis_client.hget(bucket, "tokens") == tokens  # no token taken
    assert api_key_held(key=read_key.key) is None


def test_a_wrong_secret_with_a_held_prefix_is_refused(client, read_key, redis_client):
    assert _get(client, read_key.key).status_code == 200
    forged = read_key.key[:-4] + ("aaaa" if not read_key.key.endswith("aaaa") else "bbbb")

    assert _get(client, forged).status_code == 401


def test_a_held_key_is_looked_up_again_once_its_time_is_up(
    client, read_key, redis_client, lookups, monkeypatch
):
    monkeypatch.setattr(api_keys, "HELD_SECONDS", 0.0)

    assert [_get(client, read_key.key).status_code for _ in range(2)] == [200, 200]
    assert len(lookups) == 2


def test_without_redis_the_key_is_looked_up_every_time(client, read_key, redis_client, lookups):
    assert _get(client, read_key.key).status_code == 200
    redis_failed(ConnectionError("gone"), during="a test")  # backing off from Redis

    assert _get(client, read_key.key).status_code == 200
    api_key_revoke(api_key=read_key.api_key)
    api_key_hold(api_key=read_key.api_key)
    assert _get(client, read_key.key).status_code == 401
    assert len(lookups) == 3


def test_a_held_read_key_does_not_open_the_click_fast_path(client, read_key, redis_client):
    campaign = CampaignFactory(project__organization=read_key.api_key.organization)
    assert _get(client, read_key.key).status_code == 200
    assert api_key_held(key=read_key.key) is not None

    response = client.post(
        "/api/v1/clicks",
        data={"campaign_id": str(campaign.pk), "click_id": "not-mine"},
        content_type="application/json",
        HTTP_X_API_KEY=read_key.key,
    )

    assert response.status_code == 403
    assert redis_client.xlen(settings.CLICK_STREAM_KEY) == 0
