"""fabric.services.listings: guarded status moves with their history, and the values the
seller's writes accept."""

from __future__ import annotations

from decimal import Decimal

import pytest
from eth_account import Account

from accounts.tests.factories import OrganizationFactory
from fabric.models import ListingEvent, ListingStatus
from fabric.services.listings import (
    ALLOWED,
    listing_approve,
    listing_asset_add,
    listing_asset_remove,
    listing_create,
    listing_price_check,
    listing_reject,
    listing_reopen,
    listing_update,
    transition,
)
from fabric.tests.factories import ListingFactory
from fabrknt.api.errors import Conflict, InvalidInput
from pulse.tests.factories import TeamFactory

pytestmark = pytest.mark.django_db
S = ListingStatus


@pytest.mark.parametrize("start", list(S.values))
def test_transition_allows_exactly_the_listed_moves(start):
    for target in S.values:
        listing = ListingFactory(status=start, published_at=None)
        if target in ALLOWED[start]:
            transition(listing, target)
            listing.refresh_from_db()
            assert listing.status == target
            assert ListingEvent.objects.filter(listing=listing, to_status=target).count() == 1
        else:
            with pytest.raises(Conflict):
                transition(listing, target)
            listing.refresh_from_db()
            assert listing.status == start
            assert not ListingEvent.objects.filter(listing=listing).exists()


def test_transition_stamps_published_once_and_sold():
    listing = ListingFactory(status="draft", published_at=None)
    transition(listing, S.PUBLISHED)
    first = listing.published_at
    assert first is not None
    transition(listing, S.UNDER_OFFER)
    transition(listing, S.PUBLISHED)
    assert listing.published_at == first
    transition(listing, S.SOLD)
    listing.refresh_from_db()
    assert listing.sold_at is not None and listing.published_at == first


def test_approve_and_reject_only_what_waits_for_review():
    waiting = ListingFactory(status="pending_review", published_at=None)
    with pytest.raises(InvalidInput):
        listing_reject(listing=waiting, note="  ")
    listing_reject(listing=waiting, note="Revenue has no evidence")
    waiting.refresh_from_db()
    assert (waiting.status, waiting.review_note) == ("rejected", "Revenue has no evidence")
    with pytest.raises(Conflict):
        listing_approve(listing=waiting)
    listing_reopen(listing=waiting)
    assert waiting.status == "draft"


def test_prices():
    assert listing_price_check("0") == Decimal("0.00")
    assert listing_price_check("1250.5") == Decimal("1250.50")
    for bad in ("-0.01", "1.001", "Infinity", "1e20", "", "abc"):
        with pytest.raises(InvalidInput):
            listing_price_check(bad)


def test_create_on_solana_takes_a_base58_seller_wallet():
    wallet = "So11111111111111111111111111111111111111112"
    listing = listing_create(
        organization=OrganizationFactory(),
        title=" Solend ",
        asking_price_usd="10",
        blockchain="solana:mainnet",
        visibility="public",
        seller_wallet=wallet,
    )
    assert (listing.title, listing.seller_wallet, listing.status) == ("Solend", wallet, "draft")


def test_update_refuses_unknown_fields_and_sold_listings():
    listing = ListingFactory()
    with pytest.raises(InvalidInput):
        listing_update(listing=listing, status="sold")
    sold = ListingFactory(status="sold")
    with pytest.raises(Conflict):
        listing_update(listing=sold, title="x")


def test_assets_by_chain_identity():
    listing = ListingFactory()
    address = Account.create().address
    first = listing_asset_add(
        listing=listing, asset_type="treasury", asset_identifier=address.lower(), chain="eip155:1"
    )
    same = listing_asset_add(
        listing=listing, asset_type="treasury", asset_identifier=address, chain="eip155:1"
    )
    other_chain = listing_asset_add(
        listing=listing, asset_type="treasury", asset_identifier=address, chain="eip155:8453"
    )
    assert first.created and not same.created and other_chain.created
    assert same.asset == first.asset
    assert listing_asset_remove(listing=listing, asset_id=first.asset.pk) == 1
    assert listing_asset_remove(listing=listing, asset_id=first.asset.pk) == 0
    assert listing.assets.count() == 1


def test_linking_a_project_or_team_recomputes_the_score_after_the_commit(
    django_capture_on_commit_callbacks,
):
    organization = OrganizationFactory()
    with django_capture_on_commit_callbacks(execute=True):
        listing = listing_create(
            organization=organization,
            title="Scored on creation",
            asking_price_usd="1000.00",
            blockchain="eip155:8453",
            visibility="public",
        )
    listing.refresh_from_db()
    assert listing.score_computed_at is not None
    first = listing.score_computed_at
    team = TeamFactory(organization=organization)

    with django_capture_on_commit_callbacks(execute=True) as renamed:
        listing_update(listing=listing, title="A new title")
    with django_capture_on_commit_callbacks(execute=True) as relinked:
        listing_update(listing=listing, pulse_team=team.pulse_id)

    listing.refresh_from_db()
    scored = [  # the read cache's own commit bumps (fabrknt.readcache) left out
        [c for c in callbacks if c.__module__ != "fabrknt.readcache"]
        for callbacks in (renamed, relinked)
    ]
    assert [len(queued) for queued in scored] == [0, 1]
    assert listing.score_computed_at > first
    assert listing.score_components["components"]["vitality"]["reason"]  # linked, no score yet
