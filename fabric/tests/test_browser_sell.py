"""A seller lists a project in a real browser (headless Debian Chromium, Playwright): from
the empty state through the five steps (organization and links, describe, assets, the
buyer's preview, publish) to the listing's own page, then withdraws it through the confirm
dialog. Each step is checked with axe-core and on a phone-sized viewport; screenshots go
to test-output/."""

from __future__ import annotations

import pytest
from django.test import Client
from eth_account import Account

from accounts.models import Role
from accounts.tests.factories import MembershipFactory, OrganizationFactory, WalletFactory
from fabric.models import Listing, ListingStatus
from fabrknt.tests.browser import PHONE, axe_violations, horizontal_overflow, screenshot
from pulse.tests.factories import TeamFactory
from trace.tests.factories import ProjectFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _check(page, name: str) -> None:
    assert axe_violations(page) == [], name
    size = page.viewport_size
    page.set_viewport_size(PHONE)
    assert horizontal_overflow(page) == [], name
    screenshot(page, f"fabric-sell-{name}")
    page.set_viewport_size(size)


def test_list_a_project_in_five_steps_then_withdraw_it(live_server, browser):
    organization = OrganizationFactory(name="Lendr Labs")
    seller = WalletFactory().user
    MembershipFactory(organization=organization, user=seller, role=Role.OWNER)
    team = TeamFactory(organization=organization, team_name="Lendr core")
    project = ProjectFactory(organization=organization, name="Lendr protocol")
    client = Client()
    client.force_login(seller)
    context = browser.new_context()
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    page.set_default_timeout(8000)
    base = live_server.url

    page.goto(f"{base}/fabric/sell/")
    page.get_by_text("No listing yet").wait_for()
    _check(page, "1-empty")
    page.get_by_role("link", name="List a project").click()

    page.wait_for_url(f"{base}/fabric/sell/new")
    page.get_by_label("TRACE project").select_option(label="Lendr protocol")
    page.get_by_label("PULSE team").select_option(label="Lendr core")
    _check(page, "2-links")
    page.get_by_role("button", name="Continue").click()

    page.wait_for_url("**/fabric/sell/new/describe?**")
    assert "Lendr core" in page.get_by_role("region", name="Linked evidence").inner_text()
    page.get_by_label("Title").fill("Lendr — lending on Base")
    page.get_by_label("Description").fill("2,000 monthly borrowers, audited twice.")
    page.get_by_label("Asking price (USD)").fill("250000")
    page.get_by_label("Chain").select_option("eip155:8453")
    page.get_by_label("Visibility").select_option("nda")
    wallet = Account.create().address
    page.get_by_label("Seller wallet").fill(wallet.lower())
    _check(page, "3-describe")
    page.get_by_role("button", name="Save draft and continue").click()

    page.get_by_text("Draft saved").wait_for()
    listing = Listing.objects.get()
    assert (listing.pulse_team, listing.trace_project, listing.seller_wallet) == (
        team,
        project,
        wallet,
    )
    contract = Account.create().address
    page.get_by_label("Type").select_option("contract")
    page.get_by_label("Chain").select_option("eip155:8453")
    page.get_by_label("Address or name").fill(contract.lower())
    page.get_by_role("button", name="Add asset").click()
    page.get_by_test_id("assets").get_by_text(contract).wait_for()
    _check(page, "4-assets")
    page.get_by_role("link", name="Continue to preview").click()

    page.get_by_test_id("teaser").wait_for()
    assert "$250,000.00" in page.get_by_test_id("teaser").inner_text()
    assert contract not in page.content()  # NDA: the buyer sees the assets after signing
    _check(page, "5-preview")
    page.get_by_role("link", name="Continue to publish").click()

    page.get_by_role("heading", name="Publish this listing?").wait_for()
    _check(page, "6-publish")
    page.get_by_role("button", name="Publish").click()
    page.get_by_text("Published: buyers find it in the marketplace.").wait_for()
    listing.refresh_from_db()
    assert listing.status == ListingStatus.PUBLISHED and listing.published_at is not None
    _check(page, "7-listing")

    # Withdraw: htmx opens the confirm step as a dialog.
    page.get_by_test_id("listing-actions").get_by_role("link", name="Withdraw").click()
    dialog = page.locator("#modal")
    dialog.get_by_role("button", name="Withdraw").click()
    page.get_by_text("Withdrawn: buyers no longer see it.").wait_for()
    listing.refresh_from_db()
    assert listing.status == ListingStatus.WITHDRAWN
    assert page.get_by_test_id("status").inner_text() == "Withdrawn"
    context.close()
