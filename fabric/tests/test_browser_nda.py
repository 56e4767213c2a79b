"""Signing a listing's NDA in a real browser (headless Debian Chromium, Playwright).

The buyer signs in with an injected EIP-1193 wallet (the sign-in test's provider, whose
personal_sign calls back into Python where a real eth-account key signs), opens an NDA
listing, chooses the wallet and presses "Sign NDA": the page's own script
(static/fabric/nda.js) fetches the text from the NDA API, has the wallet sign it, posts it,
and the reloaded page shows the data room.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.test import Client
from eth_account.messages import encode_defunct
from playwright.sync_api import Browser, Page

from accounts.tests.factories import WalletFactory
from accounts.tests.signing import SolanaWallet
from accounts.tests.test_browser_signin import SIGNER, SOLANA_PROVIDER, WALLET_PROVIDER
from fabric.models import NDANonce, NDASignature
from fabric.selectors import nda_version_hash
from fabric.tests.factories import DataRoomDocumentFactory, ListingFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def live_host(live_server, settings) -> str:
    host = live_server.url.removeprefix("http://")
    settings.SIWE_ALLOWED_DOMAINS = [*settings.SIWE_ALLOWED_DOMAINS, host]
    return host


@pytest.fixture
def wallet_page(browser: Browser) -> Iterator[Callable[..., tuple[Page, list[str], list[str]]]]:
    """A browser profile whose wallet exposes `account` and signs with `key`. Returns the
    page, the texts the wallet signed and the console errors (CSP violations show there)."""
    contexts = []

    def make(*, account: str, key) -> tuple[Page, list[str], list[str]]:
        context = browser.new_context()
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(8000)
        signed: list[str] = []
        errors: list[str] = []
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))

        def py_sign(message_hex: str) -> dict:
            signed.append(bytes.fromhex(message_hex.removeprefix("0x")).decode())
            signature = key.sign_message(encode_defunct(hexstr=message_hex)).signature
            return {"signature": signature.to_0x_hex()}

        page.expose_function("pySign", py_sign)
        page.add_init_script(WALLET_PROVIDER % {"account": account.lower()})
        return page, signed, errors

    yield make
    for context in contexts:
        context.close()


def _signed_in_on_listing(page: Page, live_server, listing) -> None:
    url = f"{live_server.url}/fabric/listings/{listing.pk}/"
    page.goto(url)
    page.get_by_role("link", name="Sign in to sign the NDA").click()
    page.get_by_role("button", name="Sign in with Ethereum wallet").click()
    page.wait_for_url(url)


def test_a_buyer_signs_the_nda_from_the_page_and_the_data_room_appears(
    live_server, live_host, wallet_page
):
    listing = ListingFactory(title="Swap Protocol", nda_text="Keep it secret.")
    DataRoomDocumentFactory(listing=listing, title="Cap table")
    page, signed, errors = wallet_page(account=SIGNER.address, key=SIGNER)
    _signed_in_on_listing(page, live_server, listing)
    assert page.get_by_test_id("nda-text").inner_text() == "Keep it secret."
    assert page.get_by_test_id("gated").count() == 0

    page.get_by_role("button", name="Sign NDA").click()
    page.get_by_test_id("gated").wait_for()

    assert page.get_by_test_id("documents").inner_text() == "Cap table"
    assert page.get_by_test_id("nda-panel").count() == 0
    signature = NDASignature.objects.get()
    assert len(signed) == 2  # the sign-in message, then the NDA
    assert signed[1] == signature.message
    assert signature.message.startswith(
        "Fabrknt Suite wants you to sign a non-disclosure agreement with your wallet:\n"
        f"{SIGNER.address}\n\nListing: Swap Protocol\n"
    )
    assert signature.message.endswith("\n\nKeep it secret.")
    assert (signature.buyer_wallet, signature.nda_version_hash, signature.scheme) == (
        SIGNER.address,
        nda_version_hash(listing),
        "personal_sign",
    )
    assert errors == []


def test_a_signature_over_other_bytes_is_refused_on_the_page(live_server, live_host, wallet_page):
    listing = ListingFactory()
    page, signed, _ = wallet_page(account=SIGNER.address, key=SIGNER)
    _signed_in_on_listing(page, live_server, listing)
    # The wallet now signs other bytes than the text it was shown.
    page.evaluate(
        """() => {
          const sign = window.pySign;
          window.pySign = async (hex) => sign("0x" + "00".repeat(4) + hex.slice(2));
        }"""
    )

    page.get_by_role("button", name="Sign NDA").click()

    page.locator("#nda-status").get_by_text("Not signed:").wait_for()
    assert "Signature does not match" in page.locator("#nda-status").inner_text()
    assert page.get_by_role("button", name="Sign NDA").is_enabled()
    assert NDASignature.objects.count() == 0
    assert NDANonce.objects.get().used_at is None


def test_a_solana_buyer_signs_with_a_phantom_style_wallet(live_server, browser):
    """A buyer signed in with a Solana wallet (the session opened here; the sign-in page
    itself is tested with accounts' browser tests) signs through `signMessage`."""
    solana = SolanaWallet()
    user = WalletFactory(namespace="solana", chain="solana:mainnet", address=solana.address).user
    listing = ListingFactory()
    client = Client()
    client.force_login(user)
    context = browser.new_context()
    try:
        context.add_cookies(
            [
                {
                    "name": "sessionid",
                    "value": client.cookies["sessionid"].value,
                    "url": live_server.url,
                }
            ]
        )
        page = context.new_page()
        page.set_default_timeout(8000)
        signed: list[str] = []

        def py_solana_sign(message: list[int], display: str) -> list[int]:
            signed.append(bytes(message).decode())
            return list(solana.signing_key.sign(bytes(message)).signature)

        page.expose_function("pySolanaSign", py_solana_sign)
        page.add_init_script(SOLANA_PROVIDER % {"address": solana.address})
        page.goto(f"{live_server.url}/fabric/listings/{listing.pk}/")
        page.get_by_role("button", name="Sign NDA").click()
        page.get_by_test_id("gated").wait_for()
    finally:
        context.close()

    signature = NDASignature.objects.get()
    assert signed == [signature.message]
    assert (signature.buyer_wallet, signature.scheme) == (solana.address, "ed25519")
