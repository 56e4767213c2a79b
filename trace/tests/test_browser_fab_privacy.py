"""fab.js honours Global Privacy Control and Do Not Track, and waits for consent when the
site asks it to (`data-consent="required"`), in a real browser (Debian Chromium).

Chromium sends neither signal by itself (Brave and Firefox set GPC, a user turns on Do
Not Track), so each page defines `navigator.globalPrivacyControl` / `doNotTrack` before
any script runs, as such a browser exposes them. The dapp, the wallet and the script are
those of test_browser_fab.py: nothing is stubbed on our side.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page

from accounts.services.api_keys import api_key_issue
from trace.models import LinkProof, WalletLink
from trace.tests import test_browser_fab as fab_page
from trace.tests.factories import ClickFactory

# The dapp's origin, its wallet and its signer, as in test_browser_fab.py.
dapp_server = fab_page.dapp_server
SIGNER = fab_page.SIGNER
WALLET = fab_page.WALLET

pytestmark = pytest.mark.browser

GPC = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true});"
DNT = "Object.defineProperty(Navigator.prototype, 'doNotTrack', {get: () => '1'});"


@pytest.fixture
def open_dapp(
    browser: Browser, live_server, dapp_server
) -> Iterator[Callable[..., tuple[Page, list[str]]]]:
    """The dapp's landing page (`fab_click=clk-1`, a connected wallet) embedding fab.js
    with `attributes`; returns the page and the URLs of every request it made to us."""
    click = ClickFactory(click_id="clk-1")
    key = api_key_issue(organization=click.organization, name="page", scopes=["ingest"]).key
    origin, served = dapp_server
    contexts = []

    def open_page(*, signals: str = "", attributes: str = "") -> tuple[Page, list[str]]:
        context = browser.new_context()
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(8000)
        to_us: list[str] = []
        page.on(
            "request",
            lambda request: (
                to_us.append(request.url)
                if request.url.startswith(f"{live_server.url}/api/")
                else None
            ),
        )
        page.add_init_script(signals + WALLET % {"account": SIGNER.address.lower()})
        served["html"] = (
            "<!doctype html><title>Dapp</title>"
            f'<script src="{live_server.url}/static/trace/fab.js" data-key="{key}" '
            f"{attributes} defer></script>"
        )
        page.goto(f"{origin}/start?fab_click=clk-1")
        page.wait_for_function("window.fab !== undefined")
        return page, to_us

    yield open_page
    for context in contexts:
        context.close()


def _stored_click_id(page: Page) -> dict:
    return page.evaluate(
        "() => ({storage: localStorage.getItem('fab_click'), cookie: document.cookie,"
        " exposed: window.fab.clickId()})"
    )


def _settle(page: Page) -> None:
    """Time for anything fab.js would send (it answers eth_accounts at once)."""
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)


def _link() -> WalletLink | None:
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        link = WalletLink.objects.filter(wallet_address=SIGNER.address).first()
        if link is not None:
            return link
        time.sleep(0.05)
    return None


@pytest.mark.parametrize("signal", [GPC, DNT], ids=["global-privacy-control", "do-not-track"])
def test_a_visitor_who_opted_out_is_neither_stored_nor_sent(open_dapp, signal):
    page, to_us = open_dapp(signals=signal, attributes="data-prove")
    # Even a dapp that asks explicitly, and a consent given afterwards, change nothing.
    assert page.evaluate("a => window.fab.identify(a, {prove: true})", SIGNER.address) is None
    page.evaluate("() => window.fab.consent()")
    _settle(page)

    assert to_us == []
    assert WalletLink.objects.count() == 0
    assert _stored_click_id(page) == {"storage": None, "cookie": "", "exposed": None}
    # The click id still leaves the address bar, so it is not shared onwards.
    assert page.evaluate("location.search") == ""


@pytest.mark.parametrize(
    "give_consent",
    ["window.fab.consent()", "window.dispatchEvent(new Event('fab:consent'))"],
    ids=["consent-call", "consent-event"],
)
def test_with_consent_required_nothing_is_stored_or_sent_until_consent(
    open_dapp, live_server, give_consent
):
    page, to_us = open_dapp(attributes='data-consent="required"')
    # A wallet the dapp names before consent is remembered, not sent.
    assert page.evaluate("a => window.fab.identify(a)", SIGNER.address) is None
    _settle(page)
    assert to_us == []
    assert WalletLink.objects.count() == 0
    assert _stored_click_id(page) == {"storage": None, "cookie": "", "exposed": None}

    page.evaluate(f"() => {give_consent}")

    link = _link()
    assert link is not None, "no link after consent"
    assert (link.click.click_id, link.proof) == ("clk-1", LinkProof.CLAIMED)
    # Only then: the identify call (a CORS preflight, if any, is not a request of the page).
    assert set(to_us) == {f"{live_server.url}/api/v1/identify"}
    stored = _stored_click_id(page)
    assert stored["exposed"] == "clk-1"
    assert "fab_click=clk-1" in stored["cookie"]


def test_without_signals_or_consent_attribute_fab_js_works_as_before(open_dapp):
    page, _to_us = open_dapp()

    link = _link()

    assert link is not None
    assert link.click.click_id == "clk-1"
    assert _stored_click_id(page)["exposed"] == "clk-1"
