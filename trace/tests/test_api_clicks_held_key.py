"""An ingest key authenticated once is held by the process for a few seconds: its next
clicks skip the key lookup (one Redis round trip a click), and a revocation made anywhere
still refuses them at once, because the script that stores a click checks the key's
revocation marker first."""

from __future__ import annotations

import http.client
import json

import pytest
from django.conf import settings

from accounts.models import ApiKey
from accounts.services import api_keys
from accounts.services.api_keys import api_key_held, api_key_hold, api_key_issue, api_key_revoke
from accounts.tests.factories import OrganizationFactory
from fabrknt.api.rate_limit import KEY_PREFIX
from trace.api import clicks as views
from trace.models import Click
from trace.services.clicks.flush import clicks_flush
from trace.tests.factories import CampaignFactory

pytestmark = pytest.mark.redis

URL = "/api/v1/clicks"


@pytest.fixture
def lookups(monkeypatch) -> list[str]:
    """The keys the click view looked up (cache or database), in order."""
    seen: list[str] = []
    original = views.api_key_authenticate

    def counting(*, key: str):
        seen.append(key)
        return original(key=key)

    monkeypatch.setattr(views, "api_key_authenticate", counting)
    return seen


def _click(campaign, number: int) -> dict:
    return {"campaign_id": str(campaign.pk), "click_id": f"held-{number}"}


def test_later_clicks_skip_the_key_lookup_and_are_stored(ingest, campaign, redis_client, lookups):
    statuses = [ingest.post(URL, _click(campaign, number)).status_code for number in range(3)]

    assert statuses == [202, 202, 202]
    assert len(lookups) == 1
    assert redis_client.xlen(settings.CLICK_STREAM_KEY) == 3
    assert clicks_flush().inserted == 3
    assert sorted(Click.objects.values_list("click_id", flat=True)) == [
        "held-0",
        "held-1",
        "held-2",
    ]


def test_a_key_revoked_by_another_process_is_refused_at_once(ingest, campaign, redis_client):
    key = ingest.headers["HTTP_X_API_KEY"]
    assert ingest.post(URL, _click(campaign, 0)).status_code == 202
    held = api_key_held(key=key)
    assert held is not None
    bucket = f"{KEY_PREFIX}ingest:key:{held.pk}"
    tokens = redis_client.hget(bucket, "tokens")

    # Revoked elsewhere (the admin's process drops its own copy); this one still holds it.
    api_key_revoke(api_key=ApiKey.objects.get(pk=held.pk))
    api_key_hold(api_key=held)
    response = ingest.post(URL, _click(campaign, 1))

    assert response.status_code == 401
    assert response.json() == {
        "detail": "Invalid or revoked API key.",
        "code": "authentication_failed",
    }
    assert redis_client.xlen(settings.CLICK_STREAM_KEY) == 1
    assert redis_client.hget(bucket, "tokens") == tokens  # no token taken either
    assert api_key_held(key=key) is None


def test_a_held_key_is_looked_up_again_once_its_time_is_up(
    ingest, campaign, redis_client, lookups, monkeypatch
):
    monkeypatch.setattr(api_keys, "HELD_SECONDS", 0.0)

    statuses = [ingest.post(URL, _click(campaign, number)).status_code for number in range(2)]

    assert statuses == [202, 202]
    assert len(lookups) == 2


def test_a_wrong_secret_with_a_held_prefix_is_refused(ingest, campaign, redis_client):
    key = ingest.headers["HTTP_X_API_KEY"]
    assert ingest.post(URL, _click(campaign, 0)).status_code == 202
    forged = key[:-4] + ("aaaa" if not key.endswith("aaaa") else "bbbb")

    response = ingest.client.post(
        URL, _click(campaign, 1), content_type="application/json", HTTP_X_API_KEY=forged
    )

    assert response.status_code == 401
    assert redis_client.xlen(settings.CLICK_STREAM_KEY) == 1


def _post(port: int, key: str, body: dict) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(
        "POST",
        URL,
        body=json.dumps(body),
        headers={"Content-Type": "application/json", "X-API-Key": key},
    )
    status = connection.getresponse().status
    connection.close()
    return status


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_revocation_reaches_a_gunicorn_worker_that_holds_the_key(gunicorn, redis_client):
    organization = OrganizationFactory()
    campaign = CampaignFactory(organization=organization, landing_url="https://app.example/")
    issued = api_key_issue(organization=organization, name="edge", scopes=["ingest"])
    port = gunicorn(CELERY_BROKER_URL="")  # Redis: this run's, as the environment says

    before = [_post(port, issued.key, _click(campaign, number)) for number in range(2)]
    api_key_revoke(api_key=issued.api_key)
    after = _post(port, issued.key, _click(campaign, 2))

    assert (before, after) == ([202, 202], 401)
    assert redis_client.xlen(settings.CLICK_STREAM_KEY) == 2
