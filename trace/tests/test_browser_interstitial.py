"""The tracking-link interstitial in a real browser: it renders under our CSP without a
single violation, names the destination, and its link goes there without a Referer."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import Browser, expect

from trace.models import Click
from trace.tests.factories import CampaignFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("without_redis"),
]


def test_the_interstitial_names_the_destination_and_links_there(live_server, browser: Browser):
    # localhost can never be verified (one label, no public address): the link shows the
    # interstitial. The destination is the test server, so following it stays local.
    campaign = CampaignFactory(landing_url=f"{live_server.url}/healthz?from=campaign")
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    referers: dict[str, str | None] = {}
    page.on(
        "request", lambda request: referers.update({request.url: request.headers.get("referer")})
    )

    page.goto(f"{live_server.url}/t/{campaign.pk}?utm_source=newsletter")

    host = live_server.url.removeprefix("http://")
    expect(page.get_by_test_id("destination-host")).to_have_text(host)
    click_id = Click.objects.get().click_id
    destination = (
        f"{live_server.url}/healthz?from=campaign&utm_source=newsletter&fab_click={click_id}"
    )
    expect(page.get_by_test_id("destination-url")).to_have_text(destination)
    if os.environ.get("INTERSTITIAL_SCREENSHOT"):
        page.screenshot(path=os.environ["INTERSTITIAL_SCREENSHOT"], full_page=True)

    assert errors == []  # no script error, no CSP violation

    page.get_by_test_id("destination-link").click()
    page.wait_for_url(destination)

    assert referers[destination] is None
    context.close()
