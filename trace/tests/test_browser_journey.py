"""A new user's whole journey in one browser session (issue 9), with no API call of the
test's own and no admin: a new wallet signs in, creates its organization, a project, a
campaign and an API key; a visitor opens the tracking link and the click shows on the
campaign page; the clicks export as CSV; a certificate is issued and verified in the
browser on its public page; a teammate added as a viewer sees no write controls.

Headless Debian Chromium through Playwright, wallets signing with real eth-account keys
(test_browser_signin's injected provider); a screenshot per step under test-output/.
"""

from __future__ import annotations

import datetime as dt

import pytest
from eth_account import Account
from playwright.sync_api import Page

from accounts.tests.test_browser_organizations import _sign_in, _submit
from accounts.tests.test_browser_signin import live_host, open_page  # noqa: F401  (fixtures)
from fabrknt.tests.browser import axe_violations, screenshot
from trace.models import Campaign, Click, GrowthCertificate, Project

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("without_redis")]

FOUNDER = Account.from_key("0x" + "6" * 64)
TEAMMATE = Account.from_key("0x" + "7" * 64)
CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
DESKTOP = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0 Safari/537.36"


def _step(page: Page, name: str) -> None:
    screenshot(page, f"journey-{name}")
    assert axe_violations(page) == [], name


def test_a_new_user_does_everything_on_the_pages(live_server, live_host, open_page):  # noqa: F811
    base = live_server.url
    page, _, errors = open_page(wallet=FOUNDER.address.lower(), key=FOUNDER)

    # Signed in, guided to a first organization.
    _sign_in(page, base, FOUNDER)
    page.get_by_role("link", name="Create an organization").first.click()
    page.get_by_label("Name").fill("Journey Labs")
    _submit(page, "Create organization")
    page.get_by_text("Journey Labs is ready.").wait_for()
    _step(page, "1-organization")

    # A project, from the dashboard's empty state.
    page.goto(f"{base}/trace/")
    page.get_by_role("link", name="Create a project").click()
    page.get_by_label("Name").fill("Journey dapp")
    page.get_by_label("Chain").select_option(label="Base — eip155:8453")
    page.get_by_label("Contract addresses").fill(CONTRACT)
    _submit(page, "Create project")
    page.get_by_text("Journey dapp is ready.").wait_for()
    project = Project.objects.get()
    _step(page, "2-project")

    # A campaign for it.
    page.goto(f"{base}/trace/campaigns/new")
    page.get_by_label("Name").fill("Launch week")
    page.get_by_label("Landing URL").fill("https://app.example.com/")
    page.get_by_label("Project").select_option(label="Journey dapp")
    page.get_by_label("Budget (USD)").fill("250")
    _submit(page, "Create campaign")
    page.get_by_text("Launch week is live").wait_for()
    campaign = Campaign.objects.get()
    assert campaign.project == project
    tracking_url = page.get_by_test_id("tracking-url").input_value()
    _step(page, "3-campaign")

    # An API key, shown once.
    page.goto(f"{base}/organizations/{project.organization_id}/api-keys/")
    page.get_by_role("link", name="Create API key").first.click()
    page.get_by_label("Name").fill("Site")
    page.get_by_label("read — servers read").check()
    _submit(page, "Create key")
    assert page.get_by_test_id("issued-key").input_value()
    _step(page, "4-api-key")

    # A visitor follows the link; the click is on the campaign page.
    page.set_extra_http_headers({"User-Agent": DESKTOP})
    page.goto(tracking_url, referer="https://forum.example/thread")
    page.set_extra_http_headers({})
    assert Click.objects.filter(campaign=campaign, is_bot=False).count() == 1
    page.goto(f"{base}/trace/campaigns/{campaign.pk}/")
    assert page.get_by_test_id("kpi-clicks").inner_text() == "1"
    _step(page, "5-click-seen")

    # The clicks as CSV.
    page.get_by_role("link", name="Export CSV").first.click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Clicks CSV").click()
    with open(download.value.path(), encoding="utf-8") as csv_file:
        lines = csv_file.read().splitlines()
    assert lines[0].startswith("occurred_at,click_id,campaign_id,referrer")
    assert len(lines) == 2 and "https://forum.example/thread" in lines[1]

    # A growth certificate, verified in the browser on its public page.
    page.goto(f"{base}/trace/projects/{project.pk}/")
    page.get_by_role("link", name="Growth certificates").click()
    yesterday = dt.date.today() - dt.timedelta(days=1)
    page.get_by_label("From").fill(str(yesterday - dt.timedelta(days=6)))
    page.get_by_label("To").fill(str(yesterday))
    page.get_by_role("button", name="Issue certificate").click()
    certificate = GrowthCertificate.objects.get()
    page.wait_for_url(f"{base}/verify/{certificate.pk}")
    page.wait_for_function(
        "() => ['valid', 'invalid'].includes("
        "document.getElementById('signature-check').dataset.result)"
    )
    assert page.get_by_test_id("signature-status").inner_text().startswith("Signature valid")
    _step(page, "6-certificate-verified")

    # A teammate joins as a viewer and sees no write controls.
    page.goto(f"{base}/organizations/{project.organization_id}/members/")
    page.get_by_role("link", name="Add member").click()
    page.get_by_label("Wallet address").fill(TEAMMATE.address)
    page.get_by_label("Role").select_option("viewer")
    _submit(page, "Add member")
    page.get_by_text("added as Viewer.").wait_for()
    assert errors == []

    viewer, _, viewer_errors = open_page(wallet=TEAMMATE.address.lower(), key=TEAMMATE)
    _sign_in(viewer, base, TEAMMATE)
    for path in (f"/trace/campaigns/{campaign.pk}/", f"/trace/projects/{project.pk}/"):
        viewer.goto(base + path)
        main = viewer.locator("main")
        assert main.get_by_role("link", name="Edit").count() == 0
        assert main.get_by_role("button", name="Pause").count() == 0
        assert main.get_by_role("button", name="Recompute metrics").count() == 0
    _step(viewer, "7-viewer")
    assert viewer_errors == []
