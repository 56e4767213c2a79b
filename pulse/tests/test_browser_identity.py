"""Linking GitHub and Discord in a real browser (headless Debian Chromium, Playwright):
sign in with a wallet, open "Your account", click "Link GitHub", consent on the (local)
GitHub, come back linked; then Discord. The OAuth providers are the local server of
pulse/tests/oauth_provider.py; the wallet is an injected EIP-1193 provider signing with a
real eth-account key, as in accounts' browser tests."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from fabrknt.tests.browser import axe_violations, screenshot
from pulse.models import Contribution, Contributor, IdentityStatus, Platform
from pulse.tests.factories import ContributionFactory, ContributorFactory, TeamFactory

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

KEY = Account.from_key("0x" + "5" * 64)
WALLET = """
(() => {
  const account = "%s";
  window.ethereum = {
    isMetaMask: true,
    request: async ({ method, params }) => {
      if (method === "eth_requestAccounts" || method === "eth_accounts") return [account];
      if (method === "eth_chainId") return "0x1";
      if (method === "personal_sign") return await window.pySign(params[0]);
      throw { code: 4200, message: "Unsupported method " + method };
    },
  };
})();
""" % KEY.address.lower()


def test_link_github_and_discord_from_the_account_page(
    live_server, browser, settings, oauth_provider
):
    host = live_server.url.removeprefix("http://")
    settings.SIWE_ALLOWED_DOMAINS = [*settings.SIWE_ALLOWED_DOMAINS, host]
    settings.PUBLIC_BASE_URL = live_server.url
    team = TeamFactory(team_name="Builders")
    contributor = ContributorFactory(team=team, wallet_address=KEY.address, github_login="")
    ContributionFactory(
        team=team, contributor=None, source_login="octo-dev", source_id="commit:1:a"
    )
    ContributionFactory(
        team=team,
        contributor=None,
        platform=Platform.DISCORD,
        source_login="700000000000000002",
        source_id="900000000000000001",
        contribution_type="reply",
    )
    errors: list[str] = []
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(8000)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.expose_function(
            "pySign",
            lambda message_hex: KEY.sign_message(
                encode_defunct(hexstr=message_hex)
            ).signature.to_0x_hex(),
        )
        page.add_init_script(WALLET)

        page.goto(f"{live_server.url}/signin?next=/account/")
        page.get_by_role("button", name="Sign in with Ethereum wallet").click()
        page.wait_for_url(f"{live_server.url}/account/")
        assert page.get_by_test_id("identity-github").inner_text().strip() == "Not linked"

        page.get_by_role("link", name="Link GitHub").click()
        page.get_by_text("GitHub @Octo-Dev is linked to your wallet in 1 team").wait_for()
        assert page.url == f"{live_server.url}/account/"
        assert page.get_by_test_id("identity-github").inner_text().strip() == "Linked: @octo-dev"

        page.get_by_role("link", name="Link Discord").click()
        page.get_by_text("Discord Helpful Helper is linked to your wallet in 1 team").wait_for()
        assert page.get_by_test_id("identity-discord").inner_text().strip() == (
            "Linked: 700000000000000002"
        )
        assert axe_violations(page) == []
        screenshot(page, "pulse-identity-linked")
        assert errors == []
    finally:
        context.close()

    contributor.refresh_from_db()
    assert (contributor.github_login, contributor.github_identity) == (
        "octo-dev",
        IdentityStatus.LINKED,
    )
    assert (contributor.discord_id, contributor.discord_identity) == (
        "700000000000000002",
        IdentityStatus.LINKED,
    )
    assert Contribution.objects.filter(contributor=contributor).count() == 2
    assert Contributor.objects.count() == 1
