"""The account page in a real browser (headless Debian Chromium, Playwright): sign in with
one wallet, open "Your account", link a second wallet by signing with it, see it listed.

The wallet is an EIP-1193 provider injected before each page loads, as a browser extension
would be; it answers with whichever account is "selected" in the extension (switched by
the test, as a person switches accounts in MetaMask) and signs in Python with that
account's real eth-account key. The pages' own scripts (wallet.js, signin.js,
link-wallet.js) run unchanged. A screenshot of the page is kept in test-output/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from eth_account import Account
from eth_account.messages import encode_defunct

from accounts.models import User, Wallet

pytestmark = pytest.mark.browser

FIRST = Account.from_key("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
SECOND = Account.from_key("0x" + "3" * 64)
SCREENSHOTS = Path(settings.BASE_DIR) / "test-output"

# Asks Python which account the "extension" has selected, and to sign with its key.
SWITCHABLE_WALLET = """
(() => {
  window.ethereum = {
    isMetaMask: true,
    request: async ({ method, params }) => {
      const account = await window.pyAccount();
      if (method === "eth_requestAccounts" || method === "eth_accounts") return [account];
      if (method === "eth_chainId") return "0x38";
      if (method === "personal_sign") {
        if (String(params[1]).toLowerCase() !== account) {
          throw { code: 4100, message: "The requested account has not been authorized." };
        }
        return await window.pySign(params[0]);
      }
      throw { code: 4200, message: "Unsupported method " + method };
    },
  };
})();
"""


@pytest.fixture
def live_host(live_server, settings) -> str:
    host = live_server.url.removeprefix("http://")
    settings.SIWE_ALLOWED_DOMAINS = [*settings.SIWE_ALLOWED_DOMAINS, host]
    return host


def test_link_a_second_wallet_from_the_account_page(live_server, live_host, browser):
    keys = {account.address.lower(): account for account in (FIRST, SECOND)}
    selected = {"address": FIRST.address.lower()}
    signed: list[str] = []
    errors: list[str] = []

    def py_sign(message_hex: str) -> str:
        signed.append(bytes.fromhex(message_hex.removeprefix("0x")).decode())
        key = keys[selected["address"]]
        return key.sign_message(encode_defunct(hexstr=message_hex)).signature.to_0x_hex()

    context = browser.new_context(viewport={"width": 1100, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(8000)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.expose_function("pyAccount", lambda: selected["address"])
        page.expose_function("pySign", py_sign)
        page.add_init_script(SWITCHABLE_WALLET)

        page.goto(f"{live_server.url}/signin?next=/")
        page.get_by_role("button", name="Sign in with Ethereum wallet").click()
        page.wait_for_url(f"{live_server.url}/")

        page.get_by_role("link", name="Your account").click()
        page.wait_for_url(f"{live_server.url}/account/")
        listed = page.get_by_test_id("wallet-list")
        assert listed.locator("li").count() == 1
        assert FIRST.address in listed.inner_text()

        selected["address"] = SECOND.address.lower()  # the person switches accounts
        page.get_by_role("button", name="Link an Ethereum wallet").click()
        page.get_by_text("is linked to your account.").wait_for()

        assert page.url == f"{live_server.url}/account/"
        assert listed.locator("li").count() == 2
        assert SECOND.address in listed.inner_text()
        user = User.objects.get()
        assert set(user.wallets.values_list("address", "chain")) == {
            (FIRST.address, "eip155:56"),
            (SECOND.address, "eip155:56"),
        }
        assert Wallet.objects.count() == 2
        assert signed[1].startswith(
            f"{live_host} wants you to sign in with your Ethereum account:\n{SECOND.address}\n\n"
            f"Link this wallet to Fabrknt Suite account {user.pk}.\n\n"
        )
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "account-wallet-linked.png", full_page=True)
        assert errors == []
    finally:
        context.close()
