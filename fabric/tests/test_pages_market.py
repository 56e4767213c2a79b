"""The marketplace pages: /fabric/ (grid and filters), a listing's page as each kind of
visitor sees it, and the seller's buyer-access page."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from accounts.models import Role
from accounts.tests.factories import MembershipFactory, WalletFactory
from accounts.tests.signing import new_evm_account
from fabric.models import BuyerAccess, Visibility
from fabric.tests.factories import (
    BuyerAccessFactory,
    DataRoomDocumentFactory,
    ListingFactory,
    NDASignatureFactory,
)

pytestmark = pytest.mark.django_db


def _html(response) -> str:
    return response.content.decode()


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_the_grid_shows_market_listings_with_their_badges(django_assert_max_num_queries):
    scored = ListingFactory(
        title="Scored", fabrknt_score=Decimal("81.40"), revenue_verified=Decimal("1200.00")
    )
    ListingFactory(title="Fresh", status="under_offer")
    ListingFactory(title="Draft", status="draft")
    ListingFactory(title="Hidden", visibility=Visibility.PRIVATE)

    with django_assert_max_num_queries(6):
        response = _client().get("/fabric/")

    html = _html(response)
    assert response.status_code == 200
    assert "Scored" in html and "Fresh" in html
    assert "Draft" not in html and "Hidden" not in html
    assert f'href="/fabric/listings/{scored.pk}/"' in html
    assert "Fabrknt score 81" in html
    assert html.count("not scored yet") == 1
    assert html.count("Revenue verified") == 1
    assert "Under offer" in html
    assert "$250,000" in html and "Base" in html


def test_filters_narrow_the_grid_and_bad_ones_are_shown_not_fatal():
    ListingFactory(title="Cheap Base", asking_price_usd=Decimal("1000"), fabrknt_score=50)
    ListingFactory(title="Dear Base", asking_price_usd=Decimal("900000"), fabrknt_score=90)
    ListingFactory(title="On Ethereum", blockchain="eip155:1", fabrknt_score=95)
    ListingFactory(title="Unscored", asking_price_usd=Decimal("5000"))
    client = _client()

    def titles(**query) -> set[str]:
        html = _html(client.get("/fabric/", query))
        return {t for t in ("Cheap Base", "Dear Base", "On Ethereum", "Unscored") if t in html}

    assert titles(blockchain="eip155:1") == {"On Ethereum"}
    assert titles(min_price="2000", max_price="500000") == {"On Ethereum", "Unscored"}
    assert titles(min_score="60") == {"Dear Base", "On Ethereum"}
    assert titles(min_score="60", blockchain="eip155:8453") == {"Dear Base"}
    # An invalid filter is reported and ignored, never a 500.
    response = client.get("/fabric/", {"min_score": "abc", "blockchain": "nope", "page": "x"})
    assert response.status_code == 200
    assert "Enter a number." in _html(response)
    assert titles(min_score="abc") == {"Cheap Base", "Dear Base", "On Ethereum", "Unscored"}
    assert "No listing matches these filters" in _html(client.get("/fabric/", {"min_score": 99}))


def test_the_empty_market_offers_the_next_step():
    html = _html(_client().get("/fabric/"))
    assert "No project is for sale yet" in html
    assert 'href="/fabric/sell/"' in html


def test_a_signed_in_visitor_is_offered_to_sell_a_project():
    ListingFactory()
    sell = 'href="/fabric/sell/" data-testid="sell-a-project">Sell a project</a>'
    assert sell not in _html(_client().get("/fabric/"))
    assert sell in _html(_client(WalletFactory().user).get("/fabric/"))


def test_an_anonymous_visitor_sees_teaser_and_summary_and_is_asked_to_sign_in():
    listing = ListingFactory(
        description="We run a DEX.",
        fabrknt_score=Decimal("72.5"),
        score_components={
            "components": {
                "growth": {
                    "label": "Growth",
                    "value": 75,
                    "weight": 0.4,
                    "evidence": {"verification_url": "/verify/abc"},
                },
                "vitality": {
                    "label": "Team vitality",
                    "value": 57.1,
                    "weight": 0.35,
                    "evidence": {"team_url": "/pulse/teams/pt_x/"},
                },
                "revenue": {
                    "label": "Verified revenue",
                    "value": None,
                    "weight": 0.25,
                    "reason": "No revenue measured yet.",
                },
                "evil": {"value": 1, "evidence": {"verification_url": "javascript:alert(1)"}},
            }
        },
    )
    listing.assets.create(asset_type="contract", asset_identifier="0xSecretContract")
    DataRoomDocumentFactory(listing=listing, title="Cap table")

    response = _client().get(f"/fabric/listings/{listing.pk}/")

    html = _html(response)
    assert response.status_code == 200
    assert "We run a DEX." in html and "72.5" in html
    assert 'href="/verify/abc"' in html and "Team vitality" in html
    assert "not available: No revenue measured yet." in html
    assert "/pulse/teams/pt_x/" not in html  # the team's page is its members'
    assert "javascript:" not in html
    assert 'id="components-chart-data"' in html
    assert "0xSecretContract" not in html and "Cap table" not in html
    assert f'href="/signin?next=/fabric/listings/{listing.pk}/"' in html
    assert 'id="nda-sign-button"' not in html


def test_a_signed_in_buyer_gets_the_nda_panel_with_their_wallets():
    listing = ListingFactory(nda_text="Do not tell anyone.")
    wallet = WalletFactory()
    other = WalletFactory(user=wallet.user, address=new_evm_account().address)

    html = _html(_client(wallet.user).get(f"/fabric/listings/{listing.pk}/"))

    assert 'id="nda-sign-button"' in html
    assert "Do not tell anyone." in html
    assert f'value="{wallet.address}"' in html and f'value="{other.address}"' in html
    assert f'data-message-url="/api/v1/nda/{listing.pk}/message"' in html
    assert 'data-testid="gated"' not in html


def test_a_signer_sees_assets_data_room_and_revenue_until_revoked():
    listing = ListingFactory()
    listing.assets.create(asset_type="contract", asset_identifier="0xSecretContract")
    DataRoomDocumentFactory(listing=listing, title="Cap table")
    wallet = WalletFactory()
    NDASignatureFactory(listing=listing, wallet=wallet)
    client = _client(wallet.user)

    html = _html(client.get(f"/fabric/listings/{listing.pk}/"))
    assert "0xSecretContract" in html and "Cap table" in html
    assert (
        f'You signed this listing\'s NDA with <span class="mono wallet-address">{wallet.address}'
        in html
    )
    assert 'data-testid="nda-panel"' not in html
    # The signer's next steps: the offers, the thread with the seller, the data room.
    for path, label in [
        ("offers/", "Offers"),
        ("messages/", "Messages with the seller"),
        ("dataroom/", "Open the data room"),
    ]:
        assert f'href="/fabric/listings/{listing.pk}/{path}">{label}</a>' in html

    BuyerAccessFactory(listing=listing, wallet_address=wallet.address, revoked=True)
    html = _html(client.get(f"/fabric/listings/{listing.pk}/"))
    assert "Cap table" not in html and "0xSecretContract" not in html
    assert "The seller revoked access" in html


def test_a_changed_nda_asks_for_the_new_version():
    listing = ListingFactory()
    wallet = WalletFactory()
    NDASignatureFactory(listing=listing, wallet=wallet)
    listing.nda_text, listing.nda_version = "New", 2
    listing.save()

    html = _html(_client(wallet.user).get(f"/fabric/listings/{listing.pk}/"))

    assert "sign the new version" in html
    assert 'data-testid="gated"' not in html


def test_the_seller_sees_everything_and_a_note_with_links():
    listing = ListingFactory(status="draft", visibility=Visibility.PRIVATE)
    member = MembershipFactory(organization=listing.organization, role=Role.VIEWER).user

    html = _html(_client(member).get(f"/fabric/listings/{listing.pk}/"))

    assert "This is your listing" in html
    assert f'href="/fabric/sell/{listing.pk}/"' in html
    assert f'href="/fabric/listings/{listing.pk}/access/"' in html
    assert 'data-testid="gated"' in html
    assert f'href="/fabric/listings/{listing.pk}/messages/">Messages with buyers</a>' in html


def test_hidden_listings_are_404():
    private, draft = ListingFactory(visibility=Visibility.PRIVATE), ListingFactory(status="draft")
    client = _client(WalletFactory().user)
    for listing in (private, draft):
        assert client.get(f"/fabric/listings/{listing.pk}/").status_code == 404
        assert _client().get(f"/fabric/listings/{listing.pk}/").status_code == 404
    assert client.get("/fabric/listings/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_the_access_page_invites_revokes_and_restores():
    listing = ListingFactory(visibility=Visibility.PRIVATE)
    seller = MembershipFactory(organization=listing.organization, role=Role.MEMBER).user
    client = _client(seller)
    url = f"/fabric/listings/{listing.pk}/access/"
    address = new_evm_account().address
    assert "No wallet invited yet" in _html(client.get(url))

    invited = client.post(url, {"action": "invite", "wallet_address": address.lower()})
    assert (invited.status_code, invited["Location"]) == (303, url)
    html = _html(client.get(url))
    assert address in html and "Invited" in html
    assert f"{address} is invited." in html

    client.post(url, {"action": "revoke", "wallet_address": address})
    assert BuyerAccess.objects.get().revoked_at is not None
    assert "Revoked" in _html(client.get(url))
    client.post(url, {"action": "restore", "wallet_address": address})
    assert BuyerAccess.objects.get().revoked_at is None

    bad = client.post(url, {"action": "invite", "wallet_address": "nope"})
    assert bad.status_code == 400
    assert "Not an EVM" in _html(bad)
    assert BuyerAccess.objects.count() == 1


def test_the_access_page_is_the_sellers_only():
    listing = ListingFactory(visibility=Visibility.NDA)
    viewer = MembershipFactory(organization=listing.organization, role=Role.VIEWER).user
    url = f"/fabric/listings/{listing.pk}/access/"
    wallet = WalletFactory()
    NDASignatureFactory(listing=listing, wallet=wallet)

    assert _client(WalletFactory().user).get(url).status_code == 404
    assert _client().get(url).status_code == 302  # to sign in
    html = _html(_client(viewer).get(url))
    assert wallet.address in html and "Revoke" not in html
    forged = _client(viewer).post(url, {"action": "revoke", "wallet_address": wallet.address})
    assert forged.status_code == 403
    assert BuyerAccess.objects.count() == 0
    # An NDA listing takes no invitations: the refusal is the form's error.
    member = MembershipFactory(organization=listing.organization, role=Role.MEMBER).user
    refused = _client(member).post(url, {"action": "invite", "wallet_address": wallet.address})
    assert refused.status_code == 400
    assert "Only private listings take invitations" in _html(refused)
    assert BuyerAccess.objects.count() == 0
