"""The operations page in headless Chromium: its charts drawn from the real figures, the
live updates applied in place (through `window.fabrkntOps.apply`, and through a stand-in
WebSocket delivering the server's messages), and a purge confirmed in the dialog."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator

import pytest
from django.test import Client
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from playwright.sync_api import Browser, Page, expect
from rest_framework.renderers import JSONRenderer

from accounts.tests.factories import UserFactory
from fabrknt.ops.api.telemetry_serializers import TelemetrySerializer
from fabrknt.ops.metrics.api import OperationalMetricsSerializer
from fabrknt.ops.metrics.operational import operational_metrics
from fabrknt.ops.tasks import ping
from fabrknt.ops.telemetry import telemetry
from fabrknt.ops.tests.test_pages_ops import dead_letter, record_last_minute
from fabrknt.tests.browser import screenshot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.redis,
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True),
]

# A WebSocket stand-in: records what the page opens and sends, answers the subscription
# as /ws/live does, and lets the test deliver messages or drop the connection.
FAKE_SOCKET = """
window.__sockets = [];
class FakeSocket extends EventTarget {
  constructor(url) {
    super();
    this.url = url;
    this.sent = [];
    window.__sockets.push(this);
    setTimeout(() => this.dispatchEvent(new Event("open")), 10);
  }
  send(text) {
    this.sent.push(text);
    const body = JSON.parse(text);
    setTimeout(() => this.deliver({ subscribed: body.subscribe }), 10);
  }
  deliver(body) {
    this.dispatchEvent(new MessageEvent("message", { data: JSON.stringify(body) }));
  }
  close() {
    this.dispatchEvent(new CloseEvent("close"));
  }
}
window.WebSocket = FakeSocket;
"""


def as_json(data) -> object:
    """What the socket carries: the serializer's output rendered as the API renders it."""
    return json.loads(JSONRenderer().render(data))


def _page(browser: Browser, live_server, *, fake_socket: bool) -> tuple[Page, list[str]]:
    client = Client()
    client.force_login(UserFactory(is_staff=True))
    context = browser.new_context(viewport={"width": 1280, "height": 900}, reduced_motion="reduce")
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    if fake_socket:
        context.add_init_script(FAKE_SOCKET)
    page = context.new_page()
    page.set_default_timeout(8000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return page, errors


@pytest.fixture
def figures(broker, shared_metrics, one_minute) -> None:
    # The page reads "the last whole minute" after a browser starts and signs in, which
    # took over 5 s in CI once (the chart then showed the figures a minute back): begin
    # with 20 s of the minute left at least.
    into = time.time() % 60
    if into > 40:
        time.sleep(60.2 - into)
    record_last_minute()
    ping.apply_async(args=("waits",))


@pytest.fixture
def ops_page(browser, live_server, figures) -> Iterator[tuple[Page, list[str]]]:
    page, errors = _page(browser, live_server, fake_socket=True)
    page.goto(live_server.url + "/ops/")
    yield page, errors
    page.context.close()


def chart_data(page: Page, name: str) -> list[list]:
    return page.evaluate(
        """(name) => Chart.getChart(document.querySelector(`canvas[data-ops-chart="${name}"]`))
             .data.datasets.map((d) => d.data)""",
        name,
    )


def test_the_charts_are_drawn_and_a_live_update_redraws_the_page(ops_page):
    page, errors = ops_page
    for name in ("requests", "latency", "errors", "backlog", "queues"):
        expect(page.locator(f'canvas[data-ops-chart="{name}"]')).to_have_attribute(
            "data-drawn", "true"
        )
    assert chart_data(page, "requests")[0][-1] == 1.0  # 60 requests in the last minute
    p50, p99, limit = chart_data(page, "latency")
    assert (p50[-1], p99[-1], limit[-1]) == (5.0, 350.0, 100.0)
    assert chart_data(page, "errors")[0][-1] == 1
    assert chart_data(page, "queues") == [[1], [0]]
    expect(page.locator('[data-alarm="dead_letters"]')).to_have_class("alarm alarm--ok")

    dead_letter("dead-1")
    dead_letter("dead-2")
    ping.apply_async(args=("waits too",))
    metrics = as_json(OperationalMetricsSerializer(operational_metrics()).data)
    assert page.evaluate("(d) => window.fabrkntOps.apply('metrics', d)", metrics) is True

    row = page.locator('tr[data-queue="default"]')
    expect(row.get_by_test_id("queue-depth")).to_have_text("2")
    expect(row.get_by_test_id("queue-dead-letters")).to_have_text("2")
    expect(row.get_by_test_id("queue-dead-letters")).to_have_class("num is-alarm")
    assert chart_data(page, "queues") == [[2], [2]]
    # The same figures again leave the queue row (and its buttons) as they are.
    page.evaluate("() => { document.querySelector('tr[data-queue=default]').kept = true; }")
    page.evaluate("(d) => window.fabrkntOps.apply('metrics', d)", metrics)
    assert page.evaluate("() => document.querySelector('tr[data-queue=default]').kept") is True
    expect(page.locator('[data-alarm="dead_letters"]')).to_have_class("alarm alarm--alarm")
    expect(page.locator('[data-alarm="dead_letters"] .alarm__value')).to_have_text("2 / 0")

    every, _ = IntervalSchedule.objects.get_or_create(every=60, period="seconds")
    PeriodicTask.objects.create(
        name="flush clicks",
        task="trace.flush_clicks",
        interval=every,
        last_run_at=timezone.now() - dt.timedelta(hours=1),
    )
    assert page.evaluate(
        "(d) => window.fabrkntOps.apply('telemetry', d)",
        as_json(TelemetrySerializer(telemetry()).data),
    )
    schedule = page.locator('tr[data-schedule="flush clicks"]')
    expect(schedule).to_have_class("is-alarm")
    expect(schedule).to_contain_text("overdue")
    expect(page.get_by_test_id("components")).to_contain_text("ok")
    screenshot(page, "ops-live-applied")
    assert errors == []


def test_the_socket_subscribes_goes_live_applies_and_reconnects(ops_page, live_server):
    page, errors = ops_page
    live = page.get_by_test_id("live")
    expect(live).to_have_attribute("data-live", "true")
    expect(live).to_have_text("Live")
    socket = page.evaluate("() => ({url: __sockets[0].url, sent: __sockets[0].sent})")
    assert socket == {
        "url": live_server.url.replace("http://", "ws://") + "/ws/live",
        "sent": ['{"subscribe":"ops"}'],
    }

    dead_letter("dead-1")
    metrics = as_json(OperationalMetricsSerializer(operational_metrics()).data)
    message = {"channel": "ops", "event": "metrics", "data": metrics, "at": metrics["generated_at"]}
    page.evaluate("(m) => __sockets[0].deliver(m)", message)
    expect(
        page.locator('tr[data-queue="default"]').get_by_test_id("queue-dead-letters")
    ).to_have_text("1")

    page.evaluate("() => __sockets[0].close()")
    expect(live).to_have_attribute("data-live", "false")
    expect(live).to_contain_text("Not live")
    # Reconnected after the first back-off (0.5-1 s), and live again.
    page.wait_for_function("() => __sockets.length === 2")
    expect(live).to_have_attribute("data-live", "true")
    assert page.evaluate("() => __sockets[1].sent") == ['{"subscribe":"ops"}']
    assert errors == []


def test_a_purge_is_confirmed_in_the_dialog_without_a_socket_server(
    browser, live_server, figures, broker
):
    page, errors = _page(browser, live_server, fake_socket=False)
    page.goto(live_server.url + "/ops/")
    # The live server speaks no WebSocket: the page says so and works as it is.
    expect(page.get_by_test_id("live")).to_contain_text("Not live")
    page.get_by_role("navigation", name="Products").get_by_role("link", name="Operations").click()

    row = page.locator('tr[data-queue="default"]')
    row.get_by_role("link", name="Purge", exact=True).click()
    dialog = page.locator("dialog#modal")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Waiting messages to drop: 1.")
    assert broker.llen("default") == 1  # nothing done before the confirmation
    dialog.get_by_role("button", name="Purge queue").click()

    expect(page.locator(".message--success")).to_have_text(
        "1 waiting message(s) purged from default."
    )
    assert broker.llen("default") == 0
    expect(page.locator('tr[data-queue="default"]').get_by_test_id("queue-depth")).to_have_text("0")
    page.context.close()
    # The socket was tried (the CSP's connect-src 'self' lets it reach /ws/live) and failed.
    assert not [e for e in errors if "Content Security Policy" in e]
    assert any("/ws/live" in e for e in errors), errors
    assert [e for e in errors if "WebSocket" not in e] == []
