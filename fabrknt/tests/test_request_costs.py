"""What each read endpoint and page costs: SQL queries and Redis round trips, pinned.

One table (COSTS) holds every expected figure, so a change that adds a query or a round
trip to a read shows up here as one changed number. Each figure is the steady state: the
request is made once to warm the process (scripts loaded, IP rules and keys held,
connections open), then measured. Queries are Django's (CaptureQueriesContext); Redis round
trips are counted where redis-py writes to its socket (one write per command, one per
pipeline), against the real Redis of REDIS_URL.

Authentication plus rate limiting on an API read costs one Redis round trip at most
(issue 10): a key this process holds is confirmed not revoked by the same Lua script that
takes the rate-limit token; a session is read, with its user's viewer and the token, by
one script too (accounts/sessions.py). A cached read costs one more: its generations and
entry in one MGET.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from eth_account import Account
from redis.connection import AbstractConnection
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import Organization, Role
from accounts.services.api_keys import api_key_issue
from accounts.tests.factories import MembershipFactory, OrganizationFactory, WalletFactory
from fabric.models import (
    ListingMedia,
    MediaKind,
    Message,
    Party,
    Visibility,
)
from fabric.tests.escrow_world import escrow_pending
from fabric.tests.factories import (
    BuyerAccessFactory,
    DataRoomDocumentFactory,
    ListingAssetFactory,
    ListingFactory,
    OfferFactory,
)
from fabrknt.ops.metrics.store import store as metrics_store
from fabrknt.security import selectors as ip_rule_selectors
from fabrknt.tests.routes import api_get_routes
from pulse.tests.factories import ContributorFactory, SBTRecordFactory, TeamFactory, minted_sbt
from trace.cache import campaigns_figures_changed
from trace.models import GrowthCertificate, Project
from trace.tests.factories import (
    ActivityMetricFactory,
    CampaignFactory,
    ClickFactory,
    ConversionFactory,
    LandingDomainFactory,
    ProjectFactory,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db]


# (who, path template): (SQL queries, Redis round trips). `key` is an API key with the read
# scope (X-API-Key), `session` a signed-in owner's session cookie, `bearer` the owner's JWT,
# `anonymous` nobody.
# Paths name {campaign}, {project} and {organization}.
# A signed-in caller's session is read from Redis with their user (with the header's wallet
# and their memberships, from the read cache) and, on an API read, their rate-limit token:
# one round trip (accounts/sessions.py), no query for who is asking.
COSTS: dict[tuple[str, str], tuple[int, int]] = {
    ("anonymous", "/healthz"): (0, 0),
    ("anonymous", "/readyz"): (1, 2),
    # The campaign list, a campaign's figures and ROI, and the metrics from the read cache
    # while their organizations' campaigns, the campaign's rollups and the project's
    # metrics have not changed: the generations with the entry, and the rate limit (for a
    # person, with their session and viewer: who may see them).
    ("key", "/api/v1/campaigns"): (0, 2),
    ("key", "/api/v1/campaigns/{campaign}"): (0, 2),
    ("key", "/api/v1/roi/{campaign}"): (0, 2),
    ("key", "/api/v1/metrics/{project}"): (0, 2),
    ("key", "/api/v1/projects"): (3, 1),
    ("bearer", "/api/v1/campaigns/{campaign}"): (2, 2),
    ("bearer", "/api/v1/roi/{campaign}"): (2, 2),
    ("session", "/api/v1/campaigns"): (0, 2),
    ("session", "/api/v1/campaigns/{campaign}"): (0, 2),
    ("session", "/api/v1/roi/{campaign}"): (0, 2),
    ("session", "/api/v1/metrics/{project}"): (0, 2),
    ("session", "/api/v1/projects"): (3, 1),
    ("session", "/api/v1/organizations"): (2, 1),
    ("session", "/api/v1/organizations/{organization}/api-keys"): (3, 1),
    # The projects and campaigns with their figures from the read cache while its
    # organizations' figures have not changed: + the session with the viewer.
    ("session", "/trace/"): (0, 2),
    # The campaign with its figures from the read cache (its generation with the entry)
    # and the snippet's keys while its scope has not changed: + the session with the
    # viewer (who may see it). Cold: test_pages_cold_then_warm.
    ("session", "/trace/campaigns/{campaign}/"): (0, 2),
    ("session", "/trace/projects/{project}/"): (10, 1),
    ("session", "/organizations/"): (0, 1),
    ("session", "/organizations/{organization}/"): (3, 1),
    # + each key's requests today against the daily quota: one MGET.
    ("session", "/organizations/{organization}/api-keys/"): (2, 2),
    ("session", "/account/"): (3, 1),  # + PULSE's linked identities section
}


@dataclass
class Cost:
    queries: int = 0
    round_trips: int = 0


@contextmanager
def redis_round_trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[Cost]:
    """Counts what redis-py sends from this thread, the request's: one packed write per
    command or pipeline. (The metrics store's thread flushes on its own, once a second.)"""
    cost = Cost()
    send = AbstractConnection.send_packed_command
    requesting = threading.get_ident()

    def counting(self, command, check_health=True):
        if threading.get_ident() == requesting:
            cost.round_trips += 1
        return send(self, command, check_health)

    with monkeypatch.context() as patched:
        patched.setattr(AbstractConnection, "send_packed_command", counting)
        yield cost


@pytest.fixture
def world(db):
    """An organization with a project, 90 days of metrics and a campaign with clicks and
    conversions; its owner (signed in) and a read key."""
    organization = OrganizationFactory()
    owner = MembershipFactory(organization=organization, role=Role.OWNER).user
    project = ProjectFactory(organization=organization)
    today = timezone.localdate()
    for days_ago in range(1, 91):
        ActivityMetricFactory(project=project, date=today - dt.timedelta(days=days_ago))
    campaign = CampaignFactory(project=project)
    for other in range(2):
        CampaignFactory(project=project, name=f"Other {other}")
    clicks = [
        ClickFactory(campaign=campaign, occurred_at=timezone.now() - dt.timedelta(days=n % 30))
        for n in range(20)
    ]
    for click in clicks[:3]:
        ConversionFactory(click=click)
    key = api_key_issue(organization=organization, name="costs", scopes=["read"]).key
    # The campaign page's snippet offers the publishable ones: read once, however many.
    for name in ("site", "docs"):
        api_key_issue(organization=organization, name=name, scopes=["ingest"])
    session = Client()
    session.force_login(owner)
    bearer = AccessToken.for_user(owner)
    callers: dict[str, Callable[[str], object]] = {
        "anonymous": Client().get,
        "key": lambda path: Client().get(path, HTTP_X_API_KEY=key),
        "session": session.get,
        "bearer": lambda path: Client().get(path, HTTP_AUTHORIZATION=f"Bearer {bearer}"),
    }
    names = {"campaign": campaign.pk, "project": project.pk, "organization": organization.pk}
    return callers, names


def measure(world, monkeypatch, who: str, template: str) -> Cost:
    callers, names = world
    get = callers[who]
    path = template.format(**names)
    # The IP rules this process holds for 2 s are refreshed with a round trip when they
    # expire: a periodic cost, not the request's, that a loaded machine (a slow warm-up)
    # would otherwise count now and then.
    monkeypatch.setattr(ip_rule_selectors, "_IP_RULES_LOCAL_SECONDS", 3600.0)
    # The metrics store's thread flushes once a second; the operational metrics flush first
    # in the request. Had the thread just emptied the store, that flush would find nothing
    # and cost a round trip less (CI, once): only this thread flushes while measuring.
    requesting, flush = threading.get_ident(), metrics_store.flush
    monkeypatch.setattr(
        metrics_store, "flush", lambda: threading.get_ident() != requesting or flush()
    )
    for _ in range(2):  # the first looks an API key up and holds it, the second confirms it
        warm = get(path)
        assert warm.status_code == 200, (path, warm.status_code, warm.content[:300])
    return measure_once(world, monkeypatch, who, template)


def measure_once(world, monkeypatch, who: str, template: str) -> Cost:
    callers, names = world
    with redis_round_trips(monkeypatch) as cost, CaptureQueriesContext(connection) as queries:
        response = callers[who](template.format(**names))
    assert response.status_code == 200, (template, response.status_code)
    cost.queries = len(queries.captured_queries)
    return cost


@pytest.mark.parametrize(("who", "template"), list(COSTS))
def test_request_cost(world, monkeypatch, who, template):
    cost = measure(world, monkeypatch, who, template)
    assert (cost.queries, cost.round_trips) == COSTS[(who, template)]


@pytest.mark.parametrize(
    ("template", "cold_cost"),
    [
        # The campaign with its figures and wallet total, the click sources, the daily
        # chart, the wallets' page, the project's last metrics (trace.selectors, whatever
        # the traffic) and the snippet's keys; the session with the viewer, the generation
        # with the missed entry, and the entry written.
        ("/trace/campaigns/{campaign}/", (6, 3)),
        # The projects, their metrics and the campaigns with their figures.
        ("/trace/", (3, 3)),
    ],
)
def test_pages_cold_then_warm(world, monkeypatch, template, cold_cost):
    """The first read of a page after its campaigns' figures change counts them; the next
    is warm again."""
    _, names = world
    measure(world, monkeypatch, "session", template)
    campaigns_figures_changed([names["campaign"]])  # as a flush does
    cold = measure_once(world, monkeypatch, "session", template)
    warm = measure_once(world, monkeypatch, "session", template)

    assert (cold.queries, cold.round_trips) == cold_cost
    assert (warm.queries, warm.round_trips) == COSTS[("session", template)]


# --- every list and detail endpoint of the API -------------------------------------------
#
# ENDPOINTS has an entry per route of /api/v1/ that answers GET (the URL resolver is read:
# a new one without an entry fails test_every_get_endpoint_has_an_entry) unless NOT_READS
# says why it is no list or detail. A list's entry grows its rows: the cost is measured with
# N more rows and again with 3N, and must not change (no query per row).

GROWTH = 2  # N; the second measurement has 3N


@dataclass
class Endpoint:
    who: str
    path: str  # formatted with the suite's names
    cost: tuple[int, int]  # (SQL queries, Redis round trips)
    grow: Callable[[dict, int], None] | None = None  # a list: add n rows it lists
    # A read through the read cache (fabrknt/readcache.py): `cost` is its database path
    # (the cache off, every request a miss), `hit` what a cached answer costs: the access
    # check's queries, the scopes' generations with the entry, and the rate limit.
    hit: tuple[int, int] | None = None


NOT_READS = {
    "schema": "the OpenAPI document, built from code",
    "api-docs": "the Swagger UI page, static",
    "auth-nonce": "issues a nonce (a write)",
    "trace-identify-message": "issues a nonce to sign (a write)",
    "trace-contract-verify-message": "issues a nonce to sign (a write)",
    "fabric-nda-message": "issues a nonce to sign (a write)",
    "fabric-document-download": "streams a file through a one-time link",
    "fabric-proof-of-funds": "asks the chains' RPC nodes for balances",
}


def _grow_organizations(suite, n):
    for _ in range(n):
        MembershipFactory(user=suite["owner"], role=Role.MEMBER)


def _grow_api_keys(suite, n):
    for index in range(n):
        api_key_issue(organization=suite["organization"], name=f"k{index}", scopes=["read"])


def _grow_projects(suite, n):
    for _ in range(n):
        project = ProjectFactory(organization=suite["organization"])
        CampaignFactory(project=project)


def _grow_campaigns(suite, n):
    for _ in range(n):
        CampaignFactory(project=suite["project"])


def _grow_domains(suite, n):
    for _ in range(n):
        LandingDomainFactory(organization=suite["organization"], domain=f"{uuid.uuid4().hex}.io")


def _grow_listings(suite, n):
    for _ in range(n):
        listing = ListingFactory(organization=suite["organization"], visibility=Visibility.PUBLIC)
        ListingAssetFactory(listing=listing)


def _grow_offers(suite, n):
    for _ in range(n):
        OfferFactory(listing=suite["listing"])


def _grow_access(suite, n):
    for _ in range(n):
        BuyerAccessFactory(listing=suite["listing"], invited=True)


def _grow_messages(suite, n):
    for _ in range(n):
        buyer = WalletFactory().user
        Message.objects.create(
            listing=suite["listing"],
            buyer=buyer,
            sender=buyer,
            sender_party=Party.BUYER,
            body="hello",
        )


def _grow_documents(suite, n):
    for _ in range(n):
        DataRoomDocumentFactory(listing=suite["listing"], sha256=uuid.uuid4().hex * 2)


def _grow_media(suite, n):
    for index in range(n):
        ListingMedia.objects.create(
            listing=suite["listing"],
            kind=MediaKind.SCREENSHOT,
            original=f"media/{uuid.uuid4().hex}.png",
            webp=f"media/{uuid.uuid4().hex}.webp",
            width=10,
            height=10,
            position=index + 1,
        )


def _grow_contributor(suite, n):
    for _ in range(n):
        team = TeamFactory(organization=suite["organization"])
        contributor = ContributorFactory(team=team, wallet_address=suite["wallet"])
        SBTRecordFactory(team=team, contributor=contributor)


ENDPOINTS: dict[str, Endpoint] = {
    # accounts and organizations
    "me": Endpoint("session", "/api/v1/me", (4, 1)),
    "organizations": Endpoint("session", "/api/v1/organizations", (4, 1), _grow_organizations),
    "organization-detail": Endpoint("session", "/api/v1/organizations/{organization}", (3, 1)),
    "organization-api-keys": Endpoint(
        "session", "/api/v1/organizations/{organization}/api-keys", (5, 1), _grow_api_keys
    ),
    # TRACE
    "trace-projects": Endpoint("key", "/api/v1/projects", (3, 1), _grow_projects),
    "trace-project": Endpoint("key", "/api/v1/projects/{project}", (2, 1)),
    "trace-campaigns": Endpoint("key", "/api/v1/campaigns", (2, 1), _grow_campaigns, hit=(0, 2)),
    "trace-campaign": Endpoint("key", "/api/v1/campaigns/{campaign}", (1, 1), hit=(0, 2)),
    "trace-roi": Endpoint("key", "/api/v1/roi/{campaign}", (1, 1), hit=(0, 2)),
    # The project's organization, then its days.
    "trace-metrics": Endpoint("key", "/api/v1/metrics/{project}", (2, 1), hit=(0, 2)),
    # The certificate recomputes its period's metrics: saving them retires the dashboard's
    # cached figures of the organization (its id read, a round trip; trace/cache.py).
    "trace-growth-certificate": Endpoint("key", "/api/v1/growth-certificate/{project}", (17, 2)),
    "trace-certificate-keys": Endpoint("anonymous", "/api/v1/certificates/keys", (0, 1)),
    "trace-certificate": Endpoint(
        "anonymous", "/api/v1/certificates/{certificate}", (1, 1), hit=(0, 2)
    ),
    "trace-landing-domains": Endpoint(
        "session", "/api/v1/organizations/{organization}/domains", (5, 1), _grow_domains
    ),
    "trace-landing-domain": Endpoint(
        "session", "/api/v1/organizations/{organization}/domains/{domain}", (4, 1)
    ),
    # PULSE
    "pulse-team": Endpoint("key", "/api/v1/teams/{team}", (1, 1)),
    "pulse-vitality": Endpoint("key", "/api/v1/vitality/{team}", (1, 1)),
    "pulse-contributor": Endpoint(
        "key", "/api/v1/contributors/{wallet}", (2, 1), _grow_contributor
    ),
    "pulse-sbt-metadata": Endpoint("anonymous", "/api/v1/sbt/{sbt}", (1, 1), hit=(0, 2)),
    # FABRIC
    "fabric-listings": Endpoint(
        "anonymous", "/api/v1/listings", (2, 1), _grow_listings, hit=(0, 2)
    ),
    "fabric-listing": Endpoint("anonymous", "/api/v1/listings/{listing}", (2, 1), hit=(1, 2)),
    "fabric-suite-summary": Endpoint(
        "anonymous", "/api/v1/suite/summary/{listing}", (1, 1), hit=(1, 2)
    ),
    "fabric-listing-offers": Endpoint(
        "session", "/api/v1/listings/{listing}/offers", (6, 1), _grow_offers
    ),
    "fabric-offer": Endpoint("session", "/api/v1/offers/{offer}", (5, 1)),
    "fabric-listing-access": Endpoint(
        "session", "/api/v1/listings/{listing}/access", (5, 1), _grow_access
    ),
    "fabric-listing-messages": Endpoint(
        "session", "/api/v1/listings/{listing}/messages", (5, 1), _grow_messages
    ),
    "fabric-documents": Endpoint(
        "session", "/api/v1/listings/{listing}/documents", (5, 1), _grow_documents
    ),
    "fabric-media": Endpoint("session", "/api/v1/listings/{listing}/media", (5, 1), _grow_media),
    "fabric-escrow": Endpoint("session", "/api/v1/escrow/{escrow}", (5, 1)),
    # operations (staff)
    "operational-metrics": Endpoint("staff", "/api/v1/operational/metrics", (2, 13)),
    "operational-telemetry": Endpoint("staff", "/api/v1/operational/telemetry", (4, 6)),
    "queue-list": Endpoint("staff", "/api/v1/queue/", (2, 10)),
}


def test_every_get_endpoint_has_an_entry():
    routes = api_get_routes()
    assert set(NOT_READS) <= set(routes), "an entry of NOT_READS names no route"
    missing = set(routes) - set(ENDPOINTS) - set(NOT_READS)
    assert not missing, f"GET endpoints without a cost entry: {sorted(missing)}"
    assert set(ENDPOINTS) <= set(routes)


@pytest.fixture
def suite(world):
    """The costs world and one of everything the other endpoints read, in its organization
    (whose owner sells a listing, runs a PULSE team, and is staff for the ops reads)."""
    callers, names = world
    organization = Organization.objects.get(pk=names["organization"])
    owner = organization.memberships.get(role=Role.OWNER).user
    project = Project.objects.get(pk=names["project"])
    key = api_key_issue(organization=organization, name="suite", scopes=["read"]).key
    certificate_response = Client().get(
        f"/api/v1/growth-certificate/{project.pk}", HTTP_X_API_KEY=key
    )
    assert certificate_response.status_code == 200, certificate_response.content[:300]
    certificate = GrowthCertificate.objects.filter(project=project).latest("issued_at")
    domain = LandingDomainFactory(organization=organization, domain="landing.example")
    team = TeamFactory(organization=organization)
    sbt = minted_sbt(team)
    listing = ListingFactory(organization=organization, visibility=Visibility.PUBLIC)
    ListingAssetFactory(listing=listing)
    offer = OfferFactory(listing=listing)
    escrow = escrow_pending(offer, seller_wallet=Account.create().address)
    owner.is_staff = True
    owner.save(update_fields=["is_staff"])
    names.update(
        certificate=certificate.pk,
        domain=domain.domain,
        team=team.pulse_id,
        wallet=sbt.contributor.wallet_address,
        sbt=f"{sbt.chain}/{sbt.token_address}/{sbt.token_id}",
        listing=listing.pk,
        offer=offer.pk,
        escrow=escrow.pk,
    )
    callers["staff"] = callers["session"]
    rows = {
        "organization": organization,
        "owner": owner,
        "project": project,
        "listing": listing,
        "wallet": sbt.contributor.wallet_address,
    }
    for grow in (_grow_messages, _grow_media, _grow_documents, _grow_access):
        grow(rows, 1)  # a list costs a statement more with a first row (the rows' own)
    return world, rows


def listed(world, endpoint: Endpoint) -> int:
    """How many rows the list answers (its `results`, a contributor's teams, a listing's
    buyers)."""
    callers, names = world
    body = callers[endpoint.who](endpoint.path.format(**names)).json()
    for rows in ("results", "teams", "buyers"):
        if rows in body:
            return len(body[rows])
    raise AssertionError(f"no rows in {sorted(body)}")


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_endpoint_cost(suite, monkeypatch, settings, name):
    world, rows = suite
    endpoint = ENDPOINTS[name]
    settings.READ_CACHE_ENABLED = False
    first = measure(world, monkeypatch, endpoint.who, endpoint.path)
    costs = [(first.queries, first.round_trips)]
    if endpoint.grow is not None:
        before = listed(world, endpoint)
        endpoint.grow(rows, GROWTH)
        grown = measure(world, monkeypatch, endpoint.who, endpoint.path)
        endpoint.grow(rows, 2 * GROWTH)
        tripled = measure(world, monkeypatch, endpoint.who, endpoint.path)
        assert listed(world, endpoint) == before + 3 * GROWTH  # the rows were listed
        # Queries only: writing the rows takes seconds on a loaded machine, past what a
        # process holds without asking Redis (an API key's 5 s), so a round trip more there
        # is a refresh coming due, not a row's cost.
        assert (grown.queries, tripled.queries) == (first.queries, first.queries), name
    assert costs == [endpoint.cost], (name, costs)
    if endpoint.hit is not None:
        settings.READ_CACHE_ENABLED = True
        hit = measure(world, monkeypatch, endpoint.who, endpoint.path)
        assert (hit.queries, hit.round_trips) == endpoint.hit, (name, "cached")
