"""FABRIC's cached reads (fabric/cache.py): the marketplace list, a listing's detail and
its suite summary. For each: read, write through the real API or task, read again shows
the write; the second read is the cache's; who sees what is still decided per request."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from accounts.tests.clients import JsonClient, as_user
from accounts.tests.factories import MembershipFactory, OrganizationFactory, WalletFactory
from accounts.tests.signing import new_evm_account
from fabric.models import Visibility
from fabric.tasks import recompute_listing_scores
from fabric.tests.factories import (
    DataRoomDocumentFactory,
    ListingFactory,
    NDASignatureFactory,
    RevenueRecordFactory,
)

pytestmark = pytest.mark.django_db

LISTINGS = "/api/v1/listings"


def _detail(listing) -> str:
    return f"{LISTINGS}/{listing.pk}"


def _summary(listing) -> str:
    return f"/api/v1/suite/summary/{listing.pk}"


def _seller(listing):
    return as_user(MembershipFactory(organization=listing.organization, role=Role.MEMBER).user)


def _queries(client, path: str) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, response.content
    return len(queries), response.json()


def test_the_market_list_is_cached_until_a_listing_changes():
    listing = ListingFactory(title="Lendr", visibility=Visibility.PUBLIC)
    anyone = JsonClient()
    cold, first = _queries(anyone, LISTINGS)
    warm, again = _queries(anyone, LISTINGS)
    assert [row["title"] for row in first["results"]] == ["Lendr"]
    assert again == first
    assert cold >= 2 and warm == 0  # count and page (at least), then nothing

    response = _seller(listing).patch(_detail(listing), {"title": "Lendr v2"})
    assert response.status_code == 200, response.content

    _, after = _queries(anyone, LISTINGS)
    assert [row["title"] for row in after["results"]] == ["Lendr v2"]


def test_each_query_string_is_its_own_entry_and_a_publish_shows_in_all():
    base = ListingFactory(blockchain="eip155:8453")
    draft = ListingFactory(
        organization=base.organization, status="draft", published_at=None, title="Fresh"
    )
    anyone = JsonClient()
    assert anyone.get(LISTINGS).json()["count"] == 1
    assert anyone.get(f"{LISTINGS}?blockchain=eip155:8453").json()["count"] == 1
    assert anyone.get(f"{LISTINGS}?blockchain=eip155:1").json()["count"] == 0
    # A bad filter is a 400 every time, never a cached answer.
    assert anyone.get(f"{LISTINGS}?blockchain=nope").status_code == 400

    published = _seller(draft).post(f"{_detail(draft)}/publish")
    assert published.status_code == 200, published.content

    assert anyone.get(LISTINGS).json()["count"] == 2
    assert anyone.get(f"{LISTINGS}?blockchain=eip155:8453").json()["count"] == 2


def test_a_deleted_organizations_listings_leave_the_cached_market():
    from django.utils import timezone

    from accounts.services.organizations import organization_delete

    listing = ListingFactory()
    anyone = JsonClient()
    assert anyone.get(LISTINGS).json()["count"] == 1
    owner = MembershipFactory(organization=listing.organization, role=Role.OWNER).user
    listing.organization.exported_at = timezone.now()
    listing.organization.save(update_fields=["exported_at"])
    organization_delete(organization=listing.organization, actor=owner)

    assert anyone.get(LISTINGS).json()["count"] == 0
    assert anyone.get(_detail(listing)).status_code == 404


def test_the_detail_is_cached_and_an_edit_or_an_asset_shows_at_once():
    listing = ListingFactory(title="Lendr", visibility=Visibility.PUBLIC)
    anyone = JsonClient()
    cold, first = _queries(anyone, _detail(listing))
    warm, again = _queries(anyone, _detail(listing))
    assert again == first
    assert warm < cold  # the access decision still reads the listing; the rest is cached
    assert first["assets"] == []

    seller = _seller(listing)
    added = seller.post(
        f"{_detail(listing)}/assets", {"asset_type": "domain", "asset_identifier": "lendr.xyz"}
    )
    assert added.status_code == 201, added.content
    assert [a["asset_identifier"] for a in anyone.get(_detail(listing)).json()["assets"]] == [
        "lendr.xyz"
    ]

    assert seller.patch(_detail(listing), {"asking_price_usd": "99.00"}).status_code == 200
    assert anyone.get(_detail(listing)).json()["asking_price_usd"] == "99.00"


def test_a_cached_detail_never_opens_the_gated_part_to_a_buyer_without_the_nda():
    listing = ListingFactory(visibility=Visibility.NDA)
    DataRoomDocumentFactory(listing=listing, title="Audit")
    account = new_evm_account()
    signer = NDASignatureFactory(listing=listing, wallet=WalletFactory(address=account.address))
    as_signer = as_user(signer.user)
    stranger = as_user(WalletFactory().user)
    other_org = as_user(MembershipFactory(organization=OrganizationFactory()).user)

    for _ in range(2):  # the second read is the cache's
        body = as_signer.get(_detail(listing)).json()
        assert [d["title"] for d in body["data_room"]["documents"]] == ["Audit"]
        for client in (stranger, other_org, JsonClient()):
            teaser = client.get(_detail(listing)).json()
            assert "data_room" not in teaser and "revenue" not in teaser
            assert teaser["access"]["nda_signed"] is False
        # Another organization cannot act as the seller, cached read or not.
        assert other_org.patch(_detail(listing), {"title": "Mine"}).status_code == 404

    # The seller revokes the signer: the next read, cached or not, shows the teaser.
    revoked = _seller(listing).post(
        f"{_detail(listing)}/access/revoke", {"wallet_address": account.address}
    )
    assert revoked.status_code == 200, revoked.content
    after = as_signer.get(_detail(listing)).json()
    assert "data_room" not in after
    assert as_signer.get(f"{_detail(listing)}/documents").status_code == 403


def test_a_private_listing_stays_404_to_strangers_after_the_seller_read_it():
    listing = ListingFactory(visibility=Visibility.PRIVATE)
    seller = _seller(listing)
    for _ in range(2):
        assert seller.get(_detail(listing)).status_code == 200
        assert seller.get(_summary(listing)).status_code == 200
    stranger = as_user(WalletFactory().user)
    for client in (stranger, JsonClient()):
        assert client.get(_detail(listing)).status_code == 404
        assert client.get(_summary(listing)).status_code == 404


def test_the_summary_is_cached_until_the_recompute_task_stores_new_scores():
    listing = ListingFactory(visibility=Visibility.PUBLIC, revenue_verified=Decimal("10000.00"))
    RevenueRecordFactory(listing=listing)
    anyone = JsonClient()
    cold, first = _queries(anyone, _summary(listing))
    warm, again = _queries(anyone, _summary(listing))
    assert again == first
    assert warm < cold
    assert (first["fabrknt_score"], first["computed_at"]) == (None, None)

    recompute_listing_scores.apply(args=[str(listing.pk)])  # the task's queryset update

    after = anyone.get(_summary(listing)).json()
    assert after["fabrknt_score"] == 12.5
    assert after["computed_at"] is not None


def test_the_summarys_revenue_detail_is_still_gated_per_caller():
    listing = ListingFactory(visibility=Visibility.NDA, revenue_verified=Decimal("10000.00"))
    RevenueRecordFactory(listing=listing)
    recompute_listing_scores.apply(args=[str(listing.pk)])
    signer = NDASignatureFactory(listing=listing, wallet=WalletFactory()).user
    for _ in range(2):
        assert as_user(signer).get(_summary(listing)).json()["revenue"]["figures"] != {}
        assert JsonClient().get(_summary(listing)).json()["revenue"]["figures"] == {}


def test_reads_go_to_the_database_while_redis_is_down(redis_server):
    listing = ListingFactory(title="Lendr", visibility=Visibility.PUBLIC)
    anyone = JsonClient()
    assert anyone.get(_detail(listing)).json()["title"] == "Lendr"
    redis_server.stop()
    listing.title = "Lendr, written during the outage"
    listing.save(update_fields=["title"])  # its bump fails too: logged, never raised

    for path in (LISTINGS, _detail(listing), _summary(listing)):
        assert anyone.get(path).status_code == 200, path
    assert anyone.get(_detail(listing)).json()["title"] == "Lendr, written during the outage"
