"""The seller's buyer access (extra endpoints beside API.md's FABRIC rows):
`GET/POST /api/v1/listings/{id}/access`, `.../access/revoke`, `.../access/restore`."""

from __future__ import annotations

import pytest

from accounts.models import Role
from accounts.selectors import caller_access
from accounts.services.api_keys import api_key_issue
from accounts.tests.clients import as_key, as_user
from accounts.tests.factories import MembershipFactory, UserFactory, WalletFactory
from accounts.tests.signing import SolanaWallet, new_evm_account
from fabric.models import BuyerAccess, Visibility
from fabric.selectors import listing_view, nda_version_hash
from fabric.tests.factories import BuyerAccessFactory, ListingFactory, NDASignatureFactory
from fabrknt.api.errors import NotFound

pytestmark = pytest.mark.django_db


def _seller(listing, role=Role.MEMBER):
    return MembershipFactory(organization=listing.organization, role=role).user


def _view(user, listing):
    return listing_view(listing_id=listing.pk, access=caller_access(user=user))


def test_inviting_a_wallet_opens_a_private_listing_to_it():
    listing = ListingFactory(visibility=Visibility.PRIVATE)
    seller = as_user(_seller(listing))
    buyer_account = new_evm_account()
    buyer = WalletFactory(address=buyer_account.address).user
    with pytest.raises(NotFound):
        _view(buyer, listing)
    url = f"/api/v1/listings/{listing.pk}/access"

    first = seller.post(url, {"wallet_address": buyer_account.address.lower()})
    again = seller.post(url, {"wallet_address": buyer_account.address})

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["wallet_address"] == buyer_account.address  # EIP-55
    assert first.json()["namespace"] == "eip155"
    assert first.json()["revoked_at"] is None
    assert again.json() == first.json()
    assert BuyerAccess.objects.count() == 1
    view = _view(buyer, listing)
    assert (view.invited, view.sees_gated) == (True, False)


def test_invitations_are_for_private_listings_only():
    listing = ListingFactory(visibility=Visibility.NDA)
    response = as_user(_seller(listing)).post(
        f"/api/v1/listings/{listing.pk}/access", {"wallet_address": new_evm_account().address}
    )
    assert response.status_code == 400
    assert BuyerAccess.objects.count() == 0


@pytest.mark.parametrize("wallet", ["", "0x123", "hello", "0x" + "g" * 40, None, 5])
def test_bad_wallets_are_400_and_store_nothing(wallet):
    listing = ListingFactory(visibility=Visibility.PRIVATE)
    seller = as_user(_seller(listing))
    for path in ("access", "access/revoke", "access/restore"):
        response = seller.post(
            f"/api/v1/listings/{listing.pk}/{path}", {"wallet_address": wallet}, format="json"
        )
        assert response.status_code == 400, path
    assert BuyerAccess.objects.count() == 0


def test_revoking_a_signer_takes_the_gated_part_away_and_restoring_gives_it_back():
    listing = ListingFactory()
    seller = as_user(_seller(listing))
    account = new_evm_account()
    buyer = NDASignatureFactory(listing=listing, wallet=WalletFactory(address=account.address)).user
    assert _view(buyer, listing).sees_gated is True
    revoke = f"/api/v1/listings/{listing.pk}/access/revoke"

    first = seller.post(revoke, {"wallet_address": account.address})
    again = seller.post(revoke, {"wallet_address": account.address})

    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json()["revoked_at"] is not None
    assert again.json() == first.json()
    assert _view(buyer, listing).sees_gated is False
    restored = seller.post(
        f"/api/v1/listings/{listing.pk}/access/restore", {"wallet_address": account.address}
    )
    assert (restored.status_code, restored.json()["revoked_at"]) == (200, None)
    assert _view(buyer, listing).sees_gated is True


def test_restoring_a_wallet_never_revoked_nor_invited_is_404():
    listing = ListingFactory()
    response = as_user(_seller(listing)).post(
        f"/api/v1/listings/{listing.pk}/access/restore",
        {"wallet_address": new_evm_account().address},
    )
    assert response.status_code == 404
    assert BuyerAccess.objects.count() == 0


def test_a_revoked_invitee_no_longer_sees_the_private_listing():
    listing = ListingFactory(visibility=Visibility.PRIVATE)
    seller = as_user(_seller(listing))
    solana = SolanaWallet()
    buyer = WalletFactory(namespace="solana", chain="solana:mainnet", address=solana.address).user
    seller.post(f"/api/v1/listings/{listing.pk}/access", {"wallet_address": solana.address})
    assert _view(buyer, listing).invited is True

    seller.post(f"/api/v1/listings/{listing.pk}/access/revoke", {"wallet_address": solana.address})

    with pytest.raises(NotFound):
        _view(buyer, listing)
    # Inviting again reinstates it.
    response = seller.post(
        f"/api/v1/listings/{listing.pk}/access", {"wallet_address": solana.address}
    )
    assert (response.status_code, response.json()["revoked_at"]) == (201, None)
    assert _view(buyer, listing).invited is True


def test_the_seller_lists_signers_invited_and_revoked_wallets(django_assert_max_num_queries):
    listing = ListingFactory()
    seller = _seller(listing, role=Role.VIEWER)
    signer, revoked = new_evm_account(), new_evm_account()
    NDASignatureFactory(listing=listing, wallet=WalletFactory(address=signer.address))
    BuyerAccessFactory(listing=listing, wallet_address=revoked.address, revoked=True)

    with django_assert_max_num_queries(12):
        response = as_user(seller).get(f"/api/v1/listings/{listing.pk}/access")

    assert response.status_code == 200
    body = response.json()
    assert (body["listing_id"], body["visibility"]) == (str(listing.pk), "nda")
    by_wallet = {row["wallet_address"]: row for row in body["buyers"]}
    assert set(by_wallet) == {signer.address, revoked.address}
    assert by_wallet[signer.address]["signed_current_version"] is True
    assert by_wallet[signer.address]["nda_version_hash"] == nda_version_hash(listing)
    assert by_wallet[signer.address]["revoked_at"] is None
    assert by_wallet[revoked.address]["nda_signed_at"] is None
    assert by_wallet[revoked.address]["revoked_at"] is not None


def test_others_are_404_and_viewers_403_and_nothing_changes():
    listing = ListingFactory(visibility=Visibility.PRIVATE)
    viewer = _seller(listing, role=Role.VIEWER)
    outsider = UserFactory()
    other_org_member = MembershipFactory(role=Role.OWNER).user
    wallet = {"wallet_address": new_evm_account().address}
    base = f"/api/v1/listings/{listing.pk}/access"

    for user in (outsider, other_org_member):
        client = as_user(user)
        assert client.get(base).status_code == 404
        for path in (base, f"{base}/revoke", f"{base}/restore"):
            assert client.post(path, wallet).status_code == 404
    public = ListingFactory(visibility=Visibility.PUBLIC)
    assert as_user(outsider).get(f"/api/v1/listings/{public.pk}/access").status_code == 404
    for path in (base, f"{base}/revoke"):
        assert as_user(viewer).post(path, wallet).status_code == 403
    assert BuyerAccess.objects.count() == 0


def test_an_organization_key_with_write_may_invite():
    listing = ListingFactory(visibility=Visibility.PRIVATE)
    key = api_key_issue(organization=listing.organization, name="k", scopes=["read", "write"])
    response = as_key(key.key).post(
        f"/api/v1/listings/{listing.pk}/access", {"wallet_address": new_evm_account().address}
    )
    assert response.status_code == 201
    assert BuyerAccess.objects.get().invited_by is None
