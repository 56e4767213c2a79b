"""The operations page, live end to end: served with /ws/live by uvicorn (as in production
behind one host), it subscribes to "ops" with the staff session, and the beat task's push
(`ops.publish_live`) redraws its queues without a reload."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from accounts.tests.factories import UserFactory
from fabrknt.live.tests.conftest import asgi_server  # noqa: F401  (fixture)
from fabrknt.ops.tasks import publish_live
from fabrknt.ops.tests.test_pages_ops import dead_letter

pytestmark = [
    pytest.mark.browser,
    pytest.mark.redis,
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True),
]


def _push() -> None:
    """The beat task's body, in a thread of its own: Playwright keeps an event loop in the
    test's thread, where the publish (sync code) may not run."""

    def run() -> None:
        publish_live()
        connection.close()

    with ThreadPoolExecutor(1) as thread:
        thread.submit(run).result()


def test_the_page_follows_the_ops_feed(browser, asgi_server, broker):  # noqa: F811
    client = Client()
    client.force_login(UserFactory(is_staff=True))
    server = asgi_server()
    base = f"http://127.0.0.1:{server.port}"
    context = browser.new_context()
    name = settings.SESSION_COOKIE_NAME
    context.add_cookies([{"name": name, "value": client.cookies[name].value, "url": base}])
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{base}/ops/")
    dead_letters = page.locator("[data-queue=default] [data-testid=queue-dead-letters]")
    assert dead_letters.inner_text() == "0"
    page.locator("[data-ops=live][data-live=true]").wait_for(timeout=10_000)

    dead_letter("dead-live-1")
    _push()

    page.wait_for_function(
        "() => document.querySelector("
        "'[data-queue=default] [data-testid=queue-dead-letters]').textContent === '1'",
        timeout=10_000,
    )
    alarm = page.locator("[data-alarm=dead_letters]")
    assert "alarm--alarm" in (alarm.get_attribute("class") or "")
    assert errors == []  # no script error, no CSP violation
    context.close()
