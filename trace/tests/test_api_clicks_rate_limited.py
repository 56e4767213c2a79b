"""One click's rate-limit decision and its storage share one Redis round trip: a click
over the limit is refused with 429 and leaves nothing behind, wherever it is stored."""

from __future__ import annotations

import datetime as dt

import pytest
import redis
from django.conf import settings
from django.test.utils import override_settings

from fabrknt.api.rate_limit import KEY_PREFIX, REFUSED, RateLimitedScript
from trace.models import Click
from trace.selectors import campaign_realtime_clicks
from trace.services.clicks.flush import clicks_flush
from trace.services.clicks.stream import click_store_rate_limited
from trace.services.clicks.validation import ClickInput, click_campaign_cached

URL = "/api/v1/clicks"


def _limited(per_minute: int):
    return override_settings(RATE_LIMITS={**settings.RATE_LIMITS, "ingest": per_minute})


@pytest.mark.redis
def test_over_the_limit_is_429_and_stores_and_counts_nothing(ingest, campaign, redis_client):
    day = dt.datetime.now(dt.UTC)
    with _limited(2):
        statuses = []
        for number in range(4):
            body = {"campaign_id": str(campaign.pk), "click_id": f"c{number}"}
            body["user_agent"] = "Mozilla/5.0 Firefox/140.0"
            body["ip_address"] = f"203.0.113.{number}"
            statuses.append(ingest.post(URL, body))

    assert [response.status_code for response in statuses] == [202, 202, 429, 429]
    assert statuses[2].json() == {
        "detail": f"Request was throttled. Expected available in {statuses[2]['Retry-After']}"
        " seconds.",
        "code": "throttled",
    }
    # A token comes back every 30 s: 30 less what refilled while the first clicks were
    # taken (a second or so on a loaded machine: ceil(28.9) is 29).
    assert 28 <= int(statuses[2]["Retry-After"]) <= 30
    assert redis_client.xlen(settings.CLICK_STREAM_KEY) == 2
    stats = campaign_realtime_clicks(campaign_id=str(campaign.pk), day=day)
    assert (stats.clicks, stats.unique_visitors) == (2, 2)
    assert clicks_flush().inserted == 2
    assert sorted(Click.objects.values_list("click_id", flat=True)) == ["c0", "c1"]


@pytest.mark.redis
def test_the_fast_path_takes_from_the_same_bucket_as_every_other_request(
    ingest, campaign, redis_client
):
    with _limited(3):
        first = ingest.post(URL, {"campaign_id": str(campaign.pk)})  # looks the campaign up
        assert click_campaign_cached(data={"campaign_id": str(campaign.pk)}) is True
        second = ingest.post(URL, {"campaign_id": str(campaign.pk)})  # one round trip
        invalid = ingest.post(URL, {"campaign_id": str(campaign.pk), "click_id": "bad id"})
        over = [
            ingest.post(URL, {"campaign_id": str(campaign.pk)}),
            ingest.post(URL, {"campaign_id": str(campaign.pk), "click_id": "bad id"}),
            ingest.post(URL, "{"),
            ingest.post(URL, {"campaign_id": "0f2b4a4e-0000-4000-8000-000000000000"}),
        ]

    assert [first.status_code, second.status_code, invalid.status_code] == [202, 202, 400]
    assert [response.status_code for response in over] == [429, 429, 429, 429]
    assert redis_client.xlen(settings.CLICK_STREAM_KEY) == 2


@pytest.mark.redis
def test_bot_clicks_count_as_bots_through_the_combined_script(ingest, campaign, redis_client):
    ingest.post(URL, {"campaign_id": str(campaign.pk)})  # caches the campaign
    response = ingest.post(URL, {"campaign_id": str(campaign.pk), "user_agent": "curl/8.5.0"})

    assert response.status_code == 202
    stats = campaign_realtime_clicks(campaign_id=str(campaign.pk), day=dt.datetime.now(dt.UTC))
    assert (stats.clicks, stats.bot_hits) == (1, 1)
    assert redis_client.xlen(settings.CLICK_STREAM_KEY) == 2


@pytest.mark.redis
def test_a_guarded_script_runs_only_with_a_token(redis_client):
    script = RateLimitedScript("redis.call('INCR', KEYS[2])\nredis.call('SET', KEYS[3], ARGV[3])")

    decisions = [
        script(redis_client, key="guard", per_minute=2, keys=["ran", "last"], args=[str(n)])
        for n in range(3)
    ]

    assert [(d.allowed, d.retry_after) for d in decisions] == [(True, 1), (True, 1), (False, 30)]
    assert (redis_client.get("ran"), redis_client.get("last")) == (b"2", b"1")
    assert redis_client.exists(f"{KEY_PREFIX}guard") == 1


@pytest.mark.redis
def test_a_script_its_unless_refuses_takes_no_token_and_does_nothing(redis_client):
    script = RateLimitedScript(
        "redis.call('INCR', KEYS[2])",
        unless=f"if redis.call('EXISTS', KEYS[3]) == 1 then return {REFUSED} end",
    )

    def run():
        return script(redis_client, key="unless", per_minute=5, keys=["ran", "stop"], args=[])

    first = run()
    redis_client.set("stop", 1)
    refused = run()

    assert (first.allowed, refused) == (True, None)
    assert redis_client.get("ran") == b"1"
    assert float(redis_client.hget(f"{KEY_PREFIX}unless", "tokens")) == pytest.approx(4, abs=0.01)


def test_a_held_key_needs_redis_to_be_checked(campaign, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    click = ClickInput(campaign_id=str(campaign.pk), click_id="unchecked")

    with pytest.raises(redis.RedisError):
        click_store_rate_limited(click=click, bucket="down", per_minute=5, refused_if="marker")

    assert not Click.objects.exists()


@pytest.mark.usefixtures("without_redis")
def test_without_redis_the_limit_holds_and_refused_clicks_reach_no_row(campaign):
    def click(number: int) -> ClickInput:
        return ClickInput(campaign_id=str(campaign.pk), click_id=f"db-{number}")

    with _limited(2):
        decisions = [
            click_store_rate_limited(click=click(n), bucket="db-only", per_minute=2)
            for n in range(3)
        ]

    assert [d.allowed for d in decisions] == [True, True, False]
    assert sorted(Click.objects.values_list("click_id", flat=True)) == ["db-0", "db-1"]


@pytest.mark.django_db
def test_a_redis_outage_fails_open_into_the_database(campaign, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    click = ClickInput(campaign_id=str(campaign.pk), click_id="outage")

    decision = click_store_rate_limited(click=click, bucket="down", per_minute=1)

    assert decision.allowed is True
    assert list(Click.objects.values_list("click_id", flat=True)) == ["outage"]
