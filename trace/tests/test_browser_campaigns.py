"""A campaign in a real browser (headless Debian Chromium, Playwright): a member creates
a campaign, sees its tracking link and QR code, opens the link, and finds the visit on
the campaign page (the headless browser's own visit as a bot hit with its reason, a
visit with a desktop browser's user agent and a referrer as a human click).

Sign-in, the htmx-aware submit and axe-core are the organization journey's
(accounts.tests.test_browser_organizations). Screenshots go to test-output/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from eth_account import Account
from playwright.sync_api import Page

from accounts.models import User
from accounts.services.api_keys import api_key_issue
from accounts.services.organizations import organization_create
from accounts.tests.test_browser_organizations import _sign_in, _submit
from accounts.tests.test_browser_signin import live_host, open_page  # noqa: F401  (fixtures)
from fabrknt.tests.browser import axe_violations
from trace.models import Campaign, Click

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("without_redis")]

MEMBER = Account.from_key("0x" + "5" * 64)
OUTPUT = Path(settings.BASE_DIR) / "test-output"
DESKTOP = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0 Safari/537.36"


def _check(page: Page, name: str) -> None:
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"campaigns-{name}.png"), full_page=True)
    assert axe_violations(page) == [], name


def test_campaign_journey(live_server, live_host, open_page):  # noqa: F811
    base = live_server.url
    page, _, errors = open_page(wallet=MEMBER.address.lower(), key=MEMBER)
    _sign_in(page, base, MEMBER)
    organization_create(name="Orbit Labs", owner=User.objects.get())

    # Create: the campaign list's empty state leads to the form.
    page.goto(f"{base}/trace/campaigns/")
    page.get_by_role("link", name="Create a campaign").click()
    page.wait_for_url(f"{base}/trace/campaigns/new")
    page.get_by_label("Name").fill("Spring launch")
    page.get_by_label("Landing URL").fill("https://app.example.com/swap?utm_source=own")
    page.get_by_label("Budget (USD)").fill("500")
    page.get_by_label("Attribution model").select_option("first_click")
    page.get_by_label("Attribution window (days)").fill("14")
    _check(page, "1-create")
    _submit(page, "Create campaign")
    page.get_by_text("Spring launch is live: share its tracking link.").wait_for()
    campaign = Campaign.objects.get()
    assert (campaign.attribution_model, campaign.attribution_window_days) == ("first_click", 14)
    assert page.url == f"{base}/trace/campaigns/{campaign.pk}/"

    # Its tracking link, with a copy button, and its QR code (an SVG that loaded).
    tracking_url = page.get_by_test_id("tracking-url").input_value()
    assert tracking_url == f"{base}/t/{campaign.pk}"
    assert page.get_by_role("button", name="Copy", exact=True).is_visible()
    qr = page.get_by_test_id("tracking-qr")
    qr.scroll_into_view_if_needed()
    # decode() waits for the image to load (complete alone may run before it does).
    assert qr.evaluate("async (img) => { await img.decode(); return img.naturalWidth > 0; }")
    _check(page, "2-link-and-qr")

    # Opened by this headless browser: recorded as a bot hit, still sent on.
    page.goto(f"{tracking_url}?utm_source=newsletter&utm_campaign=spring")
    page.get_by_role("link", name="Continue").wait_for()
    destination = page.get_by_role("link", name="Continue").get_attribute("href")
    # The landing URL's own utm_source wins; the link's utm_campaign is passed on.
    assert destination.startswith("https://app.example.com/swap?utm_source=own&utm_campaign=spring")
    # Opened as a desktop browser, from a newsletter: a human click.
    page.set_extra_http_headers({"User-Agent": DESKTOP})
    page.goto(f"{tracking_url}?utm_source=newsletter", referer="https://news.example/issue-12")
    page.set_extra_http_headers({})
    assert sorted(Click.objects.values_list("is_bot", flat=True)) == [False, True]

    page.goto(f"{base}/trace/campaigns/{campaign.pk}/")
    assert page.get_by_test_id("kpi-clicks").inner_text() == "1"
    referrers = page.get_by_test_id("referrers-table")
    assert referrers.get_by_role("rowheader", name="news.example").is_visible()
    assert page.get_by_test_id("utm-utm_source").get_by_role("rowheader").all_inner_texts() == [
        "newsletter"
    ]
    quality = page.get_by_test_id("click-quality").inner_text()
    assert quality.startswith("1 human click, 1 bot hit")
    bot_reason = Click.objects.get(is_bot=True).bot_reason
    assert page.get_by_test_id("bot-reasons").get_by_role("rowheader").all_inner_texts() == [
        bot_reason
    ]
    _check(page, "3-click-seen")

    # The snippet, with the newest ingest key; picking another swaps it in place (htmx).
    site = api_key_issue(organization=campaign.organization, name="site", scopes=["ingest"])
    docs = api_key_issue(organization=campaign.organization, name="docs", scopes=["ingest"])
    page.goto(f"{base}/trace/campaigns/{campaign.pk}/")
    snippet = page.get_by_test_id("embed-snippet")
    assert f'data-key="{docs.key}"' in snippet.inner_text()
    page.get_by_label("Ingest key").select_option(site.key)
    page.wait_for_function(
        "key => document.getElementById('embed-snippet').textContent.includes(key)", arg=site.key
    )
    assert page.get_by_label("Ingest key").input_value() == site.key
    _check(page, "4-snippet-key")
    assert errors == []
