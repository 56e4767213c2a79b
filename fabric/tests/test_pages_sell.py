"""The seller's pages: the create flow in steps, the listing's page, edit, withdraw,
reopen, assets; refusals store nothing; other organizations and buyers get 404."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from eth_account import Account

from accounts.models import Role
from accounts.tests.factories import MembershipFactory, OrganizationFactory, WalletFactory
from fabric.models import Listing, ListingAsset, ListingEvent
from fabric.pages.sell import more_pages
from fabric.tests.factories import ListingAssetFactory, ListingFactory, NDASignatureFactory
from pulse.tests.factories import TeamFactory
from trace.tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

SELL = "/fabric/sell/"


@pytest.fixture
def organization():
    return OrganizationFactory(name="Seller DAO")


def signed_in(organization, role=Role.MEMBER):
    membership = MembershipFactory(organization=organization, role=role)
    client = Client()
    client.force_login(membership.user)
    return client, membership.user


def _describe(**overrides):
    body = {
        "title": "Lendr",
        "description": "A lending protocol on Base.",
        "asking_price_usd": "250000.00",
        "blockchain": "eip155:8453",
        "visibility": "nda",
        "seller_wallet": "",
        "nda_text": "",
    }
    return {**body, **overrides}


def test_the_empty_state_offers_to_list_a_project(organization):
    client, _ = signed_in(organization)
    page = client.get(SELL).content.decode()
    assert "No listing yet" in page
    assert f'href="{SELL}new"' in page and "List a project" in page


def test_anonymous_visitors_are_sent_to_sign_in():
    response = Client().get(SELL)
    assert response.status_code == 302 and "/signin" in response["Location"]


def test_the_create_flow_step_by_step(organization):
    client, user = signed_in(organization)
    team = TeamFactory(organization=organization, team_name="Core devs")
    project = ProjectFactory(organization=organization, name="Lendr app")
    other = OrganizationFactory()
    TeamFactory(organization=other, team_name="Not ours")

    step1 = client.get(f"{SELL}new").content.decode()
    assert "Core devs" in step1 and "Lendr app" in step1 and "Not ours" not in step1
    assert 'aria-current="step"' in step1 and "csrfmiddlewaretoken" in step1
    response = client.post(
        f"{SELL}new",
        {
            "organization": str(organization.pk),
            "trace_project": str(project.pk),
            "pulse_team": team.pulse_id,
        },
    )
    assert response.status_code == 303
    describe_url = response["Location"]
    assert describe_url.startswith(f"{SELL}new/describe?")
    step2 = client.get(describe_url).content.decode()
    assert "Core devs" in step2 and "Lendr app" in step2
    wallet = Account.create().address
    response = client.post(describe_url, _describe(seller_wallet=wallet.lower()))
    assert response.status_code == 303
    listing = Listing.objects.get()
    assert (listing.status, listing.pulse_team, listing.trace_project) == ("draft", team, project)
    assert listing.seller_wallet == wallet and listing.created_by == user
    assert response["Location"] == f"{SELL}{listing.pk}/assets"

    address = Account.create().address
    response = client.post(
        f"{SELL}{listing.pk}/assets",
        {
            "asset_type": "contract",
            "chain": "eip155:8453",
            "asset_identifier": address.lower(),
            "label": "LendingPool",
        },
    )
    assert response.status_code == 303
    asset = ListingAsset.objects.get()
    assert (asset.asset_identifier, asset.metadata) == (address, {"label": "LendingPool"})
    assert address in client.get(f"{SELL}{listing.pk}/assets").content.decode()

    preview = client.get(f"{SELL}{listing.pk}/preview").content.decode()
    assert "Lendr" in preview and "$250,000.00" in preview
    assert address not in preview  # an NDA listing's assets are locked for buyers
    assert "1 asset, the revenue detail and the data room" in preview

    assert client.get(f"{SELL}{listing.pk}/publish").status_code == 200
    response = client.post(f"{SELL}{listing.pk}/publish")
    assert response.status_code == 303 and response["Location"] == f"{SELL}{listing.pk}/"
    listing.refresh_from_db()
    assert listing.status == "published" and listing.published_at is not None
    page = client.get(f"{SELL}{listing.pk}/").content.decode()
    assert "Published: buyers find it in the marketplace." in page
    assert f"{SELL}{listing.pk}/withdraw" in page
    listed = client.get(SELL).content.decode()
    assert "Lendr" in listed and "Seller DAO" in listed


def test_a_public_listings_preview_shows_its_assets(organization):
    client, _ = signed_in(organization)
    listing = ListingFactory(organization=organization, visibility="public", status="draft")
    ListingAssetFactory(listing=listing, asset_identifier="lendr.xyz")
    assert "lendr.xyz" in client.get(f"{SELL}{listing.pk}/preview").content.decode()


def test_publish_under_review(organization, settings):
    settings.FABRIC_REQUIRE_REVIEW = True
    client, _ = signed_in(organization)
    listing = ListingFactory(organization=organization, status="draft", published_at=None)
    client.post(f"{SELL}{listing.pk}/publish")
    listing.refresh_from_db()
    assert listing.status == "pending_review"
    page = client.get(f"{SELL}{listing.pk}/").content.decode()
    assert "Waiting for the operators" in page


def test_step_one_refuses_another_organizations_team(organization):
    client, _ = signed_in(organization)
    foreign = TeamFactory(organization=OrganizationFactory())
    response = client.post(
        f"{SELL}new", {"organization": str(organization.pk), "pulse_team": foreign.pulse_id}
    )
    assert response.status_code == 400  # not one of the choices
    assert Listing.objects.count() == 0


def test_step_two_refusals_store_nothing(organization):
    client, _ = signed_in(organization)
    url = f"{SELL}new/describe?organization={organization.pk}"
    for body in (
        _describe(asking_price_usd="-5"),
        _describe(asking_price_usd="1.234"),
        _describe(title=""),
        _describe(seller_wallet="0x12"),
        _describe(blockchain="eip155:4242"),
    ):
        assert client.post(url, body).status_code == 400
    foreign = TeamFactory(organization=OrganizationFactory())
    response = client.post(f"{url}&pulse_team={foreign.pulse_id}", _describe())
    assert response.status_code == 400
    assert "No PULSE team with this pulse_id in the organization." in response.content.decode()
    assert Listing.objects.count() == 0
    other = OrganizationFactory()
    assert client.get(f"{SELL}new/describe?organization={other.pk}").status_code == 404
    assert client.get(f"{SELL}new/describe?organization=garbage").status_code == 404
    assert client.get(f"{SELL}new/describe").status_code == 404


def test_edit_withdraw_and_reopen(organization):
    client, _ = signed_in(organization)
    listing = ListingFactory(organization=organization, title="Lendr")
    edit = client.get(f"{SELL}{listing.pk}/edit").content.decode()
    assert 'value="Lendr"' in edit
    response = client.post(
        f"{SELL}{listing.pk}/edit",
        {
            **_describe(title="Lendr v2", nda_text="Our terms"),
            "trace_project": "",
            "pulse_team": "",
        },
    )
    assert response.status_code == 303
    listing.refresh_from_db()
    assert (listing.title, listing.nda_version) == ("Lendr v2", 2)
    assert (
        client.post(f"{SELL}{listing.pk}/edit", _describe(asking_price_usd="x")).status_code == 400
    )

    assert client.post(f"{SELL}{listing.pk}/withdraw").status_code == 303
    listing.refresh_from_db()
    assert listing.status == "withdrawn"
    page = client.get(f"{SELL}{listing.pk}/").content.decode()
    assert f"{SELL}{listing.pk}/reopen" in page
    assert client.post(f"{SELL}{listing.pk}/reopen").status_code == 303
    listing.refresh_from_db()
    assert listing.status == "draft"
    assert list(ListingEvent.objects.values_list("to_status", flat=True)) == ["withdrawn", "draft"]


def test_the_rejection_note_is_shown(organization):
    client, _ = signed_in(organization)
    listing = ListingFactory(organization=organization, status="rejected", review_note="No proof.")
    page = client.get(f"{SELL}{listing.pk}/").content.decode()
    assert "No proof." in page and "Back to draft" in page


def test_remove_an_asset(organization):
    client, _ = signed_in(organization)
    asset = ListingAssetFactory(listing=ListingFactory(organization=organization))
    url = f"{SELL}{asset.listing_id}/assets/{asset.pk}/remove"
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 303
    assert ListingAsset.objects.count() == 0
    assert client.get(url).status_code == 404


def test_others_and_buyers_get_404_and_viewers_may_only_look(organization):
    listing = ListingFactory(organization=organization, visibility="public")
    ListingAssetFactory(listing=listing)
    outsider, _ = signed_in(OrganizationFactory())
    wallet = WalletFactory()
    NDASignatureFactory(listing=listing, wallet=wallet)
    buyer = Client()
    buyer.force_login(wallet.user)
    asset = listing.assets.get()
    for client in (outsider, buyer):
        for path in ("", "edit", "assets", "preview", "publish", "withdraw", "reopen"):
            assert client.get(f"{SELL}{listing.pk}/{path}").status_code == 404, path
        assert client.post(f"{SELL}{listing.pk}/withdraw").status_code == 404
        assert client.post(f"{SELL}{listing.pk}/assets/{asset.pk}/remove").status_code == 404
    viewer, _ = signed_in(organization, Role.VIEWER)
    page = viewer.get(f"{SELL}{listing.pk}/").content.decode()
    assert "Withdraw" not in page and f"{SELL}{listing.pk}/edit" not in page
    assert viewer.get(f"{SELL}{listing.pk}/assets").status_code == 200
    assert viewer.post(f"{SELL}{listing.pk}/withdraw").status_code == 403
    assert (
        viewer.post(
            f"{SELL}{listing.pk}/assets", {"asset_type": "domain", "asset_identifier": "x.xyz"}
        ).status_code
        == 403
    )
    listing.refresh_from_db()
    assert listing.status == "published" and listing.assets.count() == 1
    assert f"{SELL}new" not in viewer.get(SELL).content.decode()


def test_the_listing_page_links_to_each_area_of_the_listing():
    listing = ListingFactory.build()
    urls = [url for url, _ in more_pages(listing)]
    assert f"/fabric/listings/{listing.pk}/media/" in urls
    assert f"/fabric/listings/{listing.pk}/dataroom/manage/" in urls
    assert f"/fabric/listings/{listing.pk}/offers/" in urls


def test_listings_across_the_sellers_organizations(organization):
    client, user = signed_in(organization)
    second = OrganizationFactory(name="Second DAO")
    MembershipFactory(organization=second, user=user)
    ListingFactory(organization=organization, title="First sale")
    ListingFactory(organization=second, title="Second sale", asking_price_usd=Decimal("5.00"))
    ListingFactory(title="Someone else's")
    page = client.get(SELL).content.decode()
    assert "First sale" in page and "Second sale" in page and "Someone else" not in page
