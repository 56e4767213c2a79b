"""Every page on a phone (390 px wide) in headless Chromium: no sideways scroll of the
page (a wide table scrolls inside its own box), and no serious or critical axe-core
WCAG 2.1 A/AA violation. A screenshot of each under test-output/ for review.

One test walks all the pages (the live server's database is set up once), and reports
every page that fails, not only the first.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from eth_account import Account

from accounts.models import Role
from accounts.selectors import caller_access
from accounts.tests.factories import MembershipFactory, OrganizationFactory, WalletFactory
from fabric.models import EscrowEvent, EscrowTransaction, Offer, OfferStatus
from fabric.services.escrow import escrow_init
from fabric.tests.escrow_world import deal_world, escrow_deployed, nda_signed
from fabrknt.tests.browser import PHONE, axe_violations, horizontal_overflow, screenshot
from pulse.services.invites import invite_token_make
from pulse.services.weekly_reports import last_full_week
from pulse.tests.factories import TeamFactory, TeamRepositoryFactory
from pulse.tests.test_browser_dashboard import pulse_world
from trace.services.certificates import certificate_issue
from trace.tests.factories import (
    ActivityMetricFactory,
    CampaignFactory,
    ClickFactory,
    ContractInteractionFactory,
    ProjectFactory,
    asset_price,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _world():
    organization = OrganizationFactory(name="Phone Test Org")
    owner = WalletFactory().user
    MembershipFactory(organization=organization, user=owner, role=Role.OWNER)
    project = ProjectFactory(organization=organization, name="Phone project")
    campaign = CampaignFactory(project=project, name="Phone campaign")
    yesterday = timezone.now() - dt.timedelta(days=1)
    for n in range(3):
        ClickFactory(campaign=campaign, occurred_at=yesterday)
        ContractInteractionFactory(
            project=project,
            occurred_at=yesterday,
            value_usd=Decimal("12.50") * (n + 1),
            log_index=n,
        )
    ActivityMetricFactory(project=project, date=yesterday.date(), dau=3, transaction_count=3)
    certificate = certificate_issue(project_id=project.pk)
    team = TeamFactory(organization=organization, team_name="Phone team", discord_guild_id="1")
    TeamRepositoryFactory(team=team, full_name="phone-org/a-rather-long-repository-name")
    pulse_world(team)
    return organization, owner, project, campaign, certificate, team


def _pages(organization, project, campaign, certificate, team) -> list[tuple[str, str, bool]]:
    """(name, path, signed in)."""
    org = f"/organizations/{organization.pk}"
    pulse = f"/pulse/teams/{team.pulse_id}"
    contributor = team.contributors.order_by("-contribution_score").first()
    invite = f"/pulse/invite/{invite_token_make(contributor=contributor)}"
    return [
        ("home", "/", False),
        ("signin", "/signin", False),
        ("interstitial", f"/t/{campaign.pk}", False),
        ("verify", f"/verify/{certificate.pk}", False),
        ("dashboard", "/trace/", True),
        ("project", f"/trace/projects/{project.pk}/", True),
        ("project-new", "/trace/projects/new", True),
        ("project-edit", f"/trace/projects/{project.pk}/edit", True),
        ("certificates", f"/trace/projects/{project.pk}/certificates/", True),
        ("project-export", f"/trace/projects/{project.pk}/export/", True),
        ("campaigns", "/trace/campaigns/", True),
        ("campaign-new", "/trace/campaigns/new", True),
        ("campaign", f"/trace/campaigns/{campaign.pk}/", True),
        ("campaign-edit", f"/trace/campaigns/{campaign.pk}/edit", True),
        ("campaign-archive", f"/trace/campaigns/{campaign.pk}/archive", True),
        ("campaign-export", f"/trace/campaigns/{campaign.pk}/export/", True),
        ("organizations", "/organizations/", True),
        ("organization-new", "/organizations/new", True),
        ("organization", f"{org}/", True),
        ("members", f"{org}/members/", True),
        ("member-add", f"{org}/members/new", True),
        ("api-keys", f"{org}/api-keys/", True),
        ("api-key-new", f"{org}/api-keys/new", True),
        ("settings", f"{org}/settings", True),
        ("audit", f"{org}/audit", True),
        ("account", "/account/", True),
        ("pulse-teams", "/pulse/teams/", True),
        ("pulse-team-new", "/pulse/teams/new", True),
        *[
            (f"pulse-team-{name}", f"{pulse}/{path}", True)
            for name, path in [
                ("settings", "settings"),
                ("contributor-new", "contributors/new"),
                ("repositories-new", "repositories/new"),
                ("secret-rotate", "github-secret"),
            ]
        ],
        ("pulse-team", f"{pulse}/", True),
        ("pulse-contributor", f"{pulse}/contributors/{contributor.pk}/", True),
        ("pulse-contributor-invite", f"{pulse}/contributors/{contributor.pk}/invite", True),
        # The invitation page: signed out (sign in with that wallet), and signed in with
        # another wallet than the contributor's.
        ("pulse-invite", invite, False),
        ("pulse-invite-other-wallet", invite, True),
        ("pulse-reports", f"{pulse}/reports/", True),
        ("pulse-report", f"{pulse}/reports/{last_full_week().isoformat()}/", True),
    ]


def _fabric_pages(owner) -> list[tuple[str, str, bool]]:
    """The escrow pages, with `owner` as the buyer of another organization's listing: a
    deal funded on chain (its transactions and the buyer's next steps)."""
    chain = "eip155:1337"
    asset_price("eip155:1", "native", timezone.now().date() - dt.timedelta(days=1), "2500.00")
    escrow_deployed(chain, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
    world = deal_world(chain=chain, seller_wallet="0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
    account = Account.create()
    nda_signed(world.listing, owner, account)
    offer = Offer.objects.create(
        listing=world.listing,
        buyer=owner,
        buyer_wallet=account.address,
        amount_usd=Decimal("180000.00"),
        status=OfferStatus.ACCEPTED,
    )
    escrow = escrow_init(
        access=caller_access(user=owner),
        listing_id=world.listing.pk,
        buyer_wallet=account.address,
        amount_usd=offer.amount_usd,
        offer_id=offer.pk,
    ).escrow
    for index, event in enumerate(("DealCreated", "PaymentDeposited", "Funded")):
        EscrowEvent.objects.create(
            escrow=escrow,
            event=event,
            tx_hash="0x" + "ab" * 32,
            log_index=index,
            block_number=1200,
            block_hash="0x" + "cd" * 32,
            status_after="funded" if event == "Funded" else "pending",
            occurred_at=timezone.now(),
        )
    EscrowTransaction.objects.filter(pk=escrow.pk).update(
        status="funded", deal_id="1", funded_at=timezone.now()
    )
    return [
        ("fabric-escrow-new", f"/fabric/listings/{world.listing.pk}/escrow/new/", True),
        ("fabric-deal", f"/fabric/deals/{escrow.pk}/", True),
    ]


def test_every_page_fits_a_phone_and_passes_axe(live_server, browser):
    organization, owner, project, campaign, certificate, team = _world()
    fabric_pages = _fabric_pages(owner)
    client = Client()
    client.force_login(owner)
    session = client.cookies["sessionid"].value
    failures: list[str] = []
    for signed_in in (False, True):
        context = browser.new_context(viewport=PHONE)
        if signed_in:
            context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
        page = context.new_page()
        page.set_default_timeout(8000)
        pages = _pages(organization, project, campaign, certificate, team) + fabric_pages
        for name, path, needs_session in pages:
            if needs_session is not signed_in:
                continue
            response = page.goto(live_server.url + path)
            assert response is not None
            if response.status >= 400:
                failures.append(f"{name}: HTTP {response.status}")
                continue
            screenshot(page, f"phone-{name}")
            failures.extend(f"{name}: wider than a phone: {o}" for o in horizontal_overflow(page))
            failures.extend(f"{name}: {violation}" for violation in axe_violations(page))
        context.close()
    assert failures == [], "\n".join(failures)
