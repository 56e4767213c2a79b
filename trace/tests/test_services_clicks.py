from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import override_settings

from trace.models import CampaignDay, Click
from trace.services.bots import click_bot_reason
from trace.services.clicks import database, flush, records, tracking, validation
from trace.services.clicks import stream as click_stream
from trace.services.clicks.flush import STREAM_GROUP, clicks_flush
from trace.services.clicks.stream import clicks_store
from trace.services.clicks.validation import ClickInput, ClickRejected, click_parse
from trace.tests.factories import CampaignFactory


def _parse(campaign, **fields):
    return click_parse(
        data={"campaign_id": str(campaign.pk), **fields},
        organization_ids={str(campaign.organization_id)},
    )


# --- validation ---------------------------------------------------------------------------


def test_parse_accepts_full_click_and_normalizes(campaign):
    click = _parse(
        campaign,
        click_id="abc_DEF-123",
        referrer="https://twitter.com/x",
        utm_params={"utm_source": "twitter"},
        user_agent="Mozilla/5.0 Firefox/140.0",
        ip_address="::ffff:198.51.100.7",
    )
    assert click == ClickInput(
        campaign_id=str(campaign.pk),
        click_id="abc_DEF-123",
        referrer="https://twitter.com/x",
        utm_params={"utm_source": "twitter"},
        user_agent="Mozilla/5.0 Firefox/140.0",
        ip_address="198.51.100.7",
    )


def test_parse_generates_click_id(campaign):
    click = _parse(campaign)
    assert len(click.click_id) == 32
    assert int(click.click_id, 16) >= 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"click_id": "has space"}, "click_id"),
        ({"click_id": "x" * 65}, "click_id"),
        ({"click_id": 12}, "click_id"),
        ({"referrer": "r" * 2049}, "referrer"),
        ({"referrer": "bad\x00byte"}, "referrer"),
        ({"user_agent": "u" * 513}, "user_agent"),
        ({"user_agent": "\ud800"}, "user_agent"),
        ({"utm_params": {"utm_source": 3}}, "utm_params"),
        ({"utm_params": ["utm_source"]}, "utm_params"),
        ({"utm_params": {f"k{i}": "v" for i in range(21)}}, "utm_params"),
        ({"ip_address": "300.1.1.1"}, "ip_address"),
        ({"ip_address": "fe80::1%eth0"}, "ip_address"),
        ({"campaign_id": "not-a-uuid"}, "campaign_id"),
        ({"campaign_id": 5}, "campaign_id"),
    ],
)
def test_parse_refuses_bad_fields(campaign, fields, field):
    with pytest.raises(ClickRejected) as caught:
        _parse(campaign, **fields)
    assert list(caught.value.errors) == [field]
    assert caught.value.unknown_campaign is False


def test_parse_refuses_other_organizations_campaign(campaign):
    other = CampaignFactory()
    with pytest.raises(ClickRejected) as caught:
        click_parse(
            data={"campaign_id": str(other.pk)}, organization_ids={str(campaign.organization_id)}
        )
    assert caught.value.errors == {"campaign_id": ["No such campaign."]}
    assert caught.value.unknown_campaign is True


def test_parse_refuses_non_object(db):
    with pytest.raises(ClickRejected) as caught:
        click_parse(data=[1], organization_ids=set())
    assert caught.value.errors == {"non_field_errors": ["Expected a JSON object."]}


@pytest.mark.parametrize(
    ("user_agent", "method", "reason"),
    [
        (
            "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
            "GET",
            "user_agent:slackbot",
        ),
        ("Twitterbot/1.0", "GET", "user_agent:twitterbot"),
        ("facebookexternalhit/1.1", "GET", "user_agent:facebookexternalhit"),
        ("Mozilla/5.0 (compatible; Discordbot/2.0)", "GET", "user_agent:discordbot"),
        ("TelegramBot (like TwitterBot)", "GET", "user_agent:telegrambot"),
        ("LinkedInBot/1.0", "GET", "user_agent:linkedinbot"),
        ("WhatsApp/2.23.20.0", "GET", "user_agent:whatsapp"),
        ("curl/8.5.0", "GET", "user_agent:curl"),
        ("Wget/1.21", "GET", "user_agent:wget"),
        ("python-requests/2.32", "GET", "user_agent:python-requests"),
        ("", "GET", "empty_user_agent"),
        ("Mozilla/5.0 Firefox/140.0", "HEAD", "head_request"),
        ("Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36", "GET", ""),
    ],
)
def test_bot_reason(user_agent, method, reason):
    assert click_bot_reason(user_agent=user_agent, method=method) == reason


# --- privacy ------------------------------------------------------------------------------


def test_ip_truncated_unless_full_ip_setting():
    assert validation.ip_for_storage("203.0.113.77") == "203.0.113.0"
    assert validation.ip_for_storage("2001:db8:abcd:12::1") == "2001:db8:abcd::"
    assert validation.ip_for_storage("") == ""
    with override_settings(STORE_FULL_IP=True):
        assert validation.ip_for_storage("203.0.113.77") == "203.0.113.77"


def test_visitor_hash_rotates_daily_and_separates_campaigns():
    same = {"campaign_id": "c1", "ip": "203.0.113.7", "user_agent": "UA"}
    monday = records.visitor_hash(day="20260105", **same)
    assert monday == records.visitor_hash(day="20260105", **same)
    assert monday != records.visitor_hash(day="20260106", **same)
    assert monday != records.visitor_hash(day="20260105", **{**same, "campaign_id": "c2"})
    assert len(monday) == 64
    assert records.visitor_hash(day="20260105", campaign_id="c1", ip="", user_agent="") == ""


# --- storing without Redis ----------------------------------------------------------------


@pytest.mark.usefixtures("without_redis")
def test_store_without_redis_writes_rows_once(campaign):
    click = _parse(
        campaign, click_id="direct-1", ip_address="203.0.113.9", user_agent="Mozilla/5.0"
    )
    clicks_store(clicks=[click])
    clicks_store(clicks=[click])  # a retry
    row = Click.objects.get()
    assert (row.click_id, row.campaign_id, row.ip_address, row.is_bot) == (
        "direct-1",
        campaign.pk,
        "203.0.113.0",
        False,
    )
    assert len(row.visitor_hash) == 64


# --- the stream ---------------------------------------------------------------------------


def _stream_len(redis_client) -> int:
    """Entries in both click streams (one per single click, one per batch)."""
    return sum(redis_client.xlen(key) for key in click_stream.stream_keys())


def _store_one_by_one(clicks) -> None:
    for click in clicks:
        clicks_store(clicks=[click])


@pytest.mark.redis
def test_store_appends_to_stream_and_counts(campaign, redis_client):
    clicks = [
        _parse(campaign, click_id=f"s-{n}", ip_address="203.0.113.9", user_agent=f"UA {n % 2}")
        for n in range(4)
    ]
    clicks.append(_parse(campaign, click_id="s-bot", user_agent="Twitterbot/1.0"))
    clicks_store(clicks=clicks[:1])
    clicks_store(clicks=clicks[1:])
    singles, batches = click_stream.stream_keys()
    assert (redis_client.xlen(singles), redis_client.xlen(batches)) == (1, 1)
    assert Click.objects.count() == 0  # not before the flush
    day = dt.datetime.now(dt.UTC).strftime("%Y%m%d")
    count_key, unique_key, bot_key = click_stream.counter_keys(
        campaign_id=str(campaign.pk), day=day
    )
    assert int(redis_client.get(count_key)) == 4
    assert redis_client.pfcount(unique_key) == 2
    assert int(redis_client.get(bot_key)) == 1


@pytest.mark.redis
def test_flush_stores_every_accepted_click_exactly_once(campaign, redis_client):
    ids = [f"once-{n}" for n in range(250)]
    for start in range(0, 200, 50):  # batches
        clicks_store(clicks=[_parse(campaign, click_id=i) for i in ids[start : start + 50]])
    _store_one_by_one([_parse(campaign, click_id=i) for i in ids[200:]])  # single clicks
    clicks_store(clicks=[_parse(campaign, click_id=i) for i in ids[:20]])  # retried clicks
    _store_one_by_one([_parse(campaign, click_id=i) for i in ids[240:]])

    result = clicks_flush(batch_size=100)

    assert (result.read, result.inserted, result.duplicates, result.dropped) == (280, 250, 30, 0)
    assert Click.objects.count() == 250
    assert sorted(Click.objects.values_list("click_id", flat=True)) == sorted(ids)
    assert _stream_len(redis_client) == 0
    for key in click_stream.stream_keys():
        assert redis_client.xpending(key, STREAM_GROUP)["pending"] == 0
    assert clicks_flush().read == 0


@pytest.mark.redis
@pytest.mark.postgres
def test_flush_uses_one_multi_row_insert_on_postgresql(campaign, redis_client):
    from django.test.utils import CaptureQueriesContext

    clicks_store(clicks=[_parse(campaign, click_id=f"pg-{n}") for n in range(120)])
    with CaptureQueriesContext(connection) as queries:
        result = clicks_flush(batch_size=500)
    inserts = [q["sql"] for q in queries.captured_queries if "INSERT" in q["sql"]]
    # One statement inserts the clicks and adds them to the campaign's day.
    assert len(inserts) == 1
    assert "ON CONFLICT (organization_id, click_id) DO NOTHING" in inserts[0]
    assert "trace_campaignday" in inserts[0]
    assert result.inserted == 120
    assert Click.objects.count() == 120
    day = CampaignDay.objects.get(campaign=campaign)
    assert (day.clicks, day.bot_clicks) == (120, 0)


@pytest.mark.redis
def test_worker_death_before_ack_loses_nothing_and_doubles_nothing(campaign, redis_client):
    stream = settings.CLICK_STREAM_KEY
    _store_one_by_one([_parse(campaign, click_id=f"w-{n}") for n in range(40)])
    flush._ensure_group(redis_client, stream)
    # Worker A reads 25 entries and dies before inserting or acknowledging them.
    read = redis_client.xreadgroup(STREAM_GROUP, "worker-a", {stream: ">"}, count=25)
    assert len(read[0][1]) == 25
    # Worker B runs while A's entries are not yet idle long enough: it takes only new ones.
    first = clicks_flush(consumer="worker-b", claim_idle_seconds=3600)
    assert (first.inserted, first.reclaimed) == (15, 0)
    assert redis_client.xpending(stream, STREAM_GROUP)["pending"] == 25
    # Later, A's entries count as abandoned and B re-claims them.
    second = clicks_flush(consumer="worker-b", claim_idle_seconds=0)
    assert (second.reclaimed, second.inserted, second.duplicates) == (25, 25, 0)
    assert Click.objects.count() == 40
    assert redis_client.xpending(stream, STREAM_GROUP)["pending"] == 0


@pytest.mark.redis
def test_a_stream_deleted_under_the_flush_is_not_an_error(campaign, redis_client, monkeypatch):
    """FLUSHDB (a cache clear shares the database), eviction or an empty failover between
    the group's creation and the read: the flush ends quietly, and the next one works."""
    ensure = flush._ensure_group

    def ensure_then_lose_the_stream(client, stream):
        ensure(client, stream)
        client.delete(stream)

    monkeypatch.setattr(flush, "_ensure_group", ensure_then_lose_the_stream)
    assert clicks_flush().inserted == 0
    monkeypatch.undo()
    clicks_store(clicks=[_parse(campaign, click_id="after")])
    assert clicks_flush().inserted == 1
    assert Click.objects.get().click_id == "after"


@pytest.mark.redis
def test_worker_death_after_commit_before_ack_is_not_doubled(campaign, redis_client):
    _, stream = click_stream.stream_keys()
    clicks_store(clicks=[_parse(campaign, click_id=f"c-{n}") for n in range(10)])  # a batch
    flush._ensure_group(redis_client, stream)
    entries = redis_client.xreadgroup(STREAM_GROUP, "worker-a", {stream: ">"}, count=10)[0][1]
    assert len(entries) == 1
    # Worker A committed its INSERT, then died before XACK.
    database.clicks_insert(flush._decode(entries[0][1]))
    assert Click.objects.count() == 10
    result = clicks_flush(consumer="worker-b", claim_idle_seconds=0)
    assert (result.reclaimed, result.inserted, result.duplicates) == (10, 0, 10)
    assert Click.objects.count() == 10
    assert redis_client.xpending(stream, STREAM_GROUP)["pending"] == 0
    assert _stream_len(redis_client) == 0


@pytest.mark.redis
def test_flush_drops_unreadable_entries_and_deleted_campaigns(campaign, redis_client):
    gone = CampaignFactory(organization=campaign.organization, project=campaign.project)
    clicks_store(clicks=[_parse(campaign, click_id="kept"), _parse(gone, click_id="orphan")])
    gone.delete()
    redis_client.xadd(settings.CLICK_STREAM_KEY, {"d": b"{not json"})
    redis_client.xadd(settings.CLICK_STREAM_KEY, {"d": json.dumps({"c": "x"})})
    result = clicks_flush()
    assert (result.read, result.inserted, result.dropped) == (4, 1, 3)
    assert list(Click.objects.values_list("click_id", flat=True)) == ["kept"]
    assert _stream_len(redis_client) == 0


@pytest.mark.redis
def test_store_falls_back_to_database_when_redis_is_down(campaign):
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        clicks_store(clicks=[_parse(campaign, click_id="fallback")])
    assert list(Click.objects.values_list("click_id", flat=True)) == ["fallback"]


def test_flush_without_redis_is_a_no_op(without_redis, db):
    assert clicks_flush() == flush.FlushResult()


# --- tracking links -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("landing", "expected"),
    [
        ("https://app.example.com/", "https://app.example.com/?fab_click=ID"),
        ("https://app.example.com/a?x=1", "https://app.example.com/a?x=1&fab_click=ID"),
        (
            "https://app.example.com/a?fab_click=old&x=1#top",
            "https://app.example.com/a?x=1&fab_click=ID#top",
        ),
    ],
)
def test_landing_url_with_click(landing, expected):
    assert tracking.landing_url_with_click(landing_url=landing, click_id="ID") == expected


@pytest.mark.usefixtures("without_redis")
def test_click_track_records_utm_and_bot_reason(campaign):
    click_id = tracking.click_track(
        campaign_id=str(campaign.pk),
        ip="198.51.100.20",
        user_agent="Mozilla/5.0 Firefox/140.0",
        referrer="https://news.example/",
        query={"utm_source": "news", "utm_campaign": "launch", "other": "x"},
        method="GET",
    )
    bot_id = tracking.click_track(
        campaign_id=str(campaign.pk),
        ip="198.51.100.20",
        user_agent="Slackbot 1.0",
        referrer="",
        query={},
        method="GET",
    )
    person = Click.objects.get(click_id=click_id)
    assert person.utm_params == {"utm_source": "news", "utm_campaign": "launch"}
    assert (person.is_bot, person.bot_reason, person.ip_address) == (False, "", "198.51.100.0")
    bot = Click.objects.get(click_id=bot_id)
    assert (bot.is_bot, bot.bot_reason) == (True, "user_agent:slackbot")
    assert uuid.UUID(hex=click_id)


@pytest.mark.redis
def test_flush_task_and_command_drain_the_stream(campaign, redis_client):
    from io import StringIO

    from django.core.management import call_command

    from trace.tasks import flush_clicks

    clicks_store(clicks=[_parse(campaign, click_id=f"t-{n}") for n in range(3)])
    assert flush_clicks.delay().get() == {"read": 3, "inserted": 3, "duplicates": 0}
    clicks_store(clicks=[_parse(campaign, click_id=f"m-{n}") for n in range(2)])
    out = StringIO()
    call_command("flush_clicks", stdout=out)
    assert out.getvalue().startswith("read 2, inserted 2, duplicates 0, dropped 0")
    assert Click.objects.count() == 5


@pytest.mark.django_db
@pytest.mark.parametrize("count", [4, database.VALUES_INSERT_MAX + 5])  # VALUES, then COPY
def test_insert_skips_what_the_organization_stored_and_keeps_other_organizations(count):
    campaign, other = CampaignFactory(), CampaignFactory()
    now = dt.datetime.now(dt.UTC).timestamp()

    def record(click_id, on=campaign, utm=None):
        click = ClickInput(
            campaign_id=str(on.pk),
            click_id=click_id,
            utm_params=utm or {},
            ip_address="203.0.113.9",
        )
        return records.click_record(click, now, "20260101")

    database.clicks_insert([record("taken")])
    batch = [record(f"c{n}", utm={"utm_source": f"s{n}"}) for n in range(count - 3)]
    batch += [record("taken"), batch[0], record("taken", on=other)]  # repeats, a twin

    assert database.clicks_insert(batch) == count - 2
    assert Click.objects.filter(click_id="taken").count() == 2  # once per organization
    assert Click.objects.get(campaign=campaign, click_id="c0").utm_params == {"utm_source": "s0"}
    assert Click.objects.get(campaign=campaign, click_id="c0").organization_id == (
        campaign.organization_id
    )
