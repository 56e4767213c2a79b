"""Creating a project in a real browser (headless Debian Chromium, Playwright): a member
signs in with a wallet (a real eth-account key behind an injected EIP-1193 provider, see
accounts/tests/test_browser_signin), follows the dashboard's empty state to the create
page, picks a chain by name, lands on the new project's page and reads the state of ingest
in words; "Verify control" fetches the message, has the wallet sign it and posts it to the
API with the session and its CSRF token. Screenshots go to test-output/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from eth_account import Account
from playwright.sync_api import Page

from accounts.models import User
from accounts.services.organizations import organization_create
from accounts.tests.test_browser_signin import live_host, open_page  # noqa: F401  (fixtures)
from trace.models import Project

pytestmark = pytest.mark.browser

MEMBER = Account.from_key("0x" + "5" * 64)
CONTRACT = "0x52908400098527886E0F7030069857D2E4169EE7"
OUTPUT = Path(settings.BASE_DIR) / "test-output"


def _shot(page: Page, name: str) -> None:
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"projects-{name}.png"), full_page=True)


def test_create_a_project_from_the_empty_state(live_server, live_host, open_page, settings):  # noqa: F811
    settings.CHAIN_RPC_URLS = {}
    base = live_server.url
    page, signed, errors = open_page(wallet=MEMBER.address.lower(), key=MEMBER)
    page.goto(f"{base}/signin?next=/trace/")
    page.get_by_role("button", name="Sign in with Ethereum wallet").click()
    page.wait_for_url(f"{base}/trace/")
    organization_create(name="Orbit Labs", owner=User.objects.get())

    page.goto(f"{base}/trace/")
    page.get_by_text("No projects yet").wait_for()
    _shot(page, "1-empty-state")
    page.get_by_role("link", name="Create a project").click()
    page.wait_for_url(f"{base}/trace/projects/new")

    page.get_by_label("Name").fill("Basedrop")
    page.get_by_label("Chain").select_option(label="Base — eip155:8453")
    page.get_by_label("Contract addresses").fill(CONTRACT.lower())
    _shot(page, "2-create")
    button = page.get_by_role("button", name="Create project")
    button.focus()
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    button.click()

    page.get_by_text("Basedrop is ready.").wait_for()
    project = Project.objects.get()
    assert page.url == f"{base}/trace/projects/{project.pk}/"
    assert (project.chain, project.contract_addresses) == ("eip155:8453", [CONTRACT])
    ingest = page.get_by_test_id("ingest")
    assert "indexer not configured" in ingest.get_by_test_id("ingest-indexer").inner_text()
    assert "nothing received yet" in ingest.get_by_test_id("ingest-webhook").inner_text()
    assert page.get_by_text("No metrics yet").is_visible()
    link = page.get_by_role("link", name=CONTRACT)
    assert link.get_attribute("href") == f"https://basescan.org/address/{CONTRACT}"
    _shot(page, "3-project")
    assert errors == []

    # Verify control: the wallet signs the server's message, the API answers (here: no
    # RPC for Base, so the chain cannot be read) and the page says so.
    page.get_by_role("button", name="Verify control").click()
    status = page.locator(".verify-control__status")
    status.get_by_text("chain_not_configured").wait_for()
    assert len(signed) == 2 and CONTRACT in signed[-1]  # sign-in, then the proof
    _shot(page, "4-verify-refused")
