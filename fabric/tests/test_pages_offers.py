"""The offers, messages and inbox pages: a buyer makes an offer and follows it, the
seller answers it (confirm step, counter form), refusals are 404/403/409 pages that store
nothing, threads and the inbox."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from fabric.models import Listing, ListingStatus, Message, Offer, OfferStatus, OfferStep
from fabric.tests.deals import deal_world

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _offers_url(deal) -> str:
    return f"/fabric/listings/{deal.listing.pk}/offers/"


def _make(deal, amount="1000.00", **extra) -> Offer:
    body = {"buyer_wallet": deal.buyer_wallet.address, "amount_usd": amount, **extra}
    response = _client(deal.buyer).post(_offers_url(deal), body)
    assert response.status_code == 303, response.content.decode()[:2000]
    return Offer.objects.get(buyer=deal.buyer, amount_usd=Decimal(amount))


def test_a_buyer_makes_an_offer_on_the_page():
    deal = deal_world()
    page = _client(deal.buyer).get(_offers_url(deal))

    assert page.status_code == 200
    html = page.content.decode()
    assert "Make an offer" in html
    assert deal.buyer_wallet.address in html  # the paying wallet to choose
    assert "You have made no offer yet" in html

    offer = _make(deal, "1200.50", terms="Handover in 30 days.", expires_at="2099-01-01T10:00")

    assert (offer.status, offer.awaiting, offer.terms) == ("open", "seller", "Handover in 30 days.")
    assert offer.expires_at is not None and offer.expires_at.year == 2099
    detail = _client(deal.buyer).get(f"/fabric/offers/{offer.pk}/").content.decode()
    assert "1200.50 USD" in detail
    assert "Waiting for the seller." in detail
    assert "Offer made" in detail


def test_an_invalid_offer_shows_the_errors_and_stores_nothing():
    deal = deal_world()
    body = {"buyer_wallet": deal.buyer_wallet.address, "amount_usd": "0"}
    response = _client(deal.buyer).post(_offers_url(deal), body)

    assert response.status_code == 400
    assert "field--invalid" in response.content.decode()
    past = {**body, "amount_usd": "5", "expires_at": "2001-01-01T00:00"}
    response = _client(deal.buyer).post(_offers_url(deal), past)
    assert response.status_code == 400
    assert "The expiry must be in the future." in response.content.decode()
    assert Offer.objects.count() == 0


def test_unsigned_and_strangers_get_403_and_404():
    deal = deal_world()
    offer = _make(deal)

    assert _client(deal.stranger).get(_offers_url(deal)).status_code == 403
    assert _client(deal.stranger).get(f"/fabric/offers/{offer.pk}/").status_code == 404
    assert _client(deal.other_buyer).get(f"/fabric/offers/{offer.pk}/").status_code == 404
    assert _client(deal.stranger).post(f"/fabric/offers/{offer.pk}/withdraw").status_code == 404
    assert Client().get(_offers_url(deal)).status_code == 302  # to sign in
    assert Offer.objects.get().status == OfferStatus.OPEN


def test_the_seller_sees_every_offer_and_accepts_through_a_confirm_step():
    deal = deal_world()
    first = _make(deal, "1000.00")
    second_body = {"buyer_wallet": deal.other_wallet.address, "amount_usd": "1100.00"}
    assert _client(deal.other_buyer).post(_offers_url(deal), second_body).status_code == 303
    seller = _client(deal.seller)

    html = seller.get(_offers_url(deal)).content.decode()
    assert html.count('data-testid="offer-') >= 2
    assert f"/fabric/offers/{first.pk}/accept" in html
    assert "Make an offer" not in html

    confirm = seller.get(f"/fabric/offers/{first.pk}/accept")
    assert confirm.status_code == 200
    assert "Accept the offer of 1000.00 USD?" in confirm.content.decode()
    assert Offer.objects.get(pk=first.pk).status == OfferStatus.OPEN  # GET changes nothing

    response = seller.post(f"/fabric/offers/{first.pk}/accept")
    assert response.status_code == 303
    assert response["Location"] == f"/fabric/offers/{first.pk}/"
    statuses = dict(Offer.objects.values_list("amount_usd", "status"))
    assert statuses == {Decimal("1000.00"): "accepted", Decimal("1100.00"): "declined"}
    assert Listing.objects.get().status == ListingStatus.UNDER_OFFER
    buyer_view = _client(deal.buyer).get(f"/fabric/offers/{first.pk}/").content.decode()
    assert ">accepted<" in buyer_view


def test_out_of_turn_is_a_409_page_and_stores_nothing():
    deal = deal_world()
    offer = _make(deal)

    response = _client(deal.buyer).post(f"/fabric/offers/{offer.pk}/accept")
    assert response.status_code == 409
    assert "the seller&#x27;s turn" in response.content.decode()
    counter = _client(deal.buyer).post(f"/fabric/offers/{offer.pk}/counter", {"amount_usd": "5"})
    assert counter.status_code == 409
    assert (Offer.objects.get().status, OfferStep.objects.count()) == ("open", 1)


def test_a_viewer_sees_offers_without_controls_and_cannot_act():
    deal = deal_world()
    offer = _make(deal)
    viewer = _client(deal.seller_viewer)

    html = viewer.get(_offers_url(deal)).content.decode()
    assert f"/fabric/offers/{offer.pk}/accept" not in html
    assert "members with write access answer them" in html
    assert viewer.post(f"/fabric/offers/{offer.pk}/accept").status_code == 403
    assert Offer.objects.get().status == OfferStatus.OPEN


def test_counter_on_the_page_then_the_buyer_accepts():
    deal = deal_world()
    offer = _make(deal)
    seller = _client(deal.seller)

    form = seller.get(f"/fabric/offers/{offer.pk}/counter")
    assert form.status_code == 200
    response = seller.post(
        f"/fabric/offers/{offer.pk}/counter", {"amount_usd": "1500.00", "terms": "All cash."}
    )
    assert response.status_code == 303
    offer.refresh_from_db()
    assert (offer.status, offer.awaiting, offer.amount_usd) == (
        "countered",
        "buyer",
        Decimal("1500.00"),
    )
    buyer = _client(deal.buyer)
    detail = buyer.get(f"/fabric/offers/{offer.pk}/").content.decode()
    assert "Your turn." in detail
    assert "Countered by the seller" in detail
    assert buyer.post(f"/fabric/offers/{offer.pk}/accept").status_code == 303
    assert Offer.objects.get().status == OfferStatus.ACCEPTED


def test_the_buyer_withdraws_on_the_page():
    deal = deal_world()
    offer = _make(deal)
    buyer = _client(deal.buyer)

    assert (
        "Withdraw your offer of 1000.00 USD?"
        in buyer.get(f"/fabric/offers/{offer.pk}/withdraw").content.decode()
    )
    assert buyer.post(f"/fabric/offers/{offer.pk}/withdraw").status_code == 303
    assert Offer.objects.get().status == OfferStatus.WITHDRAWN


def test_messages_thread_pages():
    deal = deal_world()
    url = f"/fabric/listings/{deal.listing.pk}/messages/"
    buyer, seller = _client(deal.buyer), _client(deal.seller)

    assert buyer.post(url, {"body": "Is the team staying?"}).status_code == 303
    assert buyer.post(url, {"body": "   "}).status_code == 400
    assert Message.objects.count() == 1

    picker = seller.get(url).content.decode()
    assert deal.buyer.username in picker
    assert "1 unread" in picker
    thread_url = f"{url}?buyer={deal.buyer.pk}"
    thread = seller.get(thread_url).content.decode()
    assert "Is the team staying?" in thread
    assert Message.objects.get().read_at is not None
    response = seller.post(thread_url, {"body": "Yes, for six months."})
    assert response.status_code == 303
    assert response["Location"] == thread_url
    reply = Message.objects.get(sender_party="seller")
    assert (reply.buyer, reply.sender) == (deal.buyer, deal.seller)

    mine = buyer.get(url).content.decode()
    assert "Yes, for six months." in mine
    assert Message.objects.get(pk=reply.pk).read_at is not None
    other = _client(deal.other_buyer).get(url).content.decode()
    assert "Is the team staying?" not in other
    assert _client(deal.stranger).get(url).status_code == 403
    assert seller.get(f"{url}?buyer={deal.stranger.pk}").status_code == 404
    assert seller.get(f"{url}?buyer=nope").status_code == 404
    assert _client(deal.seller_viewer).post(thread_url, {"body": "hi"}).status_code == 403
    assert Message.objects.count() == 2


def test_the_inbox_shows_both_sides():
    deal = deal_world()
    offer = _make(deal)
    _client(deal.buyer).post(
        f"/fabric/listings/{deal.listing.pk}/messages/", {"body": "Hello seller"}
    )

    seller_inbox = _client(deal.seller).get("/fabric/inbox/").content.decode()
    assert f"/fabric/offers/{offer.pk}/" in seller_inbox
    assert "offer of 1000.00 USD made" in seller_inbox
    assert f"?buyer={deal.buyer.pk}" in seller_inbox
    assert "Your turn." in seller_inbox

    _client(deal.seller).post(f"/fabric/offers/{offer.pk}/decline")
    buyer_inbox = _client(deal.buyer).get("/fabric/inbox/").content.decode()
    assert "declined by the seller" in buyer_inbox
    assert "Waiting for" not in buyer_inbox

    empty = _client(deal.stranger).get("/fabric/inbox/").content.decode()
    assert "You have made no offer." in empty
    assert "No conversation yet" in empty
