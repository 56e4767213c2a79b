"""fabric.selectors: every visibility rule of API.md, with real NDA signature rows,
wallets, invitations and revocations."""

from __future__ import annotations

import pytest
from django.utils import timezone

from accounts.models import Role
from accounts.selectors import caller_access
from accounts.services.api_keys import api_key_issue
from accounts.tests.factories import MembershipFactory, OrganizationFactory, WalletFactory
from fabric.models import Listing
from fabric.selectors import (
    DEFAULT_NDA_TEXT,
    gated_listing,
    listing_view,
    market_listings,
    market_search,
    nda_text,
    nda_version_hash,
    seller_listing,
    signed_wallets,
)
from fabric.tests.factories import BuyerAccessFactory, ListingFactory, NDASignatureFactory
from fabrknt.api.errors import NotFound, PermissionDenied

pytestmark = pytest.mark.django_db

ANONYMOUS = caller_access(user=None)


def _member(listing, role=Role.MEMBER):
    return caller_access(user=MembershipFactory(organization=listing.organization, role=role).user)


def _key(listing, *scopes):
    from accounts.models import ApiKey

    issued = api_key_issue(organization=listing.organization, name="k", scopes=list(scopes))
    return caller_access(api_key=ApiKey.objects.get(pk=issued.api_key.pk))


def _buyer():
    wallet = WalletFactory()
    return wallet, caller_access(user=wallet.user)


def _sign(listing, wallet, **kwargs):
    return NDASignatureFactory(listing=listing, wallet=wallet, **kwargs)


def _view(listing, access):
    return listing_view(listing_id=listing.pk, access=access)


# --- the seller ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["draft", "pending_review", "rejected", "withdrawn", "sold"])
def test_the_sellers_members_see_everything_in_any_status(status):
    listing = ListingFactory(status=status, visibility="private")
    view = _view(listing, _member(listing))
    assert (view.is_seller, view.seller_can_write, view.sees_assets, view.sees_gated) == (
        True,
        True,
        True,
        True,
    )
    viewer = _view(listing, _member(listing, Role.VIEWER))
    assert viewer.is_seller and not viewer.seller_can_write and viewer.sees_gated


def test_keys_of_the_seller():
    listing = ListingFactory(status="draft", visibility="private")
    read = _view(listing, _key(listing, "read"))
    assert read.is_seller and not read.seller_can_write
    write = _view(listing, _key(listing, "write"))
    assert write.is_seller and write.seller_can_write
    with pytest.raises(NotFound):
        _view(listing, _key(listing, "ingest"))


def test_a_deleted_organizations_listing_is_seen_by_nobody():
    listing = ListingFactory()
    access = _member(listing)
    listing.organization.deleted_at = timezone.now()
    listing.organization.save()
    for caller in (access, ANONYMOUS):
        with pytest.raises(NotFound):
            _view(listing, caller)


def test_unknown_or_malformed_ids_are_not_found():
    for listing_id in ("nope", None, "7d2f3c1e-0000-4000-8000-000000000000"):
        with pytest.raises(NotFound):
            listing_view(listing_id=listing_id, access=ANONYMOUS)


# --- others, by status ----------------------------------------------------------------------


@pytest.mark.parametrize("status", ["draft", "pending_review", "rejected", "withdrawn"])
def test_others_never_see_a_listing_off_the_market(status):
    listing = ListingFactory(status=status, visibility="public")
    wallet, buyer = _buyer()
    _sign(listing, wallet)
    for caller in (ANONYMOUS, buyer, _member(ListingFactory())):
        with pytest.raises(NotFound):
            _view(listing, caller)


@pytest.mark.parametrize("status", ["published", "under_offer", "sold"])
def test_others_see_live_and_sold_listings(status):
    listing = ListingFactory(status=status, visibility="public")
    view = _view(listing, ANONYMOUS)
    assert not view.is_seller and not view.nda_signed


# --- public, nda, private -------------------------------------------------------------------


def test_public_shows_the_assets_to_anyone_and_the_gated_part_after_the_nda():
    listing = ListingFactory(visibility="public")
    view = _view(listing, ANONYMOUS)
    assert (view.sees_assets, view.sees_gated) == (True, False)
    wallet, buyer = _buyer()
    assert not _view(listing, buyer).sees_gated
    _sign(listing, wallet)
    signed = _view(listing, buyer)
    assert (signed.nda_signed, signed.sees_assets, signed.sees_gated) == (True, True, True)


def test_nda_shows_the_teaser_until_the_nda():
    listing = ListingFactory(visibility="nda")
    wallet, buyer = _buyer()
    before = _view(listing, buyer)
    assert (before.sees_assets, before.sees_gated) == (False, False)
    with pytest.raises(PermissionDenied):
        gated_listing(listing_id=listing.pk, access=buyer)
    _sign(listing, wallet)
    after = _view(listing, buyer)
    assert (after.sees_assets, after.sees_gated) == (True, True)
    assert gated_listing(listing_id=listing.pk, access=buyer).listing == listing


def test_a_signature_of_an_old_nda_version_does_not_count():
    listing = ListingFactory(visibility="nda", nda_text="v1")
    wallet, buyer = _buyer()
    _sign(listing, wallet)
    Listing.objects.filter(pk=listing.pk).update(nda_text="v2", nda_version=2)
    listing.refresh_from_db()
    assert signed_wallets(listing, wallet.user) == []
    assert not _view(listing, buyer).sees_gated
    _sign(listing, wallet)  # the new version
    assert signed_wallets(listing, wallet.user) == [wallet.address]


def test_a_signature_counts_only_for_its_own_user_and_wallet():
    listing = ListingFactory(visibility="nda")
    wallet, buyer = _buyer()
    other_wallet, other = _buyer()
    # A row naming a wallet the signer does not hold (another user's) grants nothing.
    NDASignatureFactory(listing=listing, wallet=wallet, user=other_wallet.user)
    assert not _view(listing, buyer).nda_signed
    assert not _view(listing, other).nda_signed


def test_a_revoked_wallet_loses_the_gated_part():
    listing = ListingFactory(visibility="public")
    wallet, buyer = _buyer()
    _sign(listing, wallet)
    BuyerAccessFactory(listing=listing, wallet_address=wallet.address, revoked=True)
    view = _view(listing, buyer)
    assert (view.nda_signed, view.sees_assets, view.sees_gated) == (False, True, False)


def test_a_buyer_with_two_wallets_is_signed_by_the_one_not_revoked():
    listing = ListingFactory(visibility="nda")
    first, buyer = _buyer()
    second = WalletFactory(user=first.user)
    _sign(listing, first)
    _sign(listing, second)
    BuyerAccessFactory(listing=listing, wallet_address=first.address, revoked=True)
    assert signed_wallets(listing, first.user) == [second.address]
    assert _view(listing, buyer).sees_gated


def test_private_is_not_found_except_to_invited_wallets():
    listing = ListingFactory(visibility="private")
    wallet, buyer = _buyer()
    for caller in (ANONYMOUS, buyer):
        with pytest.raises(NotFound):
            _view(listing, caller)
    _sign(listing, wallet)  # signing alone opens nothing of a private listing
    with pytest.raises(NotFound):
        _view(listing, buyer)
    access = BuyerAccessFactory(listing=listing, wallet_address=wallet.address, invited=True)
    invited = _view(listing, buyer)
    assert invited.invited and invited.nda_signed and invited.sees_gated
    access.revoked_at = timezone.now()
    access.save()
    with pytest.raises(NotFound):
        _view(listing, buyer)


def test_an_invited_wallet_sees_what_nda_shows():
    listing = ListingFactory(visibility="private")
    wallet, buyer = _buyer()
    BuyerAccessFactory(listing=listing, wallet_address=wallet.address, invited=True)
    view = _view(listing, buyer)
    assert (view.invited, view.sees_assets, view.sees_gated) == (True, False, False)


# --- the seller's writes, the marketplace -----------------------------------------------------


def test_seller_listing():
    listing = ListingFactory(visibility="public")
    assert seller_listing(listing_id=listing.pk, access=_member(listing)) == listing
    with pytest.raises(NotFound):  # another organization, even on a public listing
        seller_listing(listing_id=listing.pk, access=_member(ListingFactory()))
    with pytest.raises(NotFound):
        seller_listing(listing_id=listing.pk, access=ANONYMOUS)
    with pytest.raises(PermissionDenied):
        seller_listing(listing_id=listing.pk, access=_member(listing, Role.VIEWER))


def test_gated_listing_is_not_found_to_those_who_cannot_see_the_listing():
    listing = ListingFactory(visibility="private")
    with pytest.raises(NotFound):
        gated_listing(listing_id=listing.pk, access=ANONYMOUS)


def test_the_marketplace_holds_live_public_and_nda_listings():
    public = ListingFactory(visibility="public")
    nda = ListingFactory(visibility="nda", status="under_offer")
    ListingFactory(visibility="private")
    for status in ("draft", "pending_review", "rejected", "withdrawn", "sold"):
        ListingFactory(status=status)
    ListingFactory(organization=OrganizationFactory(deleted_at=timezone.now()))
    assert set(market_listings()) == {public, nda}
    assert set(market_search(blockchain="solana:mainnet")) == set()


def test_the_nda_text_and_its_version_hash():
    listing = ListingFactory(nda_text="")
    assert nda_text(listing) == DEFAULT_NDA_TEXT
    first = nda_version_hash(listing)
    assert first.startswith("0x") and len(first) == 66
    listing.nda_text = "Our own terms."
    assert nda_text(listing) == "Our own terms."
    assert nda_version_hash(listing) != first
    listing.nda_version = 2
    assert nda_version_hash(listing) != first
    assert nda_version_hash(ListingFactory(nda_text="")) != first  # per listing
