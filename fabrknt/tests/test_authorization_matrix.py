# ruff: noqa: E501 (MATRIX_TABLE is a table: a row a line)
"""The authorization matrix: every endpoint of /api/v1/ and every page, called by every
kind of caller, each answered with exactly its expected status; every refused write
changes nothing in the database (row counts and a checksum of every table of our apps,
before and after).

The table (MATRIX) is the documentation: README.md prints it (`python -m
fabrknt.tests.test_authorization_matrix` writes it) and a test holds the two equal. Routes
come from the URL resolver: one without a row fails `test_every_route_has_a_row`.

One world for the module (built once in a transaction rolled back at its end); each call
runs in a savepoint rolled back after it, so an allowed write (an archived campaign, an
accepted offer) does not change what the next caller meets.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.test.utils import override_settings
from django.urls import resolve
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from eth_account import Account
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import Role
from accounts.selectors import caller_access
from accounts.services.api_keys import api_key_issue, api_key_revoke
from accounts.tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
    WalletFactory,
)
from fabric.models import MediaKind, Message, Party, StripeConnection
from fabric.selectors import listing_view
from fabric.services.dataroom import document_link_issue, document_upload
from fabric.services.media import media_upload
from fabric.tests.dataroom_support import PDF, image_bytes
from fabric.tests.escrow_world import escrow_pending
from fabric.tests.factories import (
    ListingAssetFactory,
    ListingFactory,
    NDASignatureFactory,
    OfferFactory,
)
from fabric.tests.stripe_server import KEY as STRIPE_KEY
from fabric.tests.stripe_server import stripe_server_fixture  # noqa: F401 (a fixture)
from fabrknt.tests.routes import url_patterns_walk
from pulse.discord.signature import relay_public_key_of
from pulse.services.invites import invite_token_make
from pulse.services.weekly_reports import last_full_week
from pulse.tests.factories import TeamFactory, minted_sbt
from trace.services.certificates import certificate_issue
from trace.tests.factories import (
    ActivityMetricFactory,
    CampaignFactory,
    ClickFactory,
    LandingDomainFactory,
    ProjectFactory,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

# The callers, the table's columns. viewer … owner are the seller's members: the world's
# organization owns every object named in a path (its project, campaign, team, listing).
CALLERS = (
    "anonymous",
    "other org",  # the owner of another organization
    "viewer",
    "member",
    "admin",
    "owner",
    "staff",  # an operator, member of no organization
    "read key",
    "write key",
    "ingest key",
    "revoked key",  # had read and write
    "expired JWT",  # the owner's
    "buyer",  # a signed-in wallet without the listing's NDA
    "buyer + NDA",  # signed the listing's NDA; made its offer and its escrow
)
# The API sees users through their bearer tokens; pages through their session cookies.
USERS = ("other org", "viewer", "member", "admin", "owner", "staff", "buyer", "buyer + NDA")
KEYS = {"read key": ["read"], "write key": ["write"], "ingest key": ["ingest"]}


@dataclass
class World:
    names: dict[str, object]  # what the paths name: {project}, {listing}, …
    api: dict[str, Client] = field(default_factory=dict)  # caller → a client for /api/
    pages: dict[str, Client] = field(default_factory=dict)  # caller → a client for pages


def _user(role: Role | None = None, organization=None, **fields):
    wallet = WalletFactory(user=UserFactory(**fields))
    if organization is not None:
        MembershipFactory(organization=organization, user=wallet.user, role=role)
    return wallet


def _trace(organization, names: dict) -> None:
    project = ProjectFactory(organization=organization)
    today = timezone.localdate()
    for days_ago in range(1, 4):
        ActivityMetricFactory(project=project, date=today - dt.timedelta(days=days_ago))
    campaign = CampaignFactory(project=project)
    click = ClickFactory(campaign=campaign)
    certificate = certificate_issue(project_id=project.pk)
    LandingDomainFactory(organization=organization, domain="landing.example")
    names.update(
        project=project.pk,
        contract=project.contract_addresses[0],
        campaign=campaign.pk,
        click=click.click_id,
        certificate=certificate.pk,
        domain="landing.example",
    )


def _pulse(organization, names: dict) -> None:
    team = TeamFactory(organization=organization)
    sbt = minted_sbt(team)
    contributor = sbt.contributor
    names.update(
        team=team.pulse_id,
        contributor=contributor.pk,
        contributor_wallet=contributor.wallet_address,
        sbt=f"{sbt.chain}/{sbt.token_address}/{sbt.token_id}",
        invite=invite_token_make(contributor=contributor),
        week=last_full_week().isoformat(),
    )


def _fabric(organization, seller, buyer_nda, names: dict) -> None:
    listing = ListingFactory(organization=organization, seller_wallet=Account.create().address)
    asset = ListingAssetFactory(listing=listing)
    NDASignatureFactory(listing=listing, wallet=buyer_nda)
    offer = OfferFactory(listing=listing, wallet=buyer_nda)
    escrow = escrow_pending(offer, listing.seller_wallet)
    StripeConnection.objects.create(
        listing=listing, api_key=STRIPE_KEY, account_label="test mode key …GH"
    )
    Message.objects.create(
        listing=listing,
        buyer=buyer_nda.user,
        sender=buyer_nda.user,
        sender_party=Party.BUYER,
        body="Hello",
    )
    document = document_upload(
        listing=listing, upload=SimpleUploadedFile("deck.pdf", PDF, "application/pdf")
    ).document
    media = media_upload(
        listing=listing,
        upload=SimpleUploadedFile("shot.png", image_bytes(1200, 700), "image/png"),
        kind=MediaKind.SCREENSHOT,
    ).media
    names.update(
        listing=listing.pk,
        asset=asset.pk,
        offer=offer.pk,
        escrow=escrow.pk,
        document=document.pk,
        media=media.pk,
        buyer_wallet=buyer_nda.address,
        buyer=buyer_nda.user.pk,
        document_link=document_link_issue(
            document=document,
            view=listing_view(listing_id=listing.pk, access=caller_access(user=seller)),
            user=seller,
            ip_address=None,
        ).url.rsplit("/", 1)[1],
    )


def world_build() -> World:
    organization = OrganizationFactory()
    wallets = {
        "other org": _user(Role.OWNER, OrganizationFactory()),
        "viewer": _user(Role.VIEWER, organization),
        "member": _user(Role.MEMBER, organization),
        "admin": _user(Role.ADMIN, organization),
        "owner": _user(Role.OWNER, organization),
        "staff": _user(is_staff=True),
        "buyer": _user(),
        "buyer + NDA": _user(),
    }
    names: dict[str, object] = {"organization": organization.pk, "address": ADDRESS}
    _trace(organization, names)
    _pulse(organization, names)
    _fabric(organization, wallets["owner"].user, wallets["buyer + NDA"], names)
    keys = {
        caller: api_key_issue(organization=organization, name=caller, scopes=scopes)
        for caller, scopes in KEYS.items()
    }
    revoked = api_key_issue(organization=organization, name="revoked", scopes=["read", "write"])
    api_key_revoke(api_key=revoked.api_key)
    spare = api_key_issue(organization=organization, name="spare", scopes=["read"])
    owner = wallets["owner"].user
    names.update(
        api_key=spare.api_key.pk,
        membership=organization.memberships.get(user=wallets["member"].user).pk,
        owner_wallet=wallets["owner"].address,
        owner_wallet_id=wallets["owner"].pk,
    )
    expired = AccessToken.for_user(owner)
    expired.set_exp(from_time=timezone.now() - dt.timedelta(hours=2))
    world = World(names=names)
    world.api["anonymous"] = Client()
    world.pages["anonymous"] = Client()
    for caller, wallet in wallets.items():
        bearer = AccessToken.for_user(wallet.user)
        world.api[caller] = Client(HTTP_AUTHORIZATION=f"Bearer {bearer}")
        world.pages[caller] = Client()
        world.pages[caller].force_login(wallet.user)
    for caller, issued in [*keys.items(), ("revoked key", revoked)]:
        world.api[caller] = world.pages[caller] = Client(HTTP_X_API_KEY=issued.key)
    world.api["expired JWT"] = world.pages["expired JWT"] = Client(
        HTTP_AUTHORIZATION=f"Bearer {expired}"
    )
    return world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[World]:
    """The module's world, in a transaction its tests' own (savepoints) nest in, rolled
    back when the module is done."""
    media = tmp_path_factory.mktemp("media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media):
        with transaction.atomic():
            yield world_build()
            transaction.set_rollback(True)


# --- nothing stored ---------------------------------------------------------------------

OUR_APPS = ("accounts", "trace", "pulse", "fabric", "security", "ops", "chain")


def _our_tables() -> list[str]:
    tables = set()
    for label in OUR_APPS:
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            tables.add(model._meta.db_table)
    return sorted(tables)


def tuples_written() -> int:
    """Rows this transaction has inserted, updated or deleted so far, in any table."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)"
            " FROM pg_stat_xact_all_tables"
        )
        return cursor.fetchone()[0]


# Columns that say when a credential was last used, not what a request wrote: a refused
# request still authenticated its key.
BOOKKEEPING = {"accounts_apikey": "last_used_at"}


def database_state() -> list[tuple[str, int, str]]:
    """(table, rows, md5 of its rows in order) for every table of our apps, in one
    statement."""
    parts = []
    for table in _our_tables():
        row = f"(to_jsonb(t) - '{BOOKKEEPING[table]}')::text" if table in BOOKKEEPING else "t::text"
        parts.append(
            f"SELECT '{table}', count(*), coalesce(md5(string_agg({row}, '|' ORDER BY {row})), '')"
            f' FROM "{table}" t'
        )
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts))
        return sorted(cursor.fetchall())


# --- the table ----------------------------------------------------------------------------


SIGN_IN = "/signin"
# Refusals that store what they found, by design: (row, status) → why.
RECORDED = {
    ("POST /api/v1/organizations/{organization}/domains/{domain}/verify", 400): (
        "a failed check is the domain's last_checked_at and last_error, which its page shows"
    ),
}


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # formatted with the world's names
    expect: dict[str, int]  # caller → status
    body: object = None  # JSON (a dict or list), or form fields for a page
    files: dict[str, tuple[str, bytes, str]] | None = None  # multipart: name → file

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")


def refused(response) -> bool:
    """An error, or a page sending its caller to sign in."""
    location = response.get("Location", "")
    return response.status_code >= 400 or location.startswith(SIGN_IN)


def call(world: World, row: Row, caller: str, before: object = None) -> int:
    """The status `caller` gets. A write refused must leave every table as it was
    (`before`, the state every call of the row starts from). The call's writes are rolled
    back either way."""
    client = (world.api if row.is_api else world.pages)[caller]
    path = row.path.format(**world.names)
    body = _formatted(row.body, world.names)
    kwargs: dict = {}
    if row.files is not None:
        files = {
            name: SimpleUploadedFile(filename, content, content_type)
            for name, (filename, content, content_type) in row.files.items()
        }
        kwargs["data"] = {**(body or {}), **files}
    elif row.is_api and row.method in ("POST", "PATCH", "PUT"):
        kwargs.update(data={} if body is None else body, content_type="application/json")
    elif body is not None:
        kwargs["data"] = body
    with transaction.atomic():
        written = tuples_written()
        response = getattr(client, row.method.lower())(path, **kwargs)
        status = response.status_code
        checked = before is not None and refused(response) and (row.label, status) not in RECORDED
        # No tuple written at all is nothing changed; else the tables must compare equal.
        if checked and tuples_written() != written:
            changed = [b[0] for b, a in zip(before, database_state(), strict=True) if b != a]
            assert not changed, f"{caller} refused {row.label} ({status}) but changed {changed}"
        transaction.set_rollback(True)
    return status


ADDRESS = "0x52908400098527886E0F7030069857D2E4169EE7"
TX_HASH = "0x" + "ab" * 32
SIGNATURE = "0x" + "11" * 65  # well-formed, by no one
# label → its JSON body (the API) or form fields (pages); "{name}" names a world object.
BODIES: dict[str, object] = {
    "POST /api/v1/auth/siwe": {"message": "localhost wants you to sign in", "signature": SIGNATURE},
    "POST /api/v1/auth/siws": {"message": "localhost wants you to sign in", "signature": "1" * 88},
    "POST /api/v1/auth/refresh": {"refresh": "not-a-token"},
    "POST /api/v1/organizations": {"name": "Matrix Labs"},
    "POST /api/v1/organizations/{organization}/members": {
        "wallet_address": ADDRESS,
        "role": "member",
    },
    "POST /api/v1/organizations/{organization}/api-keys": {"name": "ci", "scopes": ["read"]},
    "POST /api/v1/webhooks/alchemy": {
        "type": "ADDRESS_ACTIVITY",
        "event": {"network": "BASE_MAINNET", "activity": []},
    },
    "POST /api/v1/webhooks/helius": [],
    "POST /api/v1/clicks": {"campaign_id": "{campaign}"},
    "POST /api/v1/clicks/batch": {"clicks": [{"campaign_id": "{campaign}"}]},
    "POST /api/v1/projects": {
        "organization": "{organization}",
        "name": "Matrix",
        "chain": "eip155:8453",
        "contract_addresses": [ADDRESS],
    },
    "PATCH /api/v1/projects/{project}": {"name": "Renamed"},
    "POST /api/v1/campaigns": {
        "organization": "{organization}",
        "project": "{project}",
        "name": "Spring",
        "landing_url": "https://landing.example/",
        "budget_usd": "100.00",
    },
    "PATCH /api/v1/campaigns/{campaign}": {"status": "paused"},
    "POST /api/v1/identify": {"click_id": "{click}", "wallet_address": ADDRESS},
    "POST /api/v1/conversions": {
        "click_id": "{click}",
        "wallet_address": ADDRESS,
        "transaction_hash": TX_HASH,
    },
    "POST /api/v1/projects/{project}/contracts/{contract}/verify": {
        "message": "I control it",
        "signature": SIGNATURE,
    },
    "POST /api/v1/organizations/{organization}/domains": {"domain": "shop.example"},
    "POST /api/v1/github/webhook": {"zen": "Keep it logically awesome."},
    "POST /api/v1/teams": {"organization": "{organization}", "team_name": "Matrix team"},
    "POST /api/v1/teams/{team}/contributors": {"wallet_address": ADDRESS},
    "POST /api/v1/discord/webhook": {
        "type": "message",
        "id": "1",
        "guild_id": "1",
        "channel_id": "1",
        "author_id": "1",
        "created_at": "2026-01-01T00:00:00Z",
    },
    "POST /api/v1/mint-sbt": {
        "pulse_id": "{team}",
        "wallet_address": "{contributor_wallet}",
        "milestone": "first-merged-pr",
    },
    "POST /api/v1/listings/{listing}/stripe": {"api_key": STRIPE_KEY},
    "POST /api/v1/nda/sign": {
        "listing_id": "{listing}",
        "buyer_wallet": ADDRESS,
        "message": "I sign",
        "signature": SIGNATURE,
    },
    "POST /api/v1/listings/{listing}/access": {"wallet_address": ADDRESS},
    "POST /api/v1/listings/{listing}/access/revoke": {"wallet_address": "{buyer_wallet}"},
    "POST /api/v1/listings/{listing}/access/restore": {"wallet_address": "{buyer_wallet}"},
    "POST /api/v1/listings": {
        "organization": "{organization}",
        "title": "For sale",
        "description": "A protocol.",
        "asking_price_usd": "1000.00",
        "blockchain": "eip155:8453",
        "visibility": "public",
    },
    "PATCH /api/v1/listings/{listing}": {"title": "Renamed"},
    "POST /api/v1/listings/{listing}/assets": {
        "asset_type": "domain",
        "asset_identifier": "matrix.xyz",
    },
    "POST /api/v1/listings/{listing}/offers": {
        "buyer_wallet": "{buyer_wallet}",
        "amount_usd": "150000.00",
    },
    "POST /api/v1/offers/{offer}/counter": {"amount_usd": "220000.00"},
    "POST /api/v1/listings/{listing}/messages": {"body": "Hello", "buyer": "{buyer}"},
    "POST /api/v1/listings/{listing}/media": {"kind": "screenshot"},
    "POST /api/v1/escrow/init": {
        "listing_id": "{listing}",
        "buyer_wallet": "{buyer_wallet}",
        "amount_usd": "250000.00",
    },
    "POST /trace/campaigns/{campaign}/status": {"status": "paused"},
    "POST /trace/campaigns/{campaign}/archive": {},
    "POST /trace/projects/{project}/backfill/": {},
    "POST /trace/projects/{project}/recompute": {},
    "POST /trace/projects/{project}/archive": {},
    "POST /pulse/teams/{team}/recalculate": {},
    "POST /pulse/teams/{team}/github-secret": {},
    "POST /organizations/switch": {"organization": "{organization}"},
    "POST /organizations/{organization}/delete": {},
    "POST /organizations/{organization}/members/{membership}/role": {"role": "viewer"},
    "POST /organizations/{organization}/members/{membership}/remove": {},
    "POST /organizations/{organization}/api-keys/new": {"name": "ci", "scopes": ["read"]},
    "POST /organizations/{organization}/api-keys/{api_key}/revoke": {},
    "POST /fabric/sell/{listing}/withdraw": {},
    "POST /fabric/offers/{offer}/accept": {},
    "POST /fabric/listings/{listing}/dataroom/{document}/download": {},
    "POST /fabric/listings/{listing}/dataroom/manage/{document}/delete": {},
    "POST /fabric/listings/{listing}/media/{media}/delete": {},
    "POST /ops/queues/default/purge": {},
    "POST /signout": {},
    "POST /account/wallets/link": {},
    "POST /account/email": {"email": "someone@example.com"},
    "POST /account/notifications": {},
}
# label → its multipart files: name → (filename, content, content type).
FILES: dict[str, dict[str, tuple[str, bytes, str]]] = {
    "POST /api/v1/listings/{listing}/documents": {"file": ("terms.pdf", PDF, "application/pdf")},
    "POST /api/v1/listings/{listing}/media": {
        "file": ("shot.png", image_bytes(1200, 700), "image/png")
    },
}

# The matrix: "METHOD path", then each caller's status in the order of CALLERS (anonymous,
# other org, viewer, member, admin, owner, staff, read key, write key, ingest key, revoked
# key, expired JWT, buyer, buyer + NDA). 302 on a page
# is the way to sign in (or, where every caller gets it, the page's own redirect); 503 is
# an allowed caller meeting a service the tests do not configure (a chain's RPC, Stripe).
MATRIX_TABLE = """
GET /api/v1/schema/?format=json                                     200 200 200 200 200 200 200 200 200 200 200 200 200 200
GET /api/v1/docs/                                                   200 200 200 200 200 200 200 200 200 200 200 200 200 200
GET /api/v1/auth/nonce                                              200 200 200 200 200 200 200 200 200 200 200 200 200 200
POST /api/v1/auth/siwe                                              401 401 401 401 401 401 401 401 401 401 401 401 401 401
POST /api/v1/auth/siws                                              401 401 401 401 401 401 401 401 401 401 401 401 401 401
POST /api/v1/auth/refresh                                           401 401 401 401 401 401 401 401 401 401 401 401 401 401
GET /api/v1/me                                                      401 200 200 200 200 200 200 403 403 403 401 401 200 200
GET /api/v1/organizations                                           401 200 200 200 200 200 200 403 403 403 401 401 200 200
POST /api/v1/organizations                                          401 201 201 201 201 201 201 403 403 403 401 401 201 201
GET /api/v1/organizations/{organization}                            401 404 200 200 200 200 404 200 403 403 401 401 404 404
POST /api/v1/organizations/{organization}/members                   401 404 403 403 201 201 404 403 403 403 401 401 404 404
GET /api/v1/organizations/{organization}/api-keys                   401 404 403 403 200 200 404 403 403 403 401 401 404 404
POST /api/v1/organizations/{organization}/api-keys                  401 404 403 403 201 201 404 403 403 403 401 401 404 404
DELETE /api/v1/organizations/{organization}/api-keys/{api_key}      401 404 403 403 204 204 404 403 403 403 401 401 404 404
POST /api/v1/webhooks/alchemy                                       401 401 401 401 401 401 401 401 401 401 401 401 401 401
POST /api/v1/webhooks/helius                                        401 401 401 401 401 401 401 401 401 401 401 401 401 401
POST /api/v1/clicks                                                 401 404 403 202 202 202 404 403 403 202 401 401 404 404
POST /api/v1/clicks/batch                                           401 403 403 403 403 403 403 403 403 202 401 401 403 403
GET /api/v1/projects                                                401 200 200 200 200 200 200 200 403 403 401 401 200 200
POST /api/v1/projects                                               401 404 403 201 201 201 404 403 201 403 401 401 404 404
GET /api/v1/projects/{project}                                      401 404 200 200 200 200 404 200 403 403 401 401 404 404
PATCH /api/v1/projects/{project}                                    401 404 403 200 200 200 404 403 200 403 401 401 404 404
DELETE /api/v1/projects/{project}                                   401 404 403 204 204 204 404 403 204 403 401 401 404 404
GET /api/v1/campaigns                                               401 200 200 200 200 200 200 200 403 403 401 401 200 200
POST /api/v1/campaigns                                              401 404 403 201 201 201 404 403 201 403 401 401 404 404
GET /api/v1/campaigns/{campaign}                                    401 404 200 200 200 200 404 200 403 403 401 401 404 404
PATCH /api/v1/campaigns/{campaign}                                  401 404 403 200 200 200 404 403 200 403 401 401 404 404
DELETE /api/v1/campaigns/{campaign}                                 401 404 403 200 200 200 404 403 200 403 401 401 404 404
GET /api/v1/identify/message?click_id={click}&wallet={address}      401 404 403 200 200 200 403 403 403 200 401 401 403 403
POST /api/v1/identify                                               401 404 403 200 200 200 403 403 403 200 401 401 403 403
POST /api/v1/conversions                                            401 404 403 201 201 201 403 403 201 403 401 401 403 403
GET /api/v1/roi/{campaign}                                          401 404 200 200 200 200 404 200 403 403 401 401 404 404
GET /api/v1/projects/{project}/contracts/{contract}/verify-message  401 404 403 200 200 200 404 403 200 403 401 401 404 404
POST /api/v1/projects/{project}/contracts/{contract}/verify         401 404 403 503 503 503 404 403 503 403 401 401 404 404
GET /api/v1/metrics/{project}                                       401 404 200 200 200 200 404 200 403 403 401 401 404 404
GET /api/v1/growth-certificate/{project}                            401 404 200 200 200 200 404 200 403 403 401 401 404 404
GET /api/v1/certificates/keys                                       200 200 200 200 200 200 200 200 200 200 200 200 200 200
GET /api/v1/certificates/{certificate}                              200 200 200 200 200 200 200 200 200 200 200 200 200 200
GET /api/v1/organizations/{organization}/domains                    401 404 403 403 200 200 404 403 403 403 401 401 404 404
POST /api/v1/organizations/{organization}/domains                   401 404 403 403 201 201 404 403 403 403 401 401 404 404
GET /api/v1/organizations/{organization}/domains/{domain}           401 404 403 403 200 200 404 403 403 403 401 401 404 404
DELETE /api/v1/organizations/{organization}/domains/{domain}        401 404 403 403 204 204 404 403 403 403 401 401 404 404
POST /api/v1/organizations/{organization}/domains/{domain}/verify   401 404 403 403 400 400 404 403 403 403 401 401 404 404
POST /api/v1/github/webhook                                         401 401 401 401 401 401 401 401 401 401 401 401 401 401
POST /api/v1/teams                                                  401 404 403 201 201 201 404 403 201 403 401 401 404 404
GET /api/v1/teams/{team}                                            401 404 200 200 200 200 404 200 403 403 401 401 404 404
POST /api/v1/teams/{team}/github-secret                             401 404 403 403 200 200 404 403 403 403 401 401 404 404
POST /api/v1/teams/{team}/contributors                              401 404 403 201 201 201 404 403 201 403 401 401 404 404
GET /api/v1/contributors/{contributor_wallet}                       401 404 200 200 200 200 404 200 403 403 401 401 404 404
POST /api/v1/discord/webhook                                        401 401 401 401 401 401 401 401 401 401 401 401 401 401
POST /api/v1/teams/{team}/discord-install                           401 404 403 200 200 200 404 403 200 403 401 401 404 404
POST /api/v1/teams/{team}/notion                                    401 404 403 400 400 400 404 403 400 403 401 401 404 404
DELETE /api/v1/teams/{team}/notion                                  401 404 403 204 204 204 404 403 204 403 401 401 404 404
GET /api/v1/vitality/{team}                                         401 404 200 200 200 200 404 200 403 403 401 401 404 404
POST /api/v1/mint-sbt                                               401 404 403 200 200 200 404 403 200 403 401 401 404 404
GET /api/v1/sbt/{sbt}                                               200 200 200 200 200 200 200 200 200 200 200 200 200 200
GET /api/v1/suite/summary/{listing}                                 200 200 200 200 200 200 200 200 200 200 401 401 200 200
GET /api/v1/proof-of-funds/{buyer_wallet}?amount_usd=1000.00        401 403 403 403 403 403 403 403 403 403 401 401 403 503
POST /api/v1/listings/{listing}/stripe                              401 404 403 200 200 200 404 403 200 403 401 401 404 404
DELETE /api/v1/listings/{listing}/stripe                            401 404 403 204 204 204 404 403 204 403 401 401 404 404
POST /api/v1/nda/sign                                               401 400 400 400 400 400 400 403 403 403 401 401 400 400
GET /api/v1/nda/{listing}/message?wallet={buyer_wallet}             401 400 400 400 400 400 400 403 403 403 401 401 400 200
GET /api/v1/listings/{listing}/access                               401 404 200 200 200 200 404 200 403 403 401 401 404 404
POST /api/v1/listings/{listing}/access                              401 404 403 400 400 400 404 403 400 403 401 401 404 404
POST /api/v1/listings/{listing}/access/revoke                       401 404 403 200 200 200 404 403 200 403 401 401 404 404
POST /api/v1/listings/{listing}/access/restore                      401 404 403 404 404 404 404 403 404 403 401 401 404 404
GET /api/v1/listings                                                200 200 200 200 200 200 200 200 200 200 401 401 200 200
POST /api/v1/listings                                               401 404 403 201 201 201 404 403 201 403 401 401 404 404
GET /api/v1/listings/{listing}                                      200 200 200 200 200 200 200 200 200 200 401 401 200 200
PATCH /api/v1/listings/{listing}                                    401 404 403 200 200 200 404 403 200 403 401 401 404 404
POST /api/v1/listings/{listing}/publish                             401 404 403 200 200 200 404 403 200 403 401 401 404 404
POST /api/v1/listings/{listing}/withdraw                            401 404 403 200 200 200 404 403 200 403 401 401 404 404
POST /api/v1/listings/{listing}/assets                              401 404 403 201 201 201 404 403 201 403 401 401 404 404
GET /api/v1/listings/{listing}/offers                               401 403 200 200 200 200 403 200 200 403 401 401 403 200
POST /api/v1/listings/{listing}/offers                              401 403 403 403 403 403 403 403 403 403 401 401 403 201
GET /api/v1/offers/{offer}                                          401 404 200 200 200 200 404 200 403 403 401 401 404 200
POST /api/v1/offers/{offer}/accept                                  401 404 403 200 200 200 404 403 403 403 401 401 404 409
POST /api/v1/offers/{offer}/decline                                 401 404 403 200 200 200 404 403 403 403 401 401 404 409
POST /api/v1/offers/{offer}/counter                                 401 404 403 200 200 200 404 403 403 403 401 401 404 409
POST /api/v1/offers/{offer}/withdraw                                401 404 403 403 403 403 404 403 403 403 401 401 404 200
GET /api/v1/listings/{listing}/messages                             401 403 200 200 200 200 403 200 200 403 401 401 403 200
POST /api/v1/listings/{listing}/messages                            401 403 403 201 201 201 403 403 403 403 401 401 403 201
GET /api/v1/listings/{listing}/documents                            401 403 200 200 200 200 403 200 200 403 401 401 403 200
POST /api/v1/listings/{listing}/documents                           401 404 403 200 200 200 404 403 200 403 401 401 404 404
DELETE /api/v1/listings/{listing}/documents/{document}              401 404 403 204 204 204 404 403 204 403 401 401 404 404
GET /api/v1/listings/{listing}/media                                200 200 200 200 200 200 200 200 200 200 401 401 200 200
POST /api/v1/listings/{listing}/media                               401 404 403 200 200 200 404 403 200 403 401 401 404 404
DELETE /api/v1/listings/{listing}/media/{media}                     401 404 403 204 204 204 404 403 204 403 401 401 404 404
GET /api/v1/documents/links/{document_link}                         200 200 200 200 200 200 200 200 200 200 200 200 200 200
POST /api/v1/documents/{document}/link                              401 403 200 200 200 200 403 200 200 403 401 401 403 200
POST /api/v1/escrow/init                                            401 403 403 403 403 403 403 403 403 403 401 401 403 400
GET /api/v1/escrow/{escrow}                                         401 404 200 200 200 200 404 200 403 403 401 401 404 200
GET /api/v1/operational/telemetry                                   401 403 403 403 403 403 200 403 403 403 401 401 403 403
GET /api/v1/operational/metrics                                     401 403 403 403 403 403 200 403 403 403 401 401 403 403
POST /api/v1/ws-token                                               401 200 200 200 200 200 200 403 403 403 401 401 200 200
GET /api/v1/queue/                                                  401 403 403 403 403 403 200 403 403 403 401 401 403 403
POST /api/v1/queue/default/retry-dead-letters                       401 403 403 403 403 403 200 403 403 403 401 401 403 403
POST /api/v1/queue/default/purge                                    401 403 403 403 403 403 200 403 403 403 401 401 403 403
GET /trace/                                                         302 200 200 200 200 200 200 302 302 302 302 302 200 200
GET /trace/campaigns/                                               302 200 200 200 200 200 200 302 302 302 302 302 200 200
GET /trace/campaigns/new                                            302 200 403 200 200 200 302 302 302 302 302 302 302 302
GET /trace/campaigns/{campaign}/                                    302 404 200 200 200 200 404 302 302 302 302 302 404 404
GET /trace/campaigns/{campaign}/edit                                302 404 403 200 200 200 404 302 302 302 302 302 404 404
GET /trace/campaigns/{campaign}/archive                             302 404 403 200 200 200 404 302 302 302 302 302 404 404
GET /trace/campaigns/{campaign}/qr.svg                              302 404 200 200 200 200 404 302 302 302 302 302 404 404
GET /trace/projects/{project}/                                      302 404 200 200 200 200 404 302 302 302 302 302 404 404
GET /trace/projects/new                                             302 200 200 200 200 200 200 302 302 302 302 302 200 200
GET /trace/projects/{project}/edit                                  302 404 403 200 200 200 404 302 302 302 302 302 404 404
GET /trace/projects/{project}/archive                               302 404 403 200 200 200 404 302 302 302 302 302 404 404
GET /trace/projects/{project}/certificates/                         302 404 200 200 200 200 404 302 302 302 302 302 404 404
GET /trace/projects/{project}/export/                               302 404 200 200 200 200 404 302 302 302 302 302 404 404
GET /trace/projects/{project}/export/clicks.csv                     302 404 400 400 400 400 404 302 302 302 302 302 404 404
GET /trace/campaigns/{campaign}/export/                             302 404 200 200 200 200 404 302 302 302 302 302 404 404
GET /trace/campaigns/{campaign}/export/clicks.csv                   302 404 400 400 400 400 404 302 302 302 302 302 404 404
GET /pulse/                                                         302 302 302 302 302 302 302 302 302 302 302 302 302 302
GET /pulse/teams/                                                   302 200 200 200 200 200 200 302 302 302 302 302 200 200
GET /pulse/teams/new                                                302 200 200 200 200 200 200 302 302 302 302 302 200 200
GET /pulse/teams/github/setup                                       302 400 400 400 400 400 400 302 302 302 302 302 400 400
GET /pulse/teams/{team}/settings                                    302 404 200 200 200 200 404 302 302 302 302 302 404 404
GET /pulse/teams/{team}/repositories/new                            302 404 403 200 200 200 404 302 302 302 302 302 404 404
GET /pulse/teams/{team}/contributors/new                            302 404 403 200 200 200 404 302 302 302 302 302 404 404
GET /pulse/teams/{team}/contributors/{contributor}/invite           302 404 403 200 200 200 404 302 302 302 302 302 404 404
GET /pulse/teams/{team}/github-secret                               302 404 403 403 200 200 404 302 302 302 302 302 404 404
GET /pulse/teams/{team}/                                            302 404 200 200 200 200 404 302 302 302 302 302 404 404
GET /pulse/teams/{team}/contributors/{contributor}/                 302 404 200 200 200 200 404 302 302 302 302 302 404 404
GET /pulse/teams/{team}/reports/                                    302 404 200 200 200 200 404 302 302 302 302 302 404 404
GET /pulse/teams/{team}/reports/{week}/                             302 404 404 404 404 404 404 302 302 302 302 302 404 404
GET /pulse/teams/{team}/contributors/{contributor}/tokens           302 404 200 200 200 200 404 302 302 302 302 302 404 404
GET /pulse/sbt/{sbt}/image.svg                                      200 200 200 200 200 200 200 200 200 200 200 200 200 200
GET /organizations/                                                 302 200 200 200 200 200 200 302 302 302 302 302 200 200
GET /organizations/new                                              302 200 200 200 200 200 200 302 302 302 302 302 200 200
GET /organizations/{organization}/                                  302 404 200 200 200 200 404 302 302 302 302 302 404 404
GET /organizations/{organization}/settings                          302 404 200 200 200 200 404 302 302 302 302 302 404 404
GET /organizations/{organization}/export                            302 404 403 403 200 200 404 302 302 302 302 302 404 404
GET /organizations/{organization}/delete                            302 404 403 403 403 200 404 302 302 302 302 302 404 404
GET /organizations/{organization}/members/                          302 404 200 200 200 200 404 302 302 302 302 302 404 404
GET /organizations/{organization}/members/new                       302 404 403 403 200 200 404 302 302 302 302 302 404 404
GET /organizations/{organization}/members/{membership}/remove       302 404 403 403 200 200 404 302 302 302 302 302 404 404
GET /organizations/{organization}/members/{membership}/transfer     302 404 403 403 403 200 404 302 302 302 302 302 404 404
GET /organizations/{organization}/api-keys/                         302 404 403 403 200 200 404 302 302 302 302 302 404 404
GET /organizations/{organization}/api-keys/new                      302 404 403 403 200 200 404 302 302 302 302 302 404 404
GET /organizations/{organization}/api-keys/{api_key}/               302 404 403 403 200 200 404 302 302 302 302 302 404 404
GET /organizations/{organization}/api-keys/{api_key}/revoke         302 404 403 403 200 200 404 302 302 302 302 302 404 404
GET /organizations/{organization}/audit                             302 404 200 200 200 200 404 302 302 302 302 302 404 404
GET /verify/{certificate}                                           200 200 200 200 200 200 200 200 200 200 200 200 200 200
GET /verify/{certificate}.json                                      200 200 200 200 200 200 200 200 200 200 200 200 200 200
GET /pulse/discord/teams/{team}/install                             302 404 403 200 200 200 404 302 302 302 302 302 404 404
GET /pulse/discord/installed                                        400 400 400 400 400 400 400 400 400 400 400 400 400 400
GET /pulse/notion/teams/{team}                                      302 404 403 200 200 200 404 302 302 302 302 302 404 404
GET /pulse/notion/teams/{team}/editors                              302 404 403 303 303 303 404 302 302 302 302 302 404 404
GET /pulse/notion/teams/{team}/disconnect                           302 404 403 303 303 303 404 302 302 302 302 302 404 404
GET /pulse/invite/{invite}                                          200 200 200 200 200 200 200 200 200 200 200 200 200 200
GET /fabric/listings/{listing}/revenue/                             302 404 200 200 200 200 404 302 302 302 302 302 404 404
GET /fabric/listings/{listing}/revenue/verify                       302 404 403 303 303 303 404 302 302 302 302 302 404 404
GET /fabric/listings/{listing}/revenue/stripe/disconnect            302 404 403 303 303 303 404 302 302 302 302 302 404 404
GET /fabric/                                                        200 200 200 200 200 200 200 200 200 200 200 200 200 200
GET /fabric/listings/{listing}/                                     200 200 200 200 200 200 200 200 200 200 200 200 200 200
GET /fabric/listings/{listing}/access/                              302 404 200 200 200 200 404 302 302 302 302 302 404 404
GET /fabric/sell/                                                   302 200 200 200 200 200 200 302 302 302 302 302 200 200
GET /fabric/sell/new                                                302 200 200 200 200 200 200 302 302 302 302 302 200 200
GET /fabric/sell/new/describe                                       302 404 404 404 404 404 404 302 302 302 302 302 404 404
GET /fabric/sell/{listing}/                                         302 404 200 200 200 200 404 302 302 302 302 302 404 404
GET /fabric/sell/{listing}/edit                                     302 404 403 200 200 200 404 302 302 302 302 302 404 404
GET /fabric/sell/{listing}/assets                                   302 404 200 200 200 200 404 302 302 302 302 302 404 404
GET /fabric/sell/{listing}/assets/{asset}/remove                    302 404 403 200 200 200 404 302 302 302 302 302 404 404
GET /fabric/sell/{listing}/preview                                  302 404 200 200 200 200 404 302 302 302 302 302 404 404
GET /fabric/sell/{listing}/publish                                  302 404 403 200 200 200 404 302 302 302 302 302 404 404
GET /fabric/sell/{listing}/withdraw                                 302 404 403 200 200 200 404 302 302 302 302 302 404 404
GET /fabric/sell/{listing}/reopen                                   302 404 403 200 200 200 404 302 302 302 302 302 404 404
GET /fabric/inbox/                                                  302 200 200 200 200 200 200 302 302 302 302 302 200 200
GET /fabric/listings/{listing}/offers/                              302 403 200 200 200 200 403 302 302 302 302 302 403 200
GET /fabric/listings/{listing}/messages/                            302 403 200 200 200 200 403 302 302 302 302 302 403 200
GET /fabric/offers/{offer}/                                         302 404 200 200 200 200 404 302 302 302 302 302 404 200
GET /fabric/offers/{offer}/counter                                  302 404 200 200 200 200 404 302 302 302 302 302 404 200
GET /fabric/offers/{offer}/accept                                   302 404 200 200 200 200 404 302 302 302 302 302 404 200
GET /fabric/offers/{offer}/decline                                  302 404 200 200 200 200 404 302 302 302 302 302 404 200
GET /fabric/offers/{offer}/withdraw                                 302 404 200 200 200 200 404 302 302 302 302 302 404 200
GET /fabric/listings/{listing}/dataroom/                            302 403 200 200 200 200 403 302 302 302 302 302 403 200
GET /fabric/listings/{listing}/dataroom/manage/                     302 404 403 200 200 200 404 302 302 302 302 302 404 404
GET /fabric/listings/{listing}/dataroom/manage/{document}/delete    302 404 403 200 200 200 404 302 302 302 302 302 404 404
GET /fabric/listings/{listing}/media/                               302 404 403 200 200 200 404 302 302 302 302 302 404 404
GET /fabric/listings/{listing}/media/{media}/delete                 302 404 403 200 200 200 404 302 302 302 302 302 404 404
GET /fabric/media/{media}.webp                                      200 200 200 200 200 200 200 200 200 200 200 200 200 200
GET /fabric/media/{media}/original                                  404 404 200 200 200 200 404 404 404 404 404 404 404 404
GET /fabric/deals/{escrow}/                                         302 404 200 200 200 200 404 302 302 302 302 302 404 200
GET /fabric/listings/{listing}/escrow/new/                          302 403 403 403 403 403 403 302 302 302 302 302 403 200
GET /account/identities/github/link                                 302 302 302 302 302 302 302 302 302 302 302 302 302 302
GET /account/identities/github/callback                             302 302 302 302 302 302 302 302 302 302 302 302 302 302
GET /t/{campaign}                                                   200 200 200 200 200 200 200 200 200 200 200 200 200 200
GET /ops/                                                           302 403 403 403 403 403 200 302 302 302 302 302 403 403
GET /ops/queues/default/retry-dead-letters                          302 403 403 403 403 403 200 302 302 302 302 302 403 403
GET /ops/queues/default/purge                                       302 403 403 403 403 403 200 302 302 302 302 302 403 403
GET /ops/queues/default/purge-dead-letters                          302 403 403 403 403 403 200 302 302 302 302 302 403 403
GET /healthz                                                        200 200 200 200 200 200 200 200 200 200 200 200 200 200
GET /readyz                                                         200 200 200 200 200 200 200 200 200 200 200 200 200 200
GET /metrics                                                        200 200 200 200 200 200 200 200 200 200 200 200 200 200
GET /                                                               200 200 200 200 200 200 200 200 200 200 200 200 200 200
GET /signin                                                         200 200 200 200 200 200 200 200 200 200 200 200 200 200
GET /account/                                                       302 200 200 200 200 200 200 302 302 302 302 302 200 200
GET /account/wallets/{owner_wallet_id}/unlink                       302 404 404 404 404 200 404 302 302 302 302 302 404 404
GET /account/email/verify/not-a-token                               400 400 400 400 400 400 400 400 400 400 400 400 400 400
GET /account/sign-out-everywhere                                    302 200 200 200 200 200 200 302 302 302 302 302 200 200
GET /account/unsubscribe/not-a-token                                200 200 200 200 200 200 200 200 200 200 200 200 200 200
POST /trace/campaigns/{campaign}/status                             302 404 403 303 303 303 404 302 302 302 302 302 404 404
POST /trace/campaigns/{campaign}/archive                            302 404 403 303 303 303 404 302 302 302 302 302 404 404
POST /trace/projects/{project}/backfill/                            302 404 403 503 503 503 404 302 302 302 302 302 404 404
POST /trace/projects/{project}/recompute                            302 404 403 303 303 303 404 302 302 302 302 302 404 404
POST /trace/projects/{project}/archive                              302 404 403 303 303 303 404 302 302 302 302 302 404 404
POST /pulse/teams/{team}/recalculate                                302 404 403 303 303 303 404 302 302 302 302 302 404 404
POST /pulse/teams/{team}/github-secret                              302 404 403 403 200 200 404 302 302 302 302 302 404 404
POST /organizations/switch                                          302 404 303 303 303 303 404 302 302 302 302 302 404 404
POST /organizations/{organization}/delete                           302 404 403 403 403 400 404 302 302 302 302 302 404 404
POST /organizations/{organization}/members/{membership}/role        302 404 403 403 400 400 404 302 302 302 302 302 404 404
POST /organizations/{organization}/members/{membership}/remove      302 404 403 403 303 303 404 302 302 302 302 302 404 404
POST /organizations/{organization}/api-keys/new                     302 404 403 403 200 200 404 302 302 302 302 302 404 404
POST /organizations/{organization}/api-keys/{api_key}/revoke        302 404 403 403 303 303 404 302 302 302 302 302 404 404
POST /fabric/sell/{listing}/withdraw                                302 404 403 303 303 303 404 302 302 302 302 302 404 404
POST /fabric/offers/{offer}/accept                                  302 404 403 303 303 303 404 302 302 302 302 302 404 409
POST /fabric/listings/{listing}/dataroom/{document}/download        302 403 303 303 303 303 403 302 302 302 302 302 403 303
POST /fabric/listings/{listing}/dataroom/manage/{document}/delete   302 404 403 303 303 303 404 302 302 302 302 302 404 404
POST /fabric/listings/{listing}/media/{media}/delete                302 404 403 303 303 303 404 302 302 302 302 302 404 404
POST /ops/queues/default/purge                                      302 403 403 403 403 403 303 302 302 302 302 302 403 403
POST /signout                                                       302 302 302 302 302 302 302 302 302 302 302 302 302 302
POST /account/wallets/link                                          302 302 302 302 302 302 302 302 302 302 302 302 302 302
POST /account/email                                                 302 302 302 302 302 302 302 302 302 302 302 302 302 302
POST /account/notifications                                         302 302 302 302 302 302 302 302 302 302 302 302 302 302
"""


def _formatted(value: object, names: dict[str, object]) -> object:
    if isinstance(value, str):
        return value.format(**names)
    if isinstance(value, dict):
        return {key: _formatted(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [_formatted(item, names) for item in value]
    return value


def _parsed(table: str) -> dict[str, list[int]]:
    """label → statuses, from MATRIX_TABLE's lines."""
    parsed = {}
    for line in table.strip().splitlines():
        method, path, *cells = line.split()
        assert len(cells) == len(CALLERS), line
        parsed[f"{method} {path}"] = [int(cell) for cell in cells]
    return parsed


MATRIX = _parsed(MATRIX_TABLE)


def rows() -> list[Row]:
    table = []
    for label, statuses in MATRIX.items():
        method, path = label.split(" ", 1)
        table.append(
            Row(
                method,
                path,
                dict(zip(CALLERS, statuses, strict=True)),
                BODIES.get(label),
                FILES.get(label),
            )
        )
    return table


@pytest.fixture
def matrix_settings(settings, monkeypatch):
    """No rate limit or read cache in the way; no chain RPC; the Discord application and
    the webhooks' secrets set (so a request without their signature is refused as
    unauthenticated, not as unconfigured); the OpenAPI document built once (its view
    still authenticates every caller)."""
    settings.RATE_LIMITS = {name: 10**9 for name in settings.RATE_LIMITS}
    settings.READ_CACHE_ENABLED = False
    settings.CHAIN_RPC_URLS = {}  # no chain to read, whatever the environment sets
    settings.DISCORD_CLIENT_ID, settings.DISCORD_CLIENT_SECRET = "1234567890", "matrix-secret"
    settings.ALCHEMY_WEBHOOK_SIGNING_KEY = "matrix-alchemy-signing-key"
    settings.HELIUS_WEBHOOK_AUTH = "matrix-helius-auth"
    settings.GITHUB_WEBHOOK_SECRET = "matrix-github-secret"
    settings.DISCORD_RELAY_PUBLIC_KEY = relay_public_key_of(
        base64.b64encode(b"matrix-discord-relay-seed-32-byt").decode()
    )
    # Each refusal's warning line (thousands) costs more than its request here.
    monkeypatch.setattr(logging.getLogger("django.request"), "disabled", True)
    monkeypatch.setattr(SchemaGenerator, "get_schema", _schema_once(SchemaGenerator.get_schema))


def _schema_once(get_schema: Callable) -> Callable:
    built: dict[bool, dict] = {}

    def once(self, request=None, public=False):
        if public not in built:
            built[public] = get_schema(self, request=request, public=public)
        return built[public]

    return once


@pytest.mark.django_db
@pytest.mark.parametrize("row", rows(), ids=lambda row: row.label)
def test_matrix_row(world, matrix_settings, row, request):
    if row.label == "POST /api/v1/listings/{listing}/stripe":
        request.getfixturevalue("stripe_server")  # the key is checked with Stripe's API
    before = database_state() if row.method != "GET" else None
    answered = {caller: call(world, row, caller, before) for caller in CALLERS}
    assert answered == row.expect, "answered: " + " ".join(str(answered[c]) for c in CALLERS)


class _AnyId(dict):
    def __missing__(self, name: str) -> str:
        return "00000000-0000-4000-8000-000000000000"


def _example_path(path: str) -> str:
    """The path with an id in each of its names (a token id for the SBT's), to resolve."""
    return path.split("?")[0].format_map(_AnyId(sbt="eip155:1/0xabc/7"))


def test_every_route_has_a_row():
    """Every route of /api/v1/ and of the pages (the admin's aside: Django's own, staff
    only) is in the matrix, and every row resolves to a route."""
    routes = {route for route, _ in url_patterns_walk() if not route.startswith("admin/")}
    covered = {resolve(_example_path(row.path)).route for row in rows()}
    missing = routes - covered
    assert not missing, f"routes without a row in MATRIX: {sorted(missing)}"


# --- the README's copy ------------------------------------------------------------------

README = Path(__file__).resolve().parents[2] / "README.md"


def markdown_table() -> str:
    """The matrix as README.md prints it: `python manage.py shell -c "from
    fabrknt.tests.test_authorization_matrix import markdown_table as t; print(t())"`."""
    lines = [
        "| endpoint or page | " + " | ".join(CALLERS) + " |",
        "|---|" + "---|" * len(CALLERS),
    ]
    for label, statuses in MATRIX.items():
        lines.append(f"| `{label}` | " + " | ".join(map(str, statuses)) + " |")
    return "\n".join(lines) + "\n"


def test_readme_prints_the_matrix():
    assert markdown_table() in README.read_text(), (
        "README.md's authorization matrix differs from MATRIX: paste markdown_table()'s"
    )
