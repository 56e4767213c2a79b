"""The escrow pages: opening a deal from the buyer's form (the API's service behind it),
and the deal page for its parties only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from fabric.models import EscrowEvent, EscrowStatus, EscrowTransaction, Offer, OfferStatus
from fabric.tests.escrow_world import deal_world, escrow_deployed
from trace.tests.factories import asset_price

pytestmark = pytest.mark.django_db

DEV_CHAIN = "eip155:1337"
ESCROW = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
SELLER_WALLET = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


@pytest.fixture
def world():
    asset_price("eip155:1", "native", timezone.now().date() - dt.timedelta(days=1), "2500.00")
    escrow_deployed(DEV_CHAIN, ESCROW)
    return deal_world(chain=DEV_CHAIN, seller_wallet=SELLER_WALLET)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _form(world, **overrides) -> dict:
    return {
        "price": str(world.offer.pk) if world.offer else "",
        "buyer_wallet": world.buyer_wallet,
        "chain": DEV_CHAIN,
        "asset": "native",
        "swap_type": "",
        "swap_address": "",
        "swap_token_id": "",
        **overrides,
    }


def test_the_buyer_opens_the_escrow_for_its_accepted_offer(world):
    url = reverse("fabric:escrow-new", args=[world.listing.pk]) + f"?offer={world.offer.pk}"
    page = _client(world.buyer).get(url)
    assert page.status_code == 200
    content = page.content.decode()
    assert "Accepted offer: $200,000.00" in content
    assert f'<option value="{world.offer.pk}" selected>' in content
    assert world.buyer_wallet in content

    response = _client(world.buyer).post(url, _form(world))
    escrow = EscrowTransaction.objects.get()
    assert response.status_code == 303
    assert response["Location"] == reverse("fabric:deal", args=[escrow.pk])
    assert (escrow.offer, escrow.amount_units) == (world.offer, str(80 * 10**18))

    deal = _client(world.buyer).get(response["Location"])
    assert deal.status_code == 200
    content = deal.content.decode()
    assert "Open the deal and deposit the payment" in content
    assert 'data-testid="step-create_and_deposit-buyer"' in content
    assert "80 ETH" in content
    # Again: the same pending deal, nothing stored twice.
    again = _client(world.buyer).post(url, _form(world))
    assert again["Location"] == response["Location"]
    assert EscrowTransaction.objects.count() == 1


def test_a_refused_form_stores_nothing(world):
    url = reverse("fabric:escrow-new", args=[world.listing.pk])
    response = _client(world.buyer).post(url, _form(world, asset="0x" + "12" * 20))
    assert response.status_code == 400
    assert "cannot be priced" in response.content.decode()
    response = _client(world.buyer).post(url, _form(world, swap_type="erc721", swap_address="x"))
    assert response.status_code == 400
    assert not EscrowTransaction.objects.exists()


def test_who_may_open_and_read(world):
    new_url = reverse("fabric:escrow-new", args=[world.listing.pk])
    assert _client(world.seller).get(new_url).status_code == 403
    assert _client(UserFactory()).get(new_url).status_code == 403  # no NDA signed
    _client(world.buyer).post(new_url, _form(world))
    escrow = EscrowTransaction.objects.get()
    deal_url = reverse("fabric:deal", args=[escrow.pk])
    seller_page = _client(world.seller).get(deal_url)
    assert seller_page.status_code == 200
    # The seller waits for the buyer's deposit: no button of its own.
    content = seller_page.content.decode()
    assert "data-escrow-step " not in content and "the buyer: open the deal" in content
    other_seller = deal_world(chain=DEV_CHAIN, seller_wallet=SELLER_WALLET).seller
    for stranger in (UserFactory(), other_seller):
        assert _client(stranger).get(deal_url).status_code == 404
    assert Client().get(deal_url).status_code == 302  # to sign in


def test_the_deal_page_shows_its_transactions(world):
    _client(world.buyer).post(reverse("fabric:escrow-new", args=[world.listing.pk]), _form(world))
    escrow = EscrowTransaction.objects.get()
    tx_hash = "0x" + "ef" * 32
    at = timezone.now()
    for index, (name, after) in enumerate(
        [("DealCreated", "pending"), ("PaymentDeposited", "pending"), ("Funded", "funded")]
    ):
        EscrowEvent.objects.create(
            escrow=escrow,
            event=name,
            tx_hash=tx_hash,
            log_index=index,
            block_number=12,
            block_hash="0x" + "aa" * 32,
            status_after=after,
            occurred_at=at,
        )
    EscrowTransaction.objects.filter(pk=escrow.pk).update(
        status=EscrowStatus.FUNDED, deal_id="1", funded_at=at
    )
    content = _client(world.seller).get(reverse("fabric:deal", args=[escrow.pk])).content.decode()
    assert content.count(tx_hash) == 3
    assert "Approve the release" in content
    assert 'data-testid="step-approve-seller"' in content
    assert 'data-testid="step-approve-buyer"' not in content  # the buyer's own step


def test_without_an_offer_the_asking_price(world):
    plain = deal_world(chain=DEV_CHAIN, seller_wallet=SELLER_WALLET, offer_amount=None)
    url = reverse("fabric:escrow-new", args=[plain.listing.pk])
    assert "Asking price: $250,000.00" in _client(plain.buyer).get(url).content.decode()
    response = _client(plain.buyer).post(url, _form(plain, price=""))
    assert response.status_code == 303
    escrow = EscrowTransaction.objects.get()
    assert (escrow.offer, escrow.amount_usd, escrow.amount_units) == (
        None,
        plain.listing.asking_price_usd,
        str(100 * 10**18),
    )


def test_the_admin_shows_deals_with_their_events(world):
    _client(world.buyer).post(reverse("fabric:escrow-new", args=[world.listing.pk]), _form(world))
    escrow = EscrowTransaction.objects.get()
    EscrowEvent.objects.create(
        escrow=escrow,
        event="DealCreated",
        tx_hash="0x" + "ef" * 32,
        log_index=0,
        block_number=12,
        block_hash="0x" + "aa" * 32,
        status_after="pending",
    )
    staff = UserFactory(is_staff=True, is_superuser=True)
    listing_page = _client(staff).get(reverse("admin:fabric_escrowtransaction_changelist"))
    assert listing_page.status_code == 200 and "Orbit DEX" in listing_page.content.decode()
    page = _client(staff).get(reverse("admin:fabric_escrowtransaction_change", args=[escrow.pk]))
    assert page.status_code == 200
    assert "0x" + "ef" * 32 in page.content.decode()
    assert _client(staff).get(reverse("admin:fabric_escrowcursor_changelist")).status_code == 200


def test_an_accepted_offer_links_its_escrow(world):
    def action() -> str:
        world.offer.refresh_from_db()
        return render_to_string("fabric/escrow/_offer_escrow.html", {"offer": world.offer})

    new_url = reverse("fabric:escrow-new", args=[world.listing.pk])
    assert f'href="{new_url}?offer={world.offer.pk}"' in action()
    _client(world.buyer).post(new_url, _form(world))
    escrow = EscrowTransaction.objects.get()
    assert f'href="{reverse("fabric:deal", args=[escrow.pk])}"' in action()
    EscrowTransaction.objects.filter(pk=escrow.pk).update(status=EscrowStatus.REFUNDED)
    assert "Open escrow" in action()
    Offer.objects.filter(pk=world.offer.pk).update(status=OfferStatus.WITHDRAWN)
    assert action().strip() == ""
