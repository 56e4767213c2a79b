"""`GET /api/v1/suite/summary/{listing_id}`: visible exactly as the listing is."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.models import Role
from accounts.tests.clients import JsonClient, as_user
from accounts.tests.factories import MembershipFactory, UserFactory, WalletFactory
from fabric.models import ListingStatus, Visibility
from fabric.services.suite import listing_scores_compute
from fabric.tests.factories import (
    BuyerAccessFactory,
    ListingFactory,
    NDASignatureFactory,
    RevenueRecordFactory,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def url(listing_id: object) -> str:
    return f"/api/v1/suite/summary/{listing_id}"


def _scored(**kwargs):
    listing = ListingFactory(revenue_verified=Decimal("10000.00"), **kwargs)
    record = RevenueRecordFactory(listing=listing)
    return listing_scores_compute(listing_id=listing.pk), record


def test_anyone_reads_a_public_listings_summary():
    listing, record = _scored(visibility=Visibility.PUBLIC)

    response = JsonClient().get(url(listing.pk))

    assert response.status_code == 200
    body = response.json()
    assert body["listing_id"] == str(listing.pk)
    assert body["fabrknt_score"] == 12.5  # revenue alone: 0.25 × 50
    assert (body["growth_score"], body["vitality_score"]) == (None, None)
    assert body["revenue_verified"] == "10000.00"
    assert body["coverage"] == 0.25
    assert body["trace"]["status"] == "not_available"
    assert body["trace"]["reason"] == "No TRACE project is linked to this listing."
    assert body["pulse"]["available"] is False
    # Before the NDA: the records are named, their amounts are the gated revenue detail.
    assert body["revenue"]["evidence"]["revenue_records"] == [
        {"id": str(record.pk), "source": "onchain", "window_days": 30}
    ]
    assert body["revenue"]["figures"] == {}
    assert body["computed_at"] is not None
    assert set(body) >= {
        "listing_id",
        "fabrknt_score",
        "growth_score",
        "vitality_score",
        "revenue_verified",
        "trace",
        "pulse",
        "computed_at",
    }


def test_an_nda_listings_summary_is_public_too():
    listing, _ = _scored(visibility=Visibility.NDA)

    assert JsonClient().get(url(listing.pk)).status_code == 200


def test_a_private_listing_is_404_to_strangers_and_seen_by_members_and_invited_wallets():
    listing, _ = _scored(visibility=Visibility.PRIVATE)
    stranger = UserFactory()
    WalletFactory(user=stranger)
    viewer = MembershipFactory(organization=listing.organization, role=Role.VIEWER).user
    invited = WalletFactory()
    BuyerAccessFactory(listing=listing, wallet_address=invited.address, invited=True)

    assert JsonClient().get(url(listing.pk)).status_code == 404
    assert as_user(stranger).get(url(listing.pk)).status_code == 404
    seen = as_user(viewer).get(url(listing.pk)).json()
    assert seen["fabrknt_score"] == 12.5
    # The seller's members see the revenue detail.
    assert seen["revenue"]["figures"]["revenue_verified_30d_usd"] == "10000.00"
    assert seen["revenue"]["evidence"]["revenue_records"][0]["revenue_usd"] == "10000.00"
    assert as_user(invited.user).get(url(listing.pk)).status_code == 200


def test_a_draft_is_404_except_to_its_members():
    listing, _ = _scored(status=ListingStatus.DRAFT, published_at=None)
    member = MembershipFactory(organization=listing.organization).user
    outsider = MembershipFactory(role=Role.OWNER).user

    assert JsonClient().get(url(listing.pk)).status_code == 404
    assert as_user(outsider).get(url(listing.pk)).status_code == 404
    assert as_user(member).get(url(listing.pk)).status_code == 200


@pytest.mark.parametrize("listing_id", ["nope", "00000000-0000-0000-0000-000000000000", "%00"])
def test_unknown_or_malformed_ids_are_404(listing_id):
    response = JsonClient().get(url(listing_id))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_summary_before_any_computation_is_not_computed():
    listing = ListingFactory()

    body = JsonClient().get(url(listing.pk)).json()

    assert body["fabrknt_score"] is None
    assert body["trace"]["status"] == body["pulse"]["status"] == "not_computed"
    assert body["computed_at"] is None


def test_a_bad_token_is_401():
    listing, _ = _scored()
    client = JsonClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    assert client.get(url(listing.pk)).status_code == 401


def test_an_nda_signer_sees_the_revenue_detail():
    listing, record = _scored(visibility=Visibility.NDA)
    wallet = WalletFactory()
    NDASignatureFactory(listing=listing, wallet=wallet)

    body = as_user(wallet.user).get(url(listing.pk)).json()

    assert body["revenue"]["evidence"]["revenue_records"][0]["revenue_usd"] == "10000.00"
    assert body["revenue"]["figures"]["fees_30d_usd"] == "12000.00"
