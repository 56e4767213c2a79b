"""The campaign page's click counter, live: the page (served with /ws/live by uvicorn, as
in production behind one host) subscribes with its session, and when the flush stores new
clicks the counter changes without a reload."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from accounts.tests.factories import MembershipFactory
from fabrknt.live.tests.conftest import asgi_server  # noqa: F401  (fixture)
from trace.services.clicks.flush import clicks_flush
from trace.services.clicks.stream import clicks_store
from trace.services.clicks.validation import ClickInput
from trace.tests.factories import CampaignFactory, ProjectFactory

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

DESKTOP = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0 Safari/537.36"


def _clicks(campaign, count: int) -> int:
    """Store and flush `count` clicks, in a thread of their own: Playwright keeps an event
    loop in the test's thread, where the flush's publish (sync code) may not run."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(_store_and_flush, campaign, count).result()


def _store_and_flush(campaign, count: int) -> int:
    clicks_store(
        clicks=[
            ClickInput(
                campaign_id=str(campaign.pk),
                click_id=str(uuid.uuid4()),
                user_agent=DESKTOP,
                ip_address="203.0.113.9",
            )
            for _ in range(count)
        ]
    )
    inserted = clicks_flush().inserted
    connection.close()
    return inserted


def test_the_click_counter_follows_the_flush(browser, asgi_server, redis_client):  # noqa: F811
    membership = MembershipFactory()
    campaign = CampaignFactory(project=ProjectFactory(organization=membership.organization))
    assert _clicks(campaign, 2) == 2
    client = Client()
    client.force_login(membership.user)
    server = asgi_server()
    base = f"http://127.0.0.1:{server.port}"
    context = browser.new_context()
    name = settings.SESSION_COOKIE_NAME
    context.add_cookies([{"name": name, "value": client.cookies[name].value, "url": base}])
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{base}/trace/campaigns/{campaign.pk}/")
    counter = page.get_by_test_id("kpi-clicks")
    assert counter.inner_text() == "2"
    page.locator("[data-live-state=subscribed]").wait_for(timeout=10_000)

    assert _clicks(campaign, 1_001) == 1_001
    page.wait_for_function(
        "() => document.querySelector('[data-testid=kpi-clicks]').textContent === '1,003'",
        timeout=10_000,
    )
    assert errors == []  # no script error, no CSP violation
    context.close()
