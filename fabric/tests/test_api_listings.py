"""FABRIC listings API: every row of API.md's listings part, with its refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from eth_account import Account

from accounts.models import Role
from accounts.tests.factories import OrganizationFactory, WalletFactory
from fabric.cache import MARKET
from fabric.models import (
    Listing,
    ListingAsset,
    ListingEvent,
    ListingStatus,
    Visibility,
)
from fabric.tests.factories import (
    BuyerAccessFactory,
    DataRoomDocumentFactory,
    ListingAssetFactory,
    ListingFactory,
    NDASignatureFactory,
    RevenueRecordFactory,
)
from fabrknt.readcache import changed
from pulse.tests.factories import TeamFactory
from trace.tests.callers import Caller, key_caller, member_caller
from trace.tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

LISTINGS = "/api/v1/listings"


@pytest.fixture
def organization():
    return OrganizationFactory(name="Seller DAO")


@pytest.fixture
def seller(organization) -> Caller:
    return member_caller(organization)


def _body(seller_organization, **overrides):
    body = {
        "organization": str(seller_organization.pk),
        "title": "Lendr — a lending protocol on Base",
        "description": "2,000 monthly users, audited.",
        "asking_price_usd": "250000.50",
        "blockchain": "eip155:8453",
        "visibility": "nda",
    }
    return {**body, **overrides}


def _buyer_with_wallet():
    wallet = WalletFactory()
    return wallet.user, wallet


def _as(user) -> Caller:
    from rest_framework_simplejwt.tokens import AccessToken

    return Caller(Client(), None, {"HTTP_AUTHORIZATION": f"Bearer {AccessToken.for_user(user)}"})


# --- POST /listings ---------------------------------------------------------------------------


def test_create_is_a_draft_linked_to_the_organizations_own_team_and_project(organization, seller):
    team = TeamFactory(organization=organization)
    project = ProjectFactory(organization=organization)
    wallet = Account.create().address
    response = seller.post(
        LISTINGS,
        _body(
            organization,
            pulse_team=team.pulse_id,
            trace_project=str(project.pk),
            seller_wallet=wallet.lower(),
            nda_text="Keep it secret.",
        ),
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    listing = Listing.objects.get()
    assert data["id"] == str(listing.pk)
    assert data["status"] == "draft"
    assert data["asking_price_usd"] == "250000.50"
    assert data["blockchain"] == "eip155:8453"
    assert data["visibility"] == "nda"
    assert data["pulse_team"] == team.pulse_id
    assert data["trace_project"] == str(project.pk)
    assert data["seller_wallet"] == wallet  # EIP-55
    assert data["nda_text"] == "Keep it secret."
    for field in ("fabrknt_score", "growth_score", "vitality_score", "revenue_verified"):
        assert data[field] is None
    assert data["published_at"] is None and data["sold_at"] is None
    assert data["access"] == {
        "is_seller": True,
        "can_edit": True,
        "nda_signed": False,
        "sees_assets": True,
        "sees_gated": True,
    }
    assert data["assets"] == []
    assert data["revenue"] == {"revenue_verified": None, "records": []}
    assert data["data_room"] == {"documents": []}
    assert listing.created_by == seller.user
    assert listing.asking_price_usd == Decimal("250000.50")


def test_a_write_key_creates_a_listing(organization):
    response = key_caller(organization, "write").post(LISTINGS, _body(organization))
    assert response.status_code == 201
    assert Listing.objects.get().organization == organization


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"blockchain": "eip155:999999"}, "blockchain"),
        ({"blockchain": "not a chain"}, "blockchain"),
        ({"asking_price_usd": "-1.00"}, "asking_price_usd"),
        ({"asking_price_usd": "10.001"}, "asking_price_usd"),
        ({"asking_price_usd": "NaN"}, "asking_price_usd"),
        ({"asking_price_usd": "lots"}, "asking_price_usd"),
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"visibility": "secret"}, "visibility"),
        ({"seller_wallet": "0x1234"}, "seller_wallet"),
        ({"seller_wallet": "So11111111111111111111111111111111111111112"}, "seller_wallet"),
        ({"pulse_team": "nosuchteam"}, "pulse_team"),
        ({"trace_project": "not-a-uuid"}, "trace_project"),
        ({"organization": "nope"}, "organization"),
    ],
)
def test_invalid_input_is_400_and_stores_nothing(organization, seller, overrides, field):
    response = seller.post(LISTINGS, _body(organization, **overrides))
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert Listing.objects.count() == 0


def test_another_organizations_team_or_project_is_400_without_revealing_it(organization, seller):
    other = OrganizationFactory(name="Rival Labs")
    team = TeamFactory(organization=other, team_name="Rival core")
    project = ProjectFactory(organization=other, name="Rival app")
    for overrides, field in (
        ({"pulse_team": team.pulse_id}, "pulse_team"),
        ({"trace_project": str(project.pk)}, "trace_project"),
    ):
        response = seller.post(LISTINGS, _body(organization, **overrides))
        assert response.status_code == 400
        body = response.json()
        assert body[field] == [
            "No PULSE team with this pulse_id in the organization."
            if field == "pulse_team"
            else "No TRACE project with this id in the organization."
        ]
        assert "Rival" not in response.content.decode()
    assert Listing.objects.count() == 0


def test_create_refusals_by_who_calls(organization):
    other = OrganizationFactory()
    assert member_caller(other).post(LISTINGS, _body(organization)).status_code == 404
    assert (
        member_caller(organization, Role.VIEWER).post(LISTINGS, _body(organization)).status_code
        == 403
    )
    assert key_caller(organization, "read").post(LISTINGS, _body(organization)).status_code == 403
    assert (
        Client().post(LISTINGS, _body(organization), content_type="application/json").status_code
        == 401
    )
    assert Listing.objects.count() == 0


# --- POST /listings/{id}/publish ------------------------------------------------------------


def _publish(caller, listing):
    return caller.post(f"{LISTINGS}/{listing.pk}/publish", None)


def test_publish_puts_a_draft_on_the_market_once(organization, seller):
    listing = ListingFactory(organization=organization, status="draft", published_at=None)
    response = _publish(seller, listing)
    assert response.status_code == 200
    assert response.json()["status"] == "published"
    listing.refresh_from_db()
    assert listing.published_at is not None
    assert response.json()["published_at"] is not None
    event = ListingEvent.objects.get(listing=listing)
    assert (event.from_status, event.to_status, event.actor) == ("draft", "published", seller.user)
    # Again: the same answer, nothing recorded twice.
    again = _publish(seller, listing)
    assert again.status_code == 200 and again.json()["status"] == "published"
    assert ListingEvent.objects.filter(listing=listing).count() == 1


def test_publish_waits_for_review_when_the_operators_require_it(organization, seller, settings):
    settings.FABRIC_REQUIRE_REVIEW = True
    listing = ListingFactory(organization=organization, status="draft", published_at=None)
    response = _publish(seller, listing)
    assert response.status_code == 200
    assert response.json()["status"] == "pending_review"
    assert response.json()["published_at"] is None


def test_publish_refusals(organization, seller):
    listing = ListingFactory(organization=organization, status="draft", published_at=None)
    assert _publish(member_caller(OrganizationFactory()), listing).status_code == 404
    assert _publish(member_caller(organization, Role.VIEWER), listing).status_code == 403
    withdrawn = ListingFactory(organization=organization, status="withdrawn")
    assert _publish(seller, withdrawn).status_code == 409
    listing.refresh_from_db()
    assert listing.status == "draft"
    assert not ListingEvent.objects.exists()


# --- GET /listings --------------------------------------------------------------------------


def test_anyone_lists_published_public_and_nda_listings(organization):
    public = ListingFactory(organization=organization, visibility="public")
    nda = ListingFactory(organization=organization, visibility="nda")
    under_offer = ListingFactory(organization=organization, status="under_offer")
    ListingFactory(organization=organization, visibility="private")
    ListingFactory(organization=organization, status="draft", published_at=None)
    ListingFactory(organization=organization, status="withdrawn")
    ListingFactory(organization=organization, status="pending_review")
    ListingFactory(organization=organization, status="sold")
    deleted = OrganizationFactory(deleted_at=timezone.now())
    ListingFactory(organization=deleted)
    response = Client().get(LISTINGS)
    assert response.status_code == 200
    assert Client().head(LISTINGS).status_code == 200
    data = response.json()
    assert set(data) == {"count", "next", "previous", "results"}
    assert data["count"] == 3
    assert {item["id"] for item in data["results"]} == {
        str(public.pk),
        str(nda.pk),
        str(under_offer.pk),
    }
    item = next(item for item in data["results"] if item["id"] == str(nda.pk))
    assert "assets" not in item and "revenue" not in item
    assert item["asking_price_usd"] == "250000.00"


def test_featured_first_then_newest(organization):
    now = timezone.now()
    old = ListingFactory(organization=organization, published_at=now - timezone.timedelta(days=3))
    new = ListingFactory(organization=organization, published_at=now)
    featured = ListingFactory(
        organization=organization, featured=True, published_at=now - timezone.timedelta(days=9)
    )
    ids = [item["id"] for item in Client().get(LISTINGS).json()["results"]]
    assert ids == [str(featured.pk), str(new.pk), str(old.pk)]


def test_filters(organization):
    cheap = ListingFactory(
        organization=organization, asking_price_usd=Decimal("1000.00"), fabrknt_score=40
    )
    dear = ListingFactory(
        organization=organization, asking_price_usd=Decimal("90000.00"), fabrknt_score=85
    )
    solana = ListingFactory(
        organization=organization, blockchain="solana:mainnet", fabrknt_score=None
    )

    def ids(query):
        response = Client().get(LISTINGS, query)
        assert response.status_code == 200, response.json()
        return {item["id"] for item in response.json()["results"]}

    assert ids({"blockchain": "solana:mainnet"}) == {str(solana.pk)}
    assert ids({"min_price": "5000"}) == {str(dear.pk), str(solana.pk)}
    assert ids({"max_price": "1000.00"}) == {str(cheap.pk)}
    assert ids({"min_score": "50"}) == {str(dear.pk)}
    assert ids({"min_score": "40", "max_price": "2000"}) == {str(cheap.pk)}


@pytest.mark.parametrize(
    "query",
    [
        {"blockchain": "nochain"},
        {"blockchain": "eip155:424242"},
        {"min_price": "-5"},
        {"max_price": "cheap"},
        {"min_score": "101"},
        {"min_score": "abc"},
        {"min_price": "1.234"},
    ],
)
def test_invalid_filters_are_400(query):
    response = Client().get(LISTINGS, query)
    assert response.status_code == 400
    assert set(query) <= set(response.json())


def test_the_list_reads_in_a_fixed_number_of_queries(organization):
    ListingFactory.create_batch(3, organization=organization)
    client = Client()
    client.get(LISTINGS)  # the first request of a process reads what later ones cache
    changed(MARKET)  # measure a read of the database, as the first after a write
    with CaptureQueriesContext(connection) as three:
        assert client.get(LISTINGS).status_code == 200
    ListingFactory.create_batch(5, organization=organization)
    with CaptureQueriesContext(connection) as eight:
        assert client.get(LISTINGS).json()["count"] == 8
    assert len(eight) == len(three)


# --- GET /listings/{id} -----------------------------------------------------------------------


def _gated_rows(listing):
    asset = ListingAssetFactory(listing=listing, asset_type="domain", asset_identifier="lendr.xyz")
    record = RevenueRecordFactory(listing=listing, revenue_usd=Decimal("3000.00"))
    document = DataRoomDocumentFactory(listing=listing, title="P&L 2026", size=2048)
    return asset, record, document


def _detail(client_or_caller, listing):
    return client_or_caller.get(f"{LISTINGS}/{listing.pk}")


def test_a_public_listing_shows_its_assets_to_anyone_and_gates_the_rest(organization):
    listing = ListingFactory(organization=organization, visibility="public", fabrknt_score=72.5)
    asset, _, _ = _gated_rows(listing)
    response = _detail(Client(), listing)
    assert response.status_code == 200
    data = response.json()
    assert data["title"] == listing.title
    assert data["fabrknt_score"] == 72.5
    assert [a["id"] for a in data["assets"]] == [str(asset.pk)]
    assert "revenue" not in data and "data_room" not in data
    assert "seller_wallet" not in data and "nda_text" not in data
    assert data["access"] == {
        "is_seller": False,
        "can_edit": False,
        "nda_signed": False,
        "sees_assets": True,
        "sees_gated": False,
    }


def test_an_nda_listing_shows_the_teaser_until_the_nda_then_everything(organization):
    listing = ListingFactory(
        organization=organization, visibility="nda", revenue_verified=Decimal("3000.00")
    )
    asset, record, document = _gated_rows(listing)
    buyer, wallet = _buyer_with_wallet()
    before = _detail(_as(buyer), listing).json()
    assert "assets" not in before and "revenue" not in before and "data_room" not in before
    assert before["revenue_verified"] == "3000.00"
    NDASignatureFactory(listing=listing, wallet=wallet)
    after = _detail(_as(buyer), listing).json()
    assert after["access"]["nda_signed"] is True
    assert [a["asset_identifier"] for a in after["assets"]] == ["lendr.xyz"]
    assert after["revenue"]["revenue_verified"] == "3000.00"
    assert after["revenue"]["records"] == [
        {
            "source": "onchain",
            "window_days": 30,
            "fees_usd": "12000.00",
            "revenue_usd": "3000.00",
            "period": {
                "start": record.period_start.isoformat().replace("+00:00", "Z"),
                "end": record.period_end.isoformat().replace("+00:00", "Z"),
            },
            "computed_at": after["revenue"]["records"][0]["computed_at"],
        }
    ]
    assert after["data_room"]["documents"] == [
        {
            "id": str(document.pk),
            "listing_id": str(listing.pk),
            "title": "P&L 2026",
            "filename": "financials.pdf",
            "size": 2048,
            "content_type": "application/pdf",
            "sha256": document.sha256,
            "created_at": after["data_room"]["documents"][0]["created_at"],
        }
    ]
    # A new NDA version needs a new signature; a revoked wallet sees the teaser again.
    Listing.objects.filter(pk=listing.pk).update(nda_version=2)
    assert "assets" not in _detail(_as(buyer), listing).json()
    Listing.objects.filter(pk=listing.pk).update(nda_version=1)
    BuyerAccessFactory(listing=listing, wallet_address=wallet.address, revoked=True)
    assert "data_room" not in _detail(_as(buyer), listing).json()


def test_private_listings_are_404_except_to_the_seller_and_invited_wallets(organization, seller):
    listing = ListingFactory(organization=organization, visibility="private")
    buyer, wallet = _buyer_with_wallet()
    assert _detail(Client(), listing).status_code == 404
    assert _detail(_as(buyer), listing).status_code == 404
    BuyerAccessFactory(listing=listing, wallet_address=wallet.address, invited=True)
    invited = _detail(_as(buyer), listing)
    assert invited.status_code == 200
    assert "assets" not in invited.json()  # an invited wallet sees what `nda` shows
    assert _detail(seller, listing).status_code == 200


def test_drafts_are_the_sellers_alone(organization, seller):
    listing = ListingFactory(organization=organization, status="draft", published_at=None)
    assert _detail(Client(), listing).status_code == 404
    assert _detail(member_caller(OrganizationFactory()), listing).status_code == 404
    viewer = _detail(member_caller(organization, Role.VIEWER), listing).json()
    assert viewer["access"]["is_seller"] is True and viewer["access"]["can_edit"] is False
    assert _detail(seller, listing).json()["status"] == "draft"


def test_unknown_ids_are_404():
    assert Client().get(f"{LISTINGS}/7d2f3c1e-0000-4000-8000-000000000000").status_code == 404
    assert Client().get(f"{LISTINGS}/not-a-uuid").status_code == 404


# --- PATCH /listings/{id} and withdraw ---------------------------------------------------------


def test_the_seller_edits_and_a_new_nda_text_is_a_new_version(organization, seller):
    listing = ListingFactory(organization=organization, status="draft", nda_text="v1 text")
    response = seller.patch(
        f"{LISTINGS}/{listing.pk}",
        {"title": "Lendr v2", "asking_price_usd": "199.99", "nda_text": "v2 text"},
    )
    assert response.status_code == 200, response.json()
    assert response.json()["title"] == "Lendr v2"
    assert response.json()["nda_version"] == 2
    listing.refresh_from_db()
    assert (listing.title, listing.asking_price_usd, listing.nda_version) == (
        "Lendr v2",
        Decimal("199.99"),
        2,
    )
    # The same text again is the same version.
    seller.patch(f"{LISTINGS}/{listing.pk}", {"nda_text": "v2 text"})
    listing.refresh_from_db()
    assert listing.nda_version == 2


def test_patch_refusals_change_nothing(organization, seller):
    listing = ListingFactory(organization=organization, title="Lendr")
    url = f"{LISTINGS}/{listing.pk}"
    assert seller.patch(url, {"blockchain": "eip155:31337000"}).status_code == 400
    assert seller.patch(url, {"asking_price_usd": "-3"}).status_code == 400
    team = TeamFactory(organization=OrganizationFactory())
    assert seller.patch(url, {"pulse_team": team.pulse_id}).status_code == 400
    assert member_caller(OrganizationFactory()).patch(url, {"title": "x"}).status_code == 404
    assert member_caller(organization, Role.VIEWER).patch(url, {"title": "x"}).status_code == 403
    Listing.objects.filter(pk=listing.pk).update(status="under_offer")
    assert seller.patch(url, {"title": "x"}).status_code == 409
    listing.refresh_from_db()
    assert (listing.title, listing.blockchain, listing.pulse_team) == ("Lendr", "eip155:8453", None)


def test_changing_the_chain_rechecks_the_seller_wallet(organization, seller):
    listing = ListingFactory(organization=organization, seller_wallet=Account.create().address)
    response = seller.patch(f"{LISTINGS}/{listing.pk}", {"blockchain": "solana:mainnet"})
    assert response.status_code == 400
    assert "seller_wallet" in response.json()
    listing.refresh_from_db()
    assert listing.blockchain == "eip155:8453"


def test_withdraw(organization, seller):
    listing = ListingFactory(organization=organization)
    url = f"{LISTINGS}/{listing.pk}/withdraw"
    assert member_caller(OrganizationFactory()).post(url, None).status_code == 404
    response = seller.post(url, None)
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    assert seller.post(url, None).status_code == 200
    assert ListingEvent.objects.filter(listing=listing, to_status="withdrawn").count() == 1
    assert Client().get(LISTINGS).json()["count"] == 0
    sold = ListingFactory(organization=organization, status="sold")
    assert seller.post(f"{LISTINGS}/{sold.pk}/withdraw", None).status_code == 409


# --- POST /listings/{id}/assets ---------------------------------------------------------------


def test_add_an_asset_once(organization, seller):
    listing = ListingFactory(organization=organization, status="draft")
    address = Account.create().address
    url = f"{LISTINGS}/{listing.pk}/assets"
    body = {
        "asset_type": "contract",
        "asset_identifier": address.lower(),
        "chain": "eip155:8453",
        "metadata": {"name": "LendingPool"},
    }
    first = seller.post(url, body)
    assert first.status_code == 201, first.json()
    assert first.json()["asset_identifier"] == address
    assert first.json()["metadata"] == {"name": "LendingPool"}
    again = seller.post(url, {**body, "asset_identifier": address.upper().replace("0X", "0x")})
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert ListingAsset.objects.count() == 1
    domain = seller.post(url, {"asset_type": "domain", "asset_identifier": "lendr.xyz"})
    assert domain.status_code == 201 and domain.json()["chain"] == ""


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"asset_type": "contract", "asset_identifier": "0x" + "1" * 40}, "chain"),
        (
            {"asset_type": "token", "asset_identifier": "0x1234", "chain": "eip155:8453"},
            "asset_identifier",
        ),
        ({"asset_type": "domain", "asset_identifier": "x.xyz", "chain": "eip155:0"}, "chain"),
        ({"asset_type": "castle", "asset_identifier": "x"}, "asset_type"),
        ({"asset_type": "domain", "asset_identifier": ""}, "asset_identifier"),
        ({"asset_type": "domain", "asset_identifier": "x", "metadata": [1]}, "metadata"),
    ],
)
def test_invalid_assets_are_400_and_store_nothing(organization, seller, body, field):
    listing = ListingFactory(organization=organization)
    response = seller.post(f"{LISTINGS}/{listing.pk}/assets", body)
    assert response.status_code == 400
    assert field in response.json()
    assert ListingAsset.objects.count() == 0


def test_asset_refusals_by_who_and_status(organization, seller):
    listing = ListingFactory(organization=organization, visibility=Visibility.PUBLIC)
    body = {"asset_type": "domain", "asset_identifier": "lendr.xyz"}
    url = f"{LISTINGS}/{listing.pk}/assets"
    assert member_caller(OrganizationFactory()).post(url, body).status_code == 404
    assert member_caller(organization, Role.VIEWER).post(url, body).status_code == 403
    assert Client().post(url, body, content_type="application/json").status_code == 401
    sold = ListingFactory(organization=organization, status=ListingStatus.SOLD)
    assert seller.post(f"{LISTINGS}/{sold.pk}/assets", body).status_code == 409
    assert ListingAsset.objects.count() == 0
