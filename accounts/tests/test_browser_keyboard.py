"""The sign-in and the main forms with the keyboard alone (issue 9, accessibility): no
click, only Tab, typing, Space and Enter, in headless Chromium, with a wallet signing by a
real eth-account key (the injected EIP-1193 provider of test_browser_signin)."""

from __future__ import annotations

import pytest
from eth_account import Account

from accounts.models import Organization
from accounts.tests.test_browser_signin import live_host, open_page  # noqa: F401  (fixtures)
from fabrknt.tests.browser import tab_to
from trace.models import Project

pytestmark = pytest.mark.browser

KEYBOARD = Account.from_key("0x" + "5" * 64)


def test_sign_in_and_create_an_organization_and_a_project_by_keyboard(
    live_server,
    live_host,  # noqa: F811
    open_page,  # noqa: F811
):
    base = live_server.url
    page, signed, errors = open_page(wallet=KEYBOARD.address.lower(), key=KEYBOARD)

    page.goto(f"{base}/signin?next=/trace/")
    tab_to(page, "el.textContent.includes('Sign in with Ethereum')")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/trace/")
    assert len(signed) == 1

    # The guide to a first organization, then its form, by keyboard.
    tab_to(page, "el.tagName === 'A' && el.textContent.includes('Create an organization')")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/organizations/new")
    tab_to(page, "el.name === 'name'")
    page.keyboard.type("Keyboard Labs")
    page.keyboard.press("Enter")
    page.get_by_text("Keyboard Labs is ready.").wait_for()
    assert Organization.objects.get().name == "Keyboard Labs"

    # A project: its name and chain picked and its contract typed, then submitted.
    page.goto(f"{base}/trace/projects/new")
    tab_to(page, "el.name === 'name'")
    page.keyboard.type("Keyed")
    tab_to(page, "el.name === 'chain'")
    page.keyboard.type("Base")  # a select picks the option its typed letters start
    tab_to(page, "el.name === 'contract_addresses'")
    page.keyboard.type("0x5fbdb2315678afecb367f032d93f642f64180aa3")
    tab_to(page, "el.type === 'submit'")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/trace/projects/**/")
    project = Project.objects.get()
    assert (project.name, project.chain) == ("Keyed", "eip155:8453")
    assert errors == []
