"""Certificates and exports in a real browser (Debian Chromium driven by Playwright).

A member issues a certificate on the project's page and lands on its public page, where
the browser checks the Ed25519 signature itself (WebCrypto) against the published keys:
"Signature valid". A changed byte of the signed data makes it "INVALID"; a browser
without WebCrypto Ed25519 checks with the vendored TweetNaCl instead; and the offline
check printed on the page, run as written on the downloaded file, says valid. Screenshots
go to test-output/.
"""

from __future__ import annotations

import base64
import datetime as dt
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Browser, BrowserContext, Page

from accounts.models import Role
from accounts.tests.factories import MembershipFactory
from fabrknt.tests.browser import axe_violations
from trace.models import GrowthCertificate
from trace.services.certificates import certificate_issue
from trace.tests.factories import CampaignFactory, ClickFactory, ContractInteractionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OUTPUT = Path(settings.BASE_DIR) / "test-output"
YESTERDAY = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)

# Makes WebCrypto refuse Ed25519, as a browser without it does.
# (SubtleCrypto exists only in secure contexts: not in the initial about:blank.)
NO_WEBCRYPTO_ED25519 = """
if (typeof SubtleCrypto !== "undefined") {
  const importKey = SubtleCrypto.prototype.importKey;
  SubtleCrypto.prototype.importKey = function (format, key, algorithm, ...rest) {
    if ((algorithm.name || algorithm) === "Ed25519") {
      return Promise.reject(new DOMException("Unrecognized name.", "NotSupportedError"));
    }
    return importKey.call(this, format, key, algorithm, ...rest);
  };
}
"""


@pytest.fixture
def campaign():
    campaign = CampaignFactory(name="Frame launch")
    ContractInteractionFactory(
        project=campaign.project,
        occurred_at=dt.datetime.combine(YESTERDAY, dt.time(8), tzinfo=dt.UTC),
        value_usd=Decimal("12.34"),
    )
    return campaign


def _context(browser: Browser, errors: list[str]) -> BrowserContext:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.on("weberror", lambda error: errors.append(str(error.error)))
    context.on(
        "console",
        lambda message: errors.append(message.text) if message.type == "error" else None,
    )
    return context


@pytest.fixture
def open_context(browser: Browser) -> Iterator:
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def open_(signed_in_as=None, init_script: str | None = None) -> Page:
        context = _context(browser, errors)
        contexts.append(context)
        if init_script:
            context.add_init_script(init_script)
        if signed_in_as is not None:
            client = Client()
            client.force_login(signed_in_as)
            cookie = client.cookies["sessionid"].value
            url = open_.base  # type: ignore[attr-defined]
            context.add_cookies([{"name": "sessionid", "value": cookie, "url": url}])
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()
    # No script error and no CSP violation (those are logged as console errors).
    assert errors == []


def _shot(page: Page, name: str) -> None:
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"certificates-{name}.png"), full_page=True)


def _status(page: Page) -> str:
    page.wait_for_function(
        "() => ['valid', 'invalid'].includes("
        "document.getElementById('signature-check').dataset.result)"
    )
    return page.get_by_test_id("signature-status").inner_text()


def test_issue_a_certificate_and_see_it_verified_in_the_browser(
    live_server, open_context, campaign
):
    open_context.base = live_server.url
    project = campaign.project
    viewer = MembershipFactory(organization=project.organization, role=Role.VIEWER)
    page = open_context(signed_in_as=viewer.user)

    page.goto(f"{live_server.url}/trace/projects/{project.pk}/")
    page.get_by_role("link", name="Growth certificates").click()
    page.get_by_label("From").fill(str(YESTERDAY - dt.timedelta(days=6)))
    page.get_by_label("To").fill(str(YESTERDAY))
    _shot(page, "1-issue")
    page.get_by_role("button", name="Issue certificate").click()

    certificate = GrowthCertificate.objects.get()
    page.wait_for_url(f"{live_server.url}/verify/{certificate.pk}")
    assert _status(page) == f"Signature valid — signed by key {certificate.key_id}"
    assert "WebCrypto" in page.get_by_test_id("signature-detail").inner_text()
    assert "12.34" in page.get_by_test_id("certificate-metrics").inner_text()
    _shot(page, "2-verified")
    assert axe_violations(page) == []

    # One changed byte of the signed data, checked again: invalid.
    page.evaluate(
        """() => {
          const box = document.getElementById("signature-check");
          const text = atob(box.dataset.signedBytes).replace('"Fabrknt Suite"', '"Fabrknt Suitf"');
          box.dataset.signedBytes = btoa(text);
        }"""
    )
    page.get_by_role("button", name="Check again").click()
    assert _status(page) == "INVALID"
    assert "does not match" in page.get_by_test_id("signature-detail").inner_text()
    _shot(page, "3-tampered")


def test_a_browser_without_webcrypto_ed25519_checks_with_the_fallback(
    live_server, open_context, campaign
):
    open_context.base = live_server.url
    certificate = certificate_issue(project_id=campaign.project_id)
    page = open_context(init_script=NO_WEBCRYPTO_ED25519)  # anyone: no sign-in

    page.goto(f"{live_server.url}/verify/{certificate.pk}")

    assert _status(page) == f"Signature valid — signed by key {certificate.key_id}"
    assert "TweetNaCl" in page.get_by_test_id("signature-detail").inner_text()

    # A signature of other bytes fails the fallback's check too.
    other = base64.b64encode(b"\x00" * 64).decode()
    page.evaluate(
        "(signature) => { document.getElementById('signature-check').dataset.signature = "
        "signature; }",
        other,
    )
    page.get_by_role("button", name="Check again").click()
    assert _status(page) == "INVALID"


def test_the_offline_check_on_the_page_verifies_the_downloaded_file(
    live_server, open_context, campaign, tmp_path
):
    open_context.base = live_server.url
    certificate = certificate_issue(project_id=campaign.project_id)
    page = open_context()
    page.goto(f"{live_server.url}/verify/{certificate.pk}")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the signed JSON").click()
    download.value.save_as(tmp_path / download.value.suggested_filename)
    snippet = page.get_by_test_id("offline-snippet").inner_text()
    checked = subprocess.run(
        [sys.executable, "-c", snippet], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )

    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith(f"valid, signed by key {certificate.key_id}")


def test_export_clicks_as_csv_from_the_campaign_page(live_server, open_context, campaign):
    open_context.base = live_server.url
    viewer = MembershipFactory(organization=campaign.organization, role=Role.VIEWER)
    click = ClickFactory(campaign=campaign, occurred_at=dt.datetime.now(dt.UTC))
    page = open_context(signed_in_as=viewer.user)

    page.goto(f"{live_server.url}/trace/campaigns/{campaign.pk}/")
    page.get_by_role("link", name="Export CSV").click()
    _shot(page, "4-export")
    with page.expect_download() as download:
        page.get_by_role("button", name="Clicks CSV").click()

    lines = Path(download.value.path()).read_text().splitlines()
    assert download.value.suggested_filename.startswith("frame-launch-clicks-")
    assert lines[0].startswith("occurred_at,click_id,campaign_id")
    assert [line.split(",")[1] for line in lines[1:]] == [click.click_id]
