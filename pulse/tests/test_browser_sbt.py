"""Asking for a milestone token in a real browser (headless Debian Chromium, Playwright):
a member signs in with a wallet, opens a contributor's tokens page, picks a met milestone
and asks for the mint; the token is minted on a real EVM (py-evm) in the same request's
commit (tasks run in-process here) and the page lists it with its badge. Screenshots go
to test-output/."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from eth_account import Account
from playwright.sync_api import Page

from accounts.models import User
from accounts.services.organizations import organization_create
from accounts.tests.test_browser_signin import live_host, open_page  # noqa: F401  (fixtures)
from pulse.models import ContributionType, SBTRecord, SBTStatus
from pulse.tests.factories import ContributionFactory, ContributorFactory, TeamFactory
from pulse.tests.sbt_chain import (  # noqa: F401  (fixtures)
    sbt_chain_fixture,
    sbt_chain_module_fixture,
)

pytestmark = pytest.mark.browser

MEMBER = Account.from_key("0x" + "6" * 64)
OUTPUT = Path(settings.BASE_DIR) / "test-output"


def _shot(page: Page, name: str) -> None:
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"sbt-{name}.png"), full_page=True)


def test_ask_for_a_mint(live_server, live_host, open_page, sbt_chain):  # noqa: F811
    sbt = sbt_chain.deploy()
    base = live_server.url
    page, _, errors = open_page(wallet=MEMBER.address.lower(), key=MEMBER)
    page.goto(f"{base}/signin?next=/account/")
    page.get_by_role("button", name="Sign in with Ethereum wallet").click()
    page.wait_for_url(f"{base}/account/")
    organization = organization_create(name="Orbit Labs", owner=User.objects.get())
    team = TeamFactory(organization=organization, team_name="Core devs")
    contributor = ContributorFactory(team=team, github_login="octocat")
    ContributionFactory(
        team=team, contributor=contributor, contribution_type=ContributionType.PULL_REQUEST_MERGED
    )

    page.goto(base + reverse("pulse_sbt:tokens", args=[team.pulse_id, contributor.pk]))
    page.get_by_text("No tokens yet").wait_for()
    _shot(page, "1-empty")
    page.get_by_label("Milestone", exact=True).select_option(label="First merged pull request")
    page.get_by_role("button", name="Request mint").click()

    page.get_by_text("“First merged pull request” is queued").wait_for()
    row = page.get_by_test_id("sbt-token-first-merged-pr")
    assert "Minted" in row.inner_text()
    assert "#1" in row.inner_text()
    _shot(page, "2-minted")
    record = SBTRecord.objects.get()
    assert record.status == SBTStatus.MINTED and record.token_id == "1"
    assert sbt.functions.ownerOf(1).call() == contributor.wallet_address
    assert sbt.functions.locked(1).call() is True

    # The badge link opens the SVG we render for the token.
    row.get_by_role("link", name="badge").click()
    page.wait_for_url(f"**/pulse/sbt/{sbt_chain.chain}/{sbt.address}/1/image.svg")
    assert "Core devs" in page.content()
    assert errors == []
