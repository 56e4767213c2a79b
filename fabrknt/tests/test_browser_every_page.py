"""Every page on a phone (390 px wide) in headless Chromium: no sideways scroll of the
page (a wide table scrolls inside its own box), and no serious or critical axe-core
WCAG 2.1 A/AA violation. A screenshot of each under test-output/ for review.

One test walks all the pages (the live server's database is set up once), and reports
every page that fails, not only the first.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.urls import URLResolver, get_resolver, resolve
from django.utils import timezone
from eth_account import Account

from accounts.models import Role
from accounts.selectors import caller_access
from accounts.services.api_keys import api_key_issue
from accounts.services.notifications import UNSUBSCRIBE_ALL, notification_unsubscribe_url
from accounts.tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
    WalletFactory,
)
from fabric.models import (
    AssetType,
    EscrowEvent,
    EscrowTransaction,
    Listing,
    OfferStatus,
    RevenueSource,
    StripeConnection,
    Visibility,
)
from fabric.services.dataroom import document_upload
from fabric.services.escrow import escrow_init
from fabric.services.media import media_upload
from fabric.services.revenue import listing_revenue_update
from fabric.tests.dataroom_support import PDF, image_bytes, upload
from fabric.tests.deals import deal_pages
from fabric.tests.escrow_world import deal_world, escrow_deployed, nda_signed
from fabric.tests.factories import (
    BuyerAccessFactory,
    ListingAssetFactory,
    ListingFactory,
    NDASignatureFactory,
    OfferFactory,
    RevenueRecordFactory,
)
from fabrknt.tests.browser import (
    PHONE,
    axe_violations,
    horizontal_overflow,
    screenshot,
    signed_in_context,
)
from pulse.models import SBTStatus
from pulse.services.invites import invite_token_make
from pulse.services.weekly_reports import last_full_week
from pulse.tests.factories import (
    ContributorFactory,
    SBTRecordFactory,
    TeamFactory,
    TeamRepositoryFactory,
)
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
    mika = team.contributors.get(github_login="mika-dev")
    SBTRecordFactory(
        team=team,
        contributor=mika,
        status=SBTStatus.MINTED,
        token_address="0x" + "ef" * 20,
        token_id="7",
        issued_at=timezone.now(),
    )
    # A contributors table wider than a phone: its visually hidden header must stay inside
    # the table's scroll box.
    ContributorFactory(
        team=team, github_login="a-rather-long-github-login", discord_id="123456789012345678"
    )
    _fabric_world(organization)
    # The API-keys page's table: a read key's requests today against the daily quota, and
    # an ingest key (per-minute limit only).
    api_key_issue(organization=organization, name="Backend", scopes=["read"])
    api_key_issue(organization=organization, name="Landing site", scopes=["ingest"])
    # Another member, whom the owner may remove or hand the organization to.
    MembershipFactory(organization=organization, role=Role.ADMIN)
    listing = ListingFactory(
        organization=organization,
        title="Phone draft listing",
        status="draft",
        published_at=None,
        seller_wallet="0x" + "ab" * 20,
    )
    ListingAssetFactory(
        listing=listing,
        asset_type="contract",
        chain="eip155:8453",
        asset_identifier="0x" + "cd" * 20,
    )
    return organization, owner, project, campaign, certificate, team


def _fabric_world(organization) -> None:
    """A marketplace: another organization's scored NDA listing, and the owner's private
    listing with a signer and a revoked wallet on its access page."""
    ListingFactory(
        title="Phone swap protocol with a long name",
        fabrknt_score=Decimal("78.50"),
        growth_score=Decimal("70"),
        vitality_score=Decimal("85"),
        revenue_verified=Decimal("12000.00"),
        score_components={
            "components": {
                "growth": {"label": "Growth", "value": 70, "weight": 0.4, "evidence": {}},
                "vitality": {"label": "Team vitality", "value": None, "reason": "Not linked."},
            }
        },
    )
    ListingFactory(title="Phone unscored listing", status="under_offer")
    own = ListingFactory(
        organization=organization, title="Phone own listing", visibility=Visibility.PRIVATE
    )
    buyer = WalletFactory(address="0x52908400098527886E0F7030069857D2E4169EE7")
    NDASignatureFactory(listing=own, wallet=buyer)
    BuyerAccessFactory(
        listing=own,
        namespace="solana",
        wallet_address="DRpbCBMxVnDK7maPM5tGv6MvB3v1sRMC86PZ8okm21hy",
        revoked=True,
    )


def _pages(organization, project, campaign, certificate, team) -> list[tuple[str, str, bool]]:
    """(name, path, signed in)."""
    org = f"/organizations/{organization.pk}"
    pulse = f"/pulse/teams/{team.pulse_id}"
    contributor = team.contributors.order_by("-contribution_score").first()
    mika = team.contributors.get(github_login="mika-dev")
    unsubscribe_token = notification_unsubscribe_url(
        user=organization.memberships.get(role=Role.OWNER).user, kind=UNSUBSCRIBE_ALL
    ).rsplit("/", 1)[1]
    invite = f"/pulse/invite/{invite_token_make(contributor=contributor)}"
    listing = Listing.objects.get(organization=organization, title="Phone draft listing")
    sell = f"/fabric/sell/{listing.pk}"
    key = organization.api_keys.get(name="Backend")
    member = organization.memberships.exclude(role=Role.OWNER).get()
    wallet = organization.memberships.get(role=Role.OWNER).user.wallets.first()
    return [
        ("home", "/", False),
        ("signin", "/signin", False),
        ("interstitial", f"/t/{campaign.pk}", False),
        ("verify", f"/verify/{certificate.pk}", False),
        ("dashboard", "/trace/", True),
        ("project", f"/trace/projects/{project.pk}/", True),
        ("project-new", "/trace/projects/new", True),
        ("project-edit", f"/trace/projects/{project.pk}/edit", True),
        ("project-archive", f"/trace/projects/{project.pk}/archive", True),
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
        ("member-remove", f"{org}/members/{member.pk}/remove", True),
        ("member-transfer", f"{org}/members/{member.pk}/transfer", True),
        ("api-keys", f"{org}/api-keys/", True),
        ("api-key-new", f"{org}/api-keys/new", True),
        ("api-key", f"{org}/api-keys/{key.pk}/", True),
        ("api-key-revoke", f"{org}/api-keys/{key.pk}/revoke", True),
        ("settings", f"{org}/settings", True),
        ("organization-delete", f"{org}/delete", True),
        ("audit", f"{org}/audit", True),
        ("account", "/account/", True),
        ("account-wallet-unlink", f"/account/wallets/{wallet.pk}/unlink", True),
        ("account-sign-out-everywhere", "/account/sign-out-everywhere", True),
        ("account-unsubscribe", "/account/unsubscribe/" + unsubscribe_token, False),
        ("account-email-link-refused", "/account/email/verify/not-a-token", False),
        ("admin-signin-not-staff", "/admin/login/", True),
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
        ("pulse-contributor-tokens", f"{pulse}/contributors/{mika.pk}/tokens", True),
        ("pulse-discord-install", f"/pulse/discord/teams/{team.pulse_id}/install", True),
        ("pulse-discord-not-added", "/pulse/discord/installed?error=access_denied", True),
        ("pulse-notion", f"/pulse/notion/teams/{team.pulse_id}", True),
        ("pulse-github-setup-refused", "/pulse/teams/github/setup", True),
        # The invitation page: signed out (sign in with that wallet), and signed in with
        # another wallet than the contributor's.
        ("pulse-invite", invite, False),
        ("pulse-invite-other-wallet", invite, True),
        ("pulse-reports", f"{pulse}/reports/", True),
        ("pulse-report", f"{pulse}/reports/{last_full_week().isoformat()}/", True),
        *_market_pages(organization),
        ("fabric-sell", "/fabric/sell/", True),
        ("fabric-sell-new", "/fabric/sell/new", True),
        (
            "fabric-sell-describe",
            f"/fabric/sell/new/describe?organization={organization.pk}&pulse_team={team.pulse_id}",
            True,
        ),
        *[
            (f"fabric-sell-{name}", f"{sell}/{name}", True)
            for name in ("edit", "assets", "preview", "publish", "withdraw", "reopen")
        ],
        ("fabric-sell-listing", f"{sell}/", True),
        (
            "fabric-sell-asset-remove",
            f"{sell}/assets/{listing.assets.get().pk}/remove",
            True,
        ),
    ]


def _market_pages(organization) -> list[tuple[str, str, bool]]:
    market = Listing.objects.exclude(organization=organization).get(fabrknt_score__isnull=False)
    own = Listing.objects.get(organization=organization, title="Phone own listing")
    return [
        ("fabric-market", "/fabric/", False),
        ("fabric-market-signed-in", "/fabric/", True),
        ("fabric-listing", f"/fabric/listings/{market.pk}/", False),
        ("fabric-listing-nda", f"/fabric/listings/{market.pk}/", True),
        ("fabric-listing-seller", f"/fabric/listings/{own.pk}/", True),
        ("fabric-listing-access", f"/fabric/listings/{own.pk}/access/", True),
    ]


def _revenue_pages(organization, project) -> list[tuple[str, str, bool]]:
    """A listing of the organization with a treasury, revenue records with evidence and a
    Stripe connection; its pages."""
    listing = ListingFactory(
        organization=organization,
        trace_project=project,
        title="Phone revenue listing",
        asking_price_usd=Decimal("125000.00"),
        blockchain="eip155:1",
    )
    ListingAssetFactory(
        listing=listing,
        asset_type=AssetType.TREASURY,
        chain="eip155:1",
        asset_identifier="0xbe3f4b43db5eb49d1f48f53443b9abce45da3b79",
    )
    StripeConnection.objects.create(
        listing=listing, api_key="rk_test_" + "x" * 40, account_label="test mode key …xxxx"
    )
    RevenueRecordFactory(
        listing=listing,
        fees_usd=Decimal("1250.00"),
        revenue_usd=Decimal("1250.00"),
        evidence={
            "transfers": 2,
            "transactions_count": 2,
            "unpriced_transfers": 0,
            "transactions": [{"chain": "eip155:1", "hash": "0x" + "ab" * 32}],
        },
    )
    RevenueRecordFactory(
        listing=listing,
        source=RevenueSource.STRIPE,
        fees_usd=Decimal("420.00"),
        revenue_usd=Decimal("420.00"),
        evidence={"charges_counted": 1, "charge_ids": ["ch_3PhoneChargeWithALongId"]},
    )
    listing_revenue_update(listing=listing)
    return [("fabric-listing-revenue", f"/fabric/listings/{listing.pk}/revenue/", True)]


def _dataroom_pages(organization) -> list[tuple[str, str, bool]]:
    """FABRIC's data room and image pages of a listing with a document, a logo and a
    screenshot (as its seller)."""
    listing = ListingFactory(
        organization=organization, title="Phone listing with a rather long title"
    )
    document = document_upload(
        listing=listing, upload=upload("A long document name for a phone.pdf", PDF)
    ).document
    media_upload(listing=listing, upload=upload("logo.png", image_bytes(300, 300)), kind="logo")
    shot = media_upload(
        listing=listing, upload=upload("shot.png", image_bytes(1200, 700)), kind="screenshot"
    ).media
    base = f"/fabric/listings/{listing.pk}"
    return [
        ("fabric-dataroom-manage", f"{base}/dataroom/manage/", True),
        ("fabric-dataroom-delete", f"{base}/dataroom/manage/{document.pk}/delete", True),
        ("fabric-dataroom", f"{base}/dataroom/", True),
        ("fabric-media", f"{base}/media/", True),
        ("fabric-media-delete", f"{base}/media/{shot.pk}/delete", True),
    ]


def _escrow_pages(owner) -> list[tuple[str, str, bool]]:
    """The escrow pages, with `owner` as the buyer of another organization's listing: a
    deal funded on chain (its transactions and the buyer's next steps)."""
    chain = "eip155:1337"
    asset_price("eip155:1", "native", timezone.now().date() - dt.timedelta(days=1), "2500.00")
    escrow_deployed(chain, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
    world = deal_world(chain=chain, seller_wallet="0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
    account = Account.create()
    offer = OfferFactory(
        listing=world.listing,
        wallet=nda_signed(world.listing, owner, account),
        amount_usd=Decimal("180000.00"),
        status=OfferStatus.ACCEPTED,
        terms="A rather long term: " + "handover " * 20,
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
    listing = f"/fabric/listings/{world.listing.pk}"
    return [
        ("fabric-escrow-new", f"{listing}/escrow/new/", True),
        ("fabric-deal", f"/fabric/deals/{escrow.pk}/", True),
        # The buyer's side: the listing with its NDA signed, the offers and messages pages
        # and the buyer's own offer.
        ("fabric-listing-buyer", f"{listing}/", True),
        ("fabric-listing-offers-buyer", f"{listing}/offers/", True),
        ("fabric-listing-messages-buyer", f"{listing}/messages/", True),
        ("fabric-offer-buyer", f"/fabric/offers/{offer.pk}/", True),
        ("fabric-offer-withdraw", f"/fabric/offers/{offer.pk}/withdraw", True),
    ]


def _staff_pages() -> list[tuple[str, str, bool]]:
    """The operators' pages, as a staff user sees them: a minute of requests and, when a
    broker is configured (else there are no queues), a dead letter and its confirm steps."""
    from fabrknt.ops.tests.test_pages_ops import dead_letter, record_last_minute

    record_last_minute()
    pages = [("ops", "/ops/", True)]
    if settings.CELERY_BROKER_URL:
        dead_letter("phone-dead-letter")
        pages += [
            ("ops-queue-purge", "/ops/queues/default/purge", True),
            ("ops-queue-retry", "/ops/queues/default/retry-dead-letters", True),
            ("ops-queue-purge-dead", "/ops/queues/default/purge-dead-letters", True),
        ]
    return pages


def _newcomer_pages() -> list[tuple[str, str, bool]]:
    """The empty states, as someone signed in with no organization, team or listing sees
    them: each says what is missing and offers the next step."""
    return [
        ("empty-dashboard", "/trace/", True),
        ("empty-campaigns", "/trace/campaigns/", True),
        ("empty-organizations", "/organizations/", True),
        ("empty-account", "/account/", True),
        ("empty-pulse-teams", "/pulse/teams/", True),
        ("empty-fabric-sell", "/fabric/sell/", True),
        ("empty-fabric-inbox", "/fabric/inbox/", True),
    ]


# A page that answers with a refusal: its expected status.
REFUSALS = {
    "account-email-link-refused": 400,
    "admin-signin-not-staff": 403,
    "pulse-discord-not-added": 400,
    "pulse-github-setup-refused": 400,
}

# Routes outside Django's admin and the API that are no page to open: what each is.
NOT_PAGES = {
    "healthz": "a probe's plain answer",
    "readyz": "a probe's JSON",
    "metrics": "Prometheus' text",
    "signout": "POST only, then home",
    "organizations:switch": "POST only (the header's organization menu), then back",
    "organizations:export": "a ZIP download",
    "organizations:member_role": "POST only (the members page's role form)",
    "account:wallet-link": "POST only (the account page's wallet form)",
    "account:email": "POST only (the account page's e-mail form)",
    "account:notifications": "POST only (the account page's notification form)",
    "verify:download": "the certificate's JSON",
    "trace:project-backfill": "POST only (the project page's button)",
    "trace:project-recompute": "POST only (the project page's button)",
    "trace:campaign-status": "POST only (the campaign page's pause and resume)",
    "trace:campaign-qr": "an SVG image",
    "trace:project-export-csv": "a CSV download",
    "trace:campaign-export-csv": "a CSV download",
    "pulse:home": "a redirect to the teams",
    "pulse_dashboard:team-recalculate": "POST only (the team page's button)",
    "pulse_sbt:image": "an SVG image",
    "pulse-notion:editor": "POST only (the Notion page's form), then back to it",
    "pulse-notion:disconnect": "POST only (the Notion page's form), then back to it",
    "pulse-identity:link": "a redirect to GitHub or Discord",
    "pulse-identity:callback": "a redirect back to the account page",
    "fabric:listing-revenue-verify": "POST only (the revenue page's button)",
    "fabric:listing-stripe-disconnect": "POST only (the revenue page's form)",
    "fabric:dataroom-download": "POST only; its answer is test_browser_dataroom's",
    "fabric:media-image": "an image",
    "fabric:media-original": "an image",
}


def page_routes() -> set[str]:
    """The view name of every route outside Django's admin and the API."""

    def walk(patterns, prefix="", namespace=""):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, route, inner)
            elif not route.startswith(("admin/", "api/")):
                yield namespace + (pattern.name or "")

    return set(walk(get_resolver().url_patterns))


def _unvisited(visits) -> list[str]:
    """Page routes no entry opens (a new page must get one, or a reason in NOT_PAGES)."""
    routes = page_routes()
    opened = {resolve(urlsplit(path).path).view_name for _, pages in visits for _, path, _ in pages}
    failures = [
        f"{name}: a page no entry opens" for name in sorted(routes - opened - set(NOT_PAGES))
    ]
    failures += [f"{name}: in NOT_PAGES, but no route" for name in sorted(set(NOT_PAGES) - routes)]
    return failures


def test_every_page_fits_a_phone_and_passes_axe(live_server, browser, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    organization, owner, project, campaign, certificate, team = _world()
    fabric_pages = (
        _revenue_pages(organization, project)
        + deal_pages(organization)
        + _dataroom_pages(organization)
        + _escrow_pages(owner)
    )
    pages = _pages(organization, project, campaign, certificate, team) + fabric_pages
    visits = [
        (None, [page for page in pages if not page[2]]),
        (owner, [page for page in pages if page[2]]),
        (UserFactory(is_staff=True), _staff_pages()),
        (WalletFactory().user, _newcomer_pages()),
    ]
    failures = _unvisited(visits)
    for who, who_pages in visits:
        context = (
            browser.new_context(viewport=PHONE)
            if who is None
            else signed_in_context(browser, live_server, who, viewport=PHONE)
        )
        page = context.new_page()
        page.set_default_timeout(8000)
        for name, path, _ in who_pages:
            response = page.goto(live_server.url + path)
            assert response is not None
            if response.status != REFUSALS.get(name, 200):
                failures.append(f"{name}: HTTP {response.status}")
                continue
            screenshot(page, f"phone-{name}")
            failures.extend(f"{name}: wider than a phone: {o}" for o in horizontal_overflow(page))
            failures.extend(f"{name}: {violation}" for violation in axe_violations(page))
        context.close()
    assert failures == [], "\n".join(failures)
