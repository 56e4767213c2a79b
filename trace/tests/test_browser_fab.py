"""fab.js in a real browser (headless Debian Chromium, Playwright) on a dapp's page.

The dapp is another origin (a small HTTP server of its own on 127.0.0.1: Chromium lets a
page load from the loopback address space only when it is served from there too) that
embeds our script with its public ingest key. The wallet is an injected EIP-1193 provider
whose personal_sign calls back into Python, where a real eth-account key signs. The
script runs unchanged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from playwright.sync_api import Browser, Page

from accounts.services.api_keys import api_key_issue
from trace.models import IdentifyNonce, LinkProof, WalletLink
from trace.tests.factories import ClickFactory

pytestmark = pytest.mark.browser

SIGNER = Account.from_key("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")

WALLET = """
(() => {
  const account = "%(account)s";
  window.ethereum = {
    on: () => {},
    request: async ({ method, params }) => {
      if (method === "eth_accounts" || method === "eth_requestAccounts") return [account];
      if (method === "personal_sign") {
        const answer = await window.pySign(params[0], params[1]);
        if (answer.rejected) throw { code: 4001, message: "User rejected the request." };
        return answer.signature;
      }
      throw { code: 4200, message: "Unsupported method " + method };
    },
  };
})();
"""


@pytest.fixture
def dapp_server() -> Iterator[tuple[str, dict]]:
    """An origin of its own for the dapp: serves `page["html"]` at every path."""
    page: dict = {"html": ""}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = page["html"].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", page
    server.shutdown()
    server.server_close()


@pytest.fixture
def dapp(
    browser: Browser, live_server, dapp_server
) -> Iterator[Callable[..., tuple[Page, list[str]]]]:
    """Open the dapp's landing page (with `fab_click=clk-1`) embedding fab.js; returns the
    page and the messages the wallet was asked to sign."""
    click = ClickFactory(click_id="clk-1")
    key = api_key_issue(organization=click.organization, name="page", scopes=["ingest"]).key
    origin, served = dapp_server
    contexts = []

    def open_dapp(*, prove: bool, reject: bool = False) -> tuple[Page, list[str]]:
        context = browser.new_context()
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(8000)
        asked: list[str] = []

        def py_sign(message_hex: str, address: str) -> dict:
            asked.append(bytes.fromhex(message_hex.removeprefix("0x")).decode())
            if reject or address.lower() != SIGNER.address.lower():
                return {"rejected": True}
            signature = SIGNER.sign_message(encode_defunct(hexstr=message_hex)).signature
            return {"signature": signature.to_0x_hex()}

        page.expose_function("pySign", py_sign)
        page.add_init_script(WALLET % {"account": SIGNER.address.lower()})
        served["html"] = (
            "<!doctype html><title>Dapp</title>"
            f'<script src="{live_server.url}/static/trace/fab.js" data-key="{key}"'
            f"{' data-prove' if prove else ''} defer></script>"
        )
        page.goto(f"{origin}/start?fab_click=clk-1")
        return page, asked

    yield open_dapp
    for context in contexts:
        context.close()


def _link(page: Page) -> WalletLink:
    """The wallet's link, once fab.js has made it."""
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        link = WalletLink.objects.filter(wallet_address=SIGNER.address).first()
        if link is not None:
            return link
        page.wait_for_timeout(50)
    raise AssertionError("fab.js made no link")


def test_data_prove_asks_the_wallet_to_sign_and_the_link_is_proven(dapp):
    page, asked = dapp(prove=True)
    link = _link(page)
    assert (link.proof, link.click.click_id) == (LinkProof.PROVEN, "clk-1")
    nonce = IdentifyNonce.objects.get()
    assert asked == [nonce.message]
    assert nonce.used_at == link.proven_at
    # fab.js took the click id out of the address bar.
    assert page.evaluate("location.search") == ""


def test_a_wallet_that_declines_to_sign_still_claims_the_link(dapp):
    page, asked = dapp(prove=True, reject=True)
    link = _link(page)
    assert (link.proof, link.proven_at, len(asked)) == (LinkProof.CLAIMED, None, 1)
    assert IdentifyNonce.objects.get().used_at is None


def test_without_data_prove_the_link_is_claimed_and_nothing_is_signed(dapp):
    page, asked = dapp(prove=False)
    link = _link(page)
    assert (link.proof, asked) == (LinkProof.CLAIMED, [])
    assert IdentifyNonce.objects.count() == 0
    # A dapp may still ask for proof itself, once the link exists: it is upgraded.
    answer = page.evaluate("a => window.fab.identify(a, {prove: true})", SIGNER.address)
    assert answer["proof"] == "proven"
    link.refresh_from_db()
    assert link.proof == LinkProof.PROVEN
