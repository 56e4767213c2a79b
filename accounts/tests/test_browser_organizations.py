"""The organization journey in a real browser (headless Debian Chromium, Playwright): a
new wallet signs in, is guided to create an organization, creates it and an API key it
sees once, adds a teammate as viewer, who then sees no write controls.

Wallets sign with real eth-account keys through an injected EIP-1193 provider (see
test_browser_signin). axe-core (vendored, static/vendor/axe-core) checks every page for
serious or critical WCAG 2.1 A/AA violations; the console must stay free of errors (a CSP
violation shows up there). A screenshot of each step is saved under test-output/.
"""

from __future__ import annotations

import pytest
from eth_account import Account
from playwright.sync_api import Page

from accounts.models import ApiKey, AuditAction, AuditEvent, Membership, Organization, Role
from accounts.services.api_keys import api_key_authenticate
from accounts.tests.test_browser_signin import live_host, open_page  # noqa: F401  (fixtures)
from fabrknt.tests.browser import axe_violations, screenshot

pytestmark = pytest.mark.browser

OWNER = Account.from_key("0x" + "3" * 64)
VIEWER = Account.from_key("0x" + "4" * 64)


def _sign_in(page: Page, base: str, account) -> None:
    page.goto(f"{base}/signin?next=/trace/")
    page.get_by_role("button", name="Sign in with Ethereum wallet").click()
    page.wait_for_url(f"{base}/trace/")


def _submit(page: Page, label: str) -> None:
    """Leave the last field (its inline check runs), let the check finish, then submit: a
    check still in flight would be aborted by the navigation, which htmx logs as an error."""
    button = page.get_by_role("button", name=label)
    button.focus()
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    button.click()


def _check(page: Page, name: str) -> None:
    screenshot(page, f"organizations-{name}")
    assert axe_violations(page) == [], name


# A new wallet creates an organization and a key; a viewer sees no write controls.
def test_organization_journey(live_server, live_host, open_page):  # noqa: F811
    base = live_server.url
    page, _, errors = open_page(wallet=OWNER.address.lower(), key=OWNER)

    # Signed in, the dashboard guides a user without an organization to create one.
    _sign_in(page, base, OWNER)
    assert page.get_by_text("Start with your organization").is_visible()
    _check(page, "1-guided")
    page.get_by_role("link", name="Create an organization").first.click()
    page.wait_for_url(f"{base}/organizations/new")

    # Inline validation (htmx) says what is wrong before anything is submitted.
    name = page.get_by_label("Name")
    name.fill("   ")
    name.blur()
    page.get_by_text("This field is required.").wait_for()
    assert not Organization.objects.exists()
    _check(page, "2-create-invalid")
    page.get_by_label("Name").fill("Orbit Labs")
    _submit(page, "Create organization")
    page.get_by_text("Orbit Labs is ready. You are its owner.").wait_for()
    organization = Organization.objects.get()
    assert page.url == f"{base}/organizations/{organization.pk}/"
    assert page.get_by_test_id("organization-switch").input_value() == str(organization.pk)
    _check(page, "3-created")

    # A secret key is shown once, with a copy button.
    page.get_by_role("link", name="API keys").click()
    page.get_by_role("link", name="Create API key").first.click()
    page.get_by_label("Name").fill("Backend")
    page.get_by_label("read — servers read").check()
    _submit(page, "Create key")
    shown = page.get_by_test_id("issued-key").input_value()
    assert api_key_authenticate(key=shown) == ApiKey.objects.get()
    assert page.get_by_role("button", name="Copy").is_visible()
    assert page.get_by_text("it is shown only once").is_visible()
    _check(page, "4-key-shown-once")
    page.get_by_role("link", name="Back to API keys").click()
    assert shown not in page.content()
    page.get_by_role("link", name="Backend").click()
    assert shown not in page.content()

    # Revoking asks first, in a dialog.
    page.get_by_role("link", name="Revoke").click()
    dialog = page.locator("dialog#modal")
    dialog.get_by_text("Revoke this key?").wait_for()
    _check(page, "5-revoke-dialog")
    dialog.get_by_role("link", name="Cancel").click()
    assert not dialog.is_visible()
    assert api_key_authenticate(key=shown) is not None

    # A teammate joins as a viewer.
    page.get_by_role("link", name="Members").click()
    page.get_by_role("link", name="Add member").click()
    page.get_by_label("Wallet address").fill(VIEWER.address)
    page.get_by_label("Role").select_option("viewer")
    _submit(page, "Add member")
    page.get_by_text(f"{VIEWER.address} added as Viewer.").wait_for()
    assert Membership.objects.get(user__wallets__address=VIEWER.address).role == Role.VIEWER
    _check(page, "6-members-owner")
    assert errors == []

    viewer_page, _, viewer_errors = open_page(wallet=VIEWER.address.lower(), key=VIEWER)
    _sign_in(viewer_page, base, VIEWER)
    viewer_page.goto(f"{base}/organizations/{organization.pk}/members/")
    main = viewer_page.locator("main")
    assert main.get_by_text(OWNER.address).is_visible()
    assert main.get_by_role("link", name="Add member").count() == 0
    assert main.get_by_role("link", name="Remove").count() == 0
    assert main.get_by_role("link", name="API keys").count() == 0
    assert main.locator("select, form").count() == 0
    _check(viewer_page, "7-members-viewer")
    viewer_page.goto(f"{base}/organizations/{organization.pk}/settings")
    assert viewer_page.locator("main form").count() == 0
    viewer_page.goto(f"{base}/organizations/{organization.pk}/audit")
    viewer_page.get_by_role("rowheader", name="API key created").wait_for()
    # The filter swaps the table in place (htmx) and keeps the choice in the URL.
    viewer_page.get_by_label("Action").select_option("member.added")
    viewer_page.wait_for_url("**/audit?action=member.added**")
    assert viewer_page.get_by_role("rowheader").all_inner_texts() == ["Member added"]
    _check(viewer_page, "8-audit-viewer")
    assert viewer_errors == []
    assert AuditEvent.objects.filter(action=AuditAction.MEMBER_ADDED).count() == 1
