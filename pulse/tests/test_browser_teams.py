"""A team's setup in a real browser (headless Debian Chromium, Playwright): a member signs
in with a wallet, follows PULSE's empty state to create a team, copies the webhook secret
shown once with the repository-webhook instructions, opens the team's settings, adds a
contributor by wallet and GitHub username, and (as the organization's owner) makes a new
secret through the confirm step. Each page is checked with axe-core and on a phone-sized
viewport; screenshots go to test-output/."""

from __future__ import annotations

import pytest
from eth_account import Account

from accounts.models import User
from accounts.services.organizations import organization_create
from accounts.tests.test_browser_signin import live_host, open_page  # noqa: F401  (fixtures)
from fabrknt.tests.browser import PHONE, axe_violations, horizontal_overflow, screenshot
from pulse.models import Contributor, Team

pytestmark = pytest.mark.browser

OWNER = Account.from_key("0x" + "6" * 64)
CONTRIBUTOR = Account.from_key("0x" + "7" * 64).address


def _check(page, name: str) -> None:
    assert axe_violations(page) == [], name
    size = page.viewport_size
    page.set_viewport_size(PHONE)
    assert horizontal_overflow(page) == [], name
    screenshot(page, f"pulse-teams-{name}")
    page.set_viewport_size(size)


def test_create_a_team_connect_github_and_add_a_contributor(
    live_server,
    live_host,  # noqa: F811
    open_page,  # noqa: F811
    settings,
):
    settings.GITHUB_APP_SLUG = ""
    base = live_server.url
    page, _, errors = open_page(wallet=OWNER.address.lower(), key=OWNER)
    page.goto(f"{base}/signin?next=/pulse/teams/")
    page.get_by_role("button", name="Sign in with Ethereum wallet").click()
    page.wait_for_url(f"{base}/pulse/teams/")
    organization_create(name="Orbit Labs", owner=User.objects.get())

    page.goto(f"{base}/pulse/teams/")
    page.get_by_text("No team yet").wait_for()
    _check(page, "1-empty")
    page.get_by_role("link", name="Create a team").first.click()
    page.wait_for_url(f"{base}/pulse/teams/new")
    page.get_by_label("Team name").fill("Core devs")
    page.get_by_label("GitHub repositories").fill("Orbit-Labs/App\norbit-labs/contracts")
    _check(page, "2-create")
    button = page.get_by_role("button", name="Create team")
    button.focus()
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    button.click()

    page.get_by_text("Core devs is ready").wait_for()
    team = Team.objects.get()
    secret = page.get_by_test_id("webhook-secret").input_value()
    assert secret == team.github_webhook_secret and len(secret) == 64
    url = page.get_by_test_id("webhook-url").inner_text()
    assert url.endswith(f"/api/v1/github/webhook?team={team.pulse_id}")
    _check(page, "3-secret")

    page.get_by_test_id("to-settings").click()
    page.wait_for_url(f"{base}/pulse/teams/{team.pulse_id}/settings")
    repositories = page.get_by_test_id("repositories").inner_text()
    assert "orbit-labs/app" in repositories and "repository webhook" in repositories
    assert secret not in page.content()
    assert "not configured" in page.get_by_role("region", name="GitHub").inner_text()
    _check(page, "4-settings")

    page.get_by_role("link", name="Add a contributor").click()
    page.get_by_label("Wallet address").fill(CONTRIBUTOR.lower())
    page.get_by_label("GitHub username").fill("Ada-L")
    button = page.get_by_role("button", name="Add contributor")
    button.focus()
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    button.click()
    page.get_by_text("ada-l added.").wait_for()
    contributors = page.get_by_test_id("contributors").inner_text()
    assert CONTRIBUTOR in contributors and "asserted" in contributors
    assert Contributor.objects.get().wallet_address == CONTRIBUTOR

    page.get_by_test_id("rotate-secret").click()
    page.get_by_role("button", name="Make a new secret").click()
    page.get_by_text("New webhook secret for Core devs").wait_for()
    rotated = page.get_by_test_id("webhook-secret").input_value()
    team.refresh_from_db()
    assert rotated == team.github_webhook_secret != secret
    _check(page, "5-rotated")
    assert errors == []
