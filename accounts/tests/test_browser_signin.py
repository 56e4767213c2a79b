"""Wallet sign-in in a real browser: headless Debian Chromium driven by Playwright.

The page's own script (static/js/signin.js) runs unchanged, as it would with MetaMask: an
EIP-1193 provider injected before the page loads answers `eth_requestAccounts` with a
lowercase address (as MetaMask does), `eth_chainId` with Base, and `personal_sign` by
calling back into Python, where a real eth-account key signs. The API checks the
signature with the `siwe` package and opens the Django session the page then shows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import base58
import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from eth_account import Account
from eth_account.messages import encode_defunct
from nacl.signing import SigningKey
from playwright.sync_api import Browser, Page

from accounts.models import SignInNonce, User, Wallet

pytestmark = pytest.mark.browser

# Well-known test keys (never used on a real chain).
SIGNER = Account.from_key("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
STRANGER = Account.from_key("0x" + "2" * 64)

# The provider a wallet extension would inject. `pySign` is exposed from Python per page.
WALLET_PROVIDER = """
(() => {
  const account = "%(account)s";
  window.ethereum = {
    isMetaMask: true,
    request: async ({ method, params }) => {
      if (method === "eth_requestAccounts" || method === "eth_accounts") return [account];
      if (method === "eth_chainId") return "0x2105";
      if (method === "personal_sign") {
        if (String(params[1]).toLowerCase() !== account) {
          throw { code: 4100, message: "The requested account has not been authorized." };
        }
        const answer = await window.pySign(params[0]);
        if (answer.rejected) throw { code: 4001, message: "User rejected the request." };
        return answer.signature;
      }
      throw { code: 4200, message: "Unsupported method " + method };
    },
  };
})();
"""


# A Phantom-style provider; signMessage hands the bytes to Python, where PyNaCl signs.
SOLANA_PROVIDER = """
(() => {
  const publicKey = { toString: () => "%(address)s" };
  window.phantom = {
    solana: {
      isPhantom: true,
      publicKey: null,
      connect: async () => ({ publicKey }),
      signMessage: async (bytes, display) => {
        const signature = await window.pySolanaSign(Array.from(bytes), display);
        return { signature: new Uint8Array(signature), publicKey };
      },
    },
  };
})();
"""


@pytest.fixture
def live_host(live_server, settings) -> str:
    """The live server's host:port, which the page puts in the message's `domain`."""
    host = live_server.url.removeprefix("http://")
    settings.SIWE_ALLOWED_DOMAINS = [*settings.SIWE_ALLOWED_DOMAINS, host]
    return host


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Callable[..., tuple[Page, list[str], list[str]]]]:
    """A fresh browser profile with a wallet signing by `key` (or none, or one that
    refuses). Returns the page, the messages the wallet signed and the console errors
    (a CSP violation shows up there)."""
    contexts = []

    def make(*, wallet: str | None, key=SIGNER, reject: bool = False):
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
            if reject:
                return {"rejected": True}
            signature = key.sign_message(encode_defunct(hexstr=message_hex)).signature
            return {"signature": signature.to_0x_hex()}

        if wallet is not None:
            page.expose_function("pySign", py_sign)
            page.add_init_script(WALLET_PROVIDER % {"account": wallet})
        return page, signed, errors

    yield make
    for context in contexts:
        context.close()


def _session_user_id(page: Page) -> str | None:
    cookies = {cookie["name"]: cookie["value"] for cookie in page.context.cookies()}
    if "sessionid" not in cookies:
        return None
    session = Session.objects.filter(session_key=cookies["sessionid"]).first()
    return session.get_decoded().get(SESSION_KEY) if session else None


def test_ethereum_wallet_signs_in_and_out_in_a_real_browser(live_server, live_host, open_page):
    page, signed, errors = open_page(wallet=SIGNER.address.lower())

    page.goto(f"{live_server.url}/signin?next=/")
    page.get_by_role("button", name="Sign in with Ethereum wallet").click()
    page.wait_for_url(f"{live_server.url}/")

    # The page checksummed the wallet's lowercase address itself (EIP-55 in JS).
    checksummed = SIGNER.address
    assert checksummed != checksummed.lower()
    assert len(signed) == 1
    message = signed[0]
    nonce = SignInNonce.objects.get()
    assert message.startswith(
        f"{live_host} wants you to sign in with your Ethereum account:\n{checksummed}\n\n"
    )
    assert f"\nURI: {live_server.url}\nVersion: 1\nChain ID: 8453\nNonce: {nonce.value}\n" in (
        message
    )
    assert nonce.used_at is not None

    wallet = Wallet.objects.get()
    assert (wallet.namespace, wallet.chain, wallet.address) == (
        "eip155",
        "eip155:8453",
        checksummed,
    )
    assert User.objects.count() == 1
    assert _session_user_id(page) == str(wallet.user_id)
    assert page.get_by_test_id("signed-in-wallet").inner_text() == (
        f"{checksummed[:6]}…{checksummed[-4:]}"
    )
    assert page.get_by_role("link", name="Go to dashboard").is_visible()

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.get_by_role("link", name="Sign in", exact=True).is_visible()
    assert _session_user_id(page) is None
    assert errors == []


def test_without_a_wallet_the_page_says_so_and_nothing_is_stored(live_server, open_page):
    page, _, _ = open_page(wallet=None)

    page.goto(f"{live_server.url}/signin")
    page.get_by_role("button", name="Sign in with Ethereum wallet").click()

    status = page.locator("#signin-status")
    status.get_by_text("No Ethereum wallet found").wait_for()
    assert "signin__status--error" in status.get_attribute("class")
    assert page.get_by_role("button", name="Sign in with Ethereum wallet").is_enabled()
    assert SignInNonce.objects.count() == 0
    assert Wallet.objects.count() == 0
    assert _session_user_id(page) is None


def test_rejected_signature_shows_why_and_nothing_is_stored(live_server, live_host, open_page):
    page, signed, _ = open_page(wallet=SIGNER.address.lower(), reject=True)

    page.goto(f"{live_server.url}/signin")
    page.get_by_role("button", name="Sign in with Ethereum wallet").click()

    page.locator("#signin-status").get_by_text("You rejected the request").wait_for()
    assert len(signed) == 1
    assert page.url == f"{live_server.url}/signin"
    assert Wallet.objects.count() == 0
    assert User.objects.count() == 0
    assert _session_user_id(page) is None


def test_signature_by_another_key_shows_the_servers_reason(live_server, live_host, open_page):
    page, _, _ = open_page(wallet=SIGNER.address.lower(), key=STRANGER)

    page.goto(f"{live_server.url}/signin")
    page.get_by_role("button", name="Sign in with Ethereum wallet").click()

    status = page.locator("#signin-status")
    status.get_by_text("Sign-in refused:").wait_for()
    assert page.url == f"{live_server.url}/signin"
    assert Wallet.objects.count() == 0
    assert User.objects.count() == 0
    assert _session_user_id(page) is None


def test_solana_wallet_signs_in_in_a_real_browser(live_server, live_host, browser):
    key = SigningKey(bytes(range(32)))
    address = base58.b58encode(bytes(key.verify_key)).decode()
    signed: list[str] = []
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(8000)

        def py_solana_sign(message: list[int], display: str) -> list[int]:
            assert display == "utf8"
            signed.append(bytes(message).decode())
            return list(key.sign(bytes(message)).signature)

        page.expose_function("pySolanaSign", py_solana_sign)
        page.add_init_script(SOLANA_PROVIDER % {"address": address})
        page.goto(f"{live_server.url}/signin?next=/")
        page.get_by_role("button", name="Sign in with Solana wallet").click()
        page.wait_for_url(f"{live_server.url}/")

        nonce = SignInNonce.objects.get()
        assert signed[0].startswith(
            f"{live_host} wants you to sign in with your Solana account:\n{address}\n\n"
        )
        assert f"\nChain ID: mainnet\nNonce: {nonce.value}\nIssued At: " in signed[0]
        wallet = Wallet.objects.get()
        assert (wallet.namespace, wallet.chain, wallet.address) == (
            "solana",
            "solana:mainnet",
            address,
        )
        assert _session_user_id(page) == str(wallet.user_id)
        assert page.get_by_test_id("signed-in-wallet").inner_text() == (
            f"{address[:6]}…{address[-4:]}"
        )
    finally:
        context.close()
