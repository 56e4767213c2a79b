"""The operations page (/ops/): staff only; the figures from the shared metrics store, the
telemetry and the broker's queues; retry and purge only after their confirm step, with
the count; CSRF enforced."""

from __future__ import annotations

import json
import time

import pytest
from django.test import Client

from accounts.tests.factories import UserFactory
from accounts.tests.test_pages import INLINE_SCRIPT, INLINE_STYLE
from fabrknt.celery import app
from fabrknt.ops import queues
from fabrknt.ops.alarms import ALARMS
from fabrknt.ops.metrics.store import ERRORS, REQUESTS, default_backend, latency_field, minute_of
from fabrknt.ops.tasks import ping

pytestmark = [pytest.mark.django_db, pytest.mark.redis, pytest.mark.celery_worker]

DEAD = queues.redis_dead_letters_key("default")
ACTIONS = ["retry-dead-letters", "purge", "purge-dead-letters"]


@pytest.fixture
def staff() -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True))
    return client


def dead_letter(task_id: str) -> None:
    """Dead-letter a ping the way a worker's failure handler does."""
    ping.push_request(id=task_id, args=("x",), kwargs={}, is_eager=False, retries=0)
    try:
        queues.dead_letter(task=ping, reason="test")
    finally:
        ping.pop_request()


def record_last_minute() -> None:
    """60 requests in the last whole minute: one 5xx, one slow (as the metrics store's
    per-minute buckets keep them)."""
    last = minute_of(time.time() - 2) - 1
    buckets = {latency_field(0): 30, latency_field(3): 29, latency_field(8): 1}
    default_backend().apply({}, {last: {REQUESTS: 60, ERRORS: 1, **buckets}})


def page_data(response) -> dict:
    html = response.content.decode()
    start = html.index('<script id="ops-data" type="application/json">') + len(
        '<script id="ops-data" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def test_anonymous_visitors_are_sent_to_sign_in():
    response = Client().get("/ops/")

    assert response.status_code == 302
    assert response["Location"] == "/signin?next=/ops/"


@pytest.mark.parametrize("path", ["/ops/", *[f"/ops/queues/default/{a}" for a in ACTIONS]])
def test_signed_in_users_who_are_not_staff_get_the_staff_only_page(broker, path):
    ping.apply_async(args=("waits",))
    dead_letter("dead-1")
    member = Client()
    member.force_login(UserFactory())

    looked = member.get(path)
    posted = member.post(path)

    for response in (looked, posted):
        assert response.status_code == 403
        assert b"Staff only" in response.content
    assert (broker.llen("default"), broker.llen(DEAD)) == (1, 1)


def test_staff_see_the_figures_alarms_and_queues(broker, staff, shared_metrics, one_minute):
    record_last_minute()
    ping.apply_async(args=("waits",))
    dead_letter("dead-1")

    response = staff.get("/ops/")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="/ops/"' in html  # the staff's header link
    for alarm, state in [
        ("http_5xx_rate", "alarm"),  # 1 of 60 in five minutes
        ("http_latency_p99", "alarm"),  # 350 ms
        ("queue_oldest_message_age", "insufficient_data"),  # neither broker tells
        ("dead_letters", "alarm"),
        ("backup_age", "alarm"),  # no backup at all
    ]:
        assert f'class="alarm alarm--{state}" data-alarm="{alarm}"' in html
    assert "1.67 %" in html and "350.0 ms" in html
    assert '<td class="num" data-testid="queue-depth">1</td>' in html
    assert 'class="num is-alarm" data-testid="queue-dead-letters">1</td>' in html
    assert 'href="/ops/queues/default/retry-dead-letters"' in html
    assert 'href="/ops/queues/default/purge"' in html
    assert 'href="/ops/queues/default/purge-dead-letters"' in html
    assert "No backup yet" in html
    # No inline script or style (the CSP forbids them): the figures travel as JSON data.
    inline = [tag for tag in INLINE_SCRIPT.findall(html) if 'type="application/json"' not in tag]
    assert (inline, INLINE_STYLE.findall(html)) == ([], [])
    data = page_data(response)
    assert [w["requests"] for w in data["metrics"]["windows"]] == [60, 60, 60]
    assert data["metrics"]["series"][-1]["requests"] == 60
    assert data["metrics"]["queues"][0]["dead_letter_depth"] == 1
    assert data["telemetry"]["components"]["database"]["status"] == "ok"
    assert [alarm["name"] for alarm in data["alarms"]] == [alarm.name for alarm in ALARMS]


def test_the_page_opens_without_the_metrics_store(broker, staff, redis_server):
    redis_server.stop()

    response = staff.get("/ops/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "The metrics store (Redis) cannot be read" in html
    assert page_data(response)["metrics"] is None
    assert '<td class="num" data-testid="queue-depth">0</td>' in html  # the broker still answers


def test_purge_asks_first_then_purges_with_the_count(broker, staff):
    ping.apply_async(args=("waits",))
    ping.apply_async(args=("waits too",))

    confirm = staff.get("/ops/queues/default/purge")

    assert confirm.status_code == 200
    assert b"Purge the queue default?" in confirm.content
    assert b"Waiting messages to drop: 2." in confirm.content
    assert broker.llen("default") == 2  # nothing done by looking

    done = staff.post("/ops/queues/default/purge")

    assert (done.status_code, done["Location"]) == (303, "/ops/")
    assert broker.llen("default") == 0
    assert b"2 waiting message(s) purged from default." in staff.get("/ops/").content


def test_retry_asks_first_then_moves_the_dead_letters_back(broker, staff):
    dead_letter("dead-1")
    dead_letter("dead-2")

    confirm = staff.get("/ops/queues/default/retry-dead-letters")

    assert b"Dead letters to send back: 2." in confirm.content
    assert (broker.llen("default"), broker.llen(DEAD)) == (0, 2)

    done = staff.post("/ops/queues/default/retry-dead-letters")

    assert done.status_code == 303
    assert (broker.llen("default"), broker.llen(DEAD)) == (2, 0)
    assert b"2 dead letter(s) sent back to default." in staff.get("/ops/").content


def test_purging_the_dead_letters_leaves_the_waiting_messages(broker, staff):
    ping.apply_async(args=("waits",))
    dead_letter("dead-1")

    confirm = staff.get("/ops/queues/default/purge-dead-letters")
    assert b"Dead letters to drop: 1." in confirm.content
    assert broker.llen(DEAD) == 1

    staff.post("/ops/queues/default/purge-dead-letters")

    assert (broker.llen("default"), broker.llen(DEAD)) == (1, 0)
    assert b"1 dead letter(s) purged from default." in staff.get("/ops/").content


def test_htmx_confirmations_answer_with_a_redirect_header(broker, staff):
    ping.apply_async(args=("waits",))

    done = staff.post("/ops/queues/default/purge", HTTP_HX_REQUEST="true")

    assert (done.status_code, done["HX-Redirect"]) == (200, "/ops/")
    assert broker.llen("default") == 0


@pytest.mark.parametrize("action", ACTIONS)
def test_an_unknown_queue_is_404_and_nothing_moves(broker, staff, action):
    ping.apply_async(args=("waits",))
    dead_letter("dead-1")

    assert staff.get(f"/ops/queues/celery/{action}").status_code == 404
    assert staff.post(f"/ops/queues/celery/{action}").status_code == 404
    assert (broker.llen("default"), broker.llen(DEAD)) == (1, 1)


def test_a_post_without_the_csrf_token_is_refused(broker):
    ping.apply_async(args=("waits",))
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(is_staff=True))

    refused = client.post("/ops/queues/default/purge")

    assert refused.status_code == 403
    assert broker.llen("default") == 1
    confirm = client.get("/ops/queues/default/purge")
    token = confirm.context["csrf_token"]
    done = client.post("/ops/queues/default/purge", {"csrfmiddlewaretoken": str(token)})
    assert done.status_code == 303
    assert broker.llen("default") == 0


def test_a_broker_that_cannot_be_reached_is_a_clear_error(
    broker, staff, redis_server, settings, monkeypatch
):
    url = redis_server.url(2)
    saved = app.conf.broker_url
    monkeypatch.setenv("CELERY_BROKER_URL", url)  # Celery reads it before its own setting
    settings.CELERY_BROKER_URL = url
    app.conf.broker_url = url
    app._pool = None
    redis_server.stop()
    try:
        response = staff.post("/ops/queues/default/purge")
    finally:
        app.conf.broker_url = saved
        app._pool = None

    assert response.status_code == 503
    assert b"The broker cannot be reached." in response.content
    assert b"Waiting messages to drop: unknown." in response.content


def test_on_the_embedded_default_the_page_explains_backups_and_workers(staff, monkeypatch):
    """SQLite and no Redis (what `make run` serves): backup_db refuses SQLite and no worker
    can report, so the page says what to do instead of raising two alarms."""
    from django.conf import settings

    from fabrknt.ops import telemetry

    monkeypatch.setitem(settings.DATABASES["default"], "ENGINE", "django.db.backends.sqlite3")
    monkeypatch.setattr(telemetry, "records_client", lambda: None)

    response = staff.get("/ops/")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="alarm alarm--insufficient_data" data-alarm="backup_age"' in html
    assert "No backup yet" not in html
    assert "Backups run on PostgreSQL" in html and ".backup copy.sqlite3" in html
    assert "workers unknown" not in html and "No Redis (<code>REDIS_URL</code>)" in html
    backup = page_data(response)["telemetry"]["backup"]
    assert (backup["supported"], backup["latest"], backup["alarm"]["state"]) == (
        False,
        None,
        "insufficient_data",
    )
