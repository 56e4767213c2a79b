"""Mail about offers and messages: every step reaches the other side after the commit,
only at verified addresses of those who keep `fabric_offers` / `fabric_messages` on, with
the unsubscribe link; nothing is mailed for a refused step."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import NotificationSettings
from accounts.tests.clients import as_user
from fabric.models import Offer
from fabric.services.deal_notifications import message_notify, offer_step_notify
from fabric.services.offers import offers_expire
from fabric.tests.deals import deal_world, email_verified

pytestmark = pytest.mark.django_db

SELLER, VIEWER, BUYER, OTHER = (
    "seller@example.com",
    "viewer@example.com",
    "buyer@example.com",
    "other@example.com",
)


@pytest.fixture
def deal():
    deal = deal_world()
    email_verified(deal.seller, SELLER)
    email_verified(deal.seller_viewer, VIEWER)
    email_verified(deal.buyer, BUYER)
    email_verified(deal.other_buyer, OTHER)
    return deal


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run each request's after-commit work (the mail tasks, eager in tests)."""

    def run(call):
        with django_capture_on_commit_callbacks(execute=True):
            return call()

    return run


def _offer(deal, committed, user=None, wallet=None, amount="1000", **extra):
    body = {
        "buyer_wallet": (wallet or deal.buyer_wallet).address,
        "amount_usd": amount,
        **extra,
    }
    url = f"/api/v1/listings/{deal.listing.pk}/offers"
    response = committed(lambda: as_user(user or deal.buyer).post(url, body))
    assert response.status_code == 201
    return response.json()["id"]


def _act(deal, committed, user, offer_id, action, body=None):
    url = f"/api/v1/offers/{offer_id}/{action}"
    return committed(lambda: as_user(user).post(url, body or {}))


def _to() -> list[str]:
    return sorted(address for message in mail.outbox for address in message.to)


def test_a_new_offer_is_mailed_to_the_sellers_members(deal, committed):
    _offer(deal, committed, terms="Keep the domain.")

    assert _to() == [SELLER, VIEWER]
    message = mail.outbox[0]
    assert message.subject == "Fabrknt Suite: Offer made on Moonbase DEX"
    assert "A buyer made an offer of 1000.00 USD" in message.body
    assert "Keep the domain." in message.body
    offer = Offer.objects.get()
    assert f"/fabric/offers/{offer.pk}/" in message.body
    assert message.extra_headers["List-Unsubscribe"].startswith("<http")


def test_every_step_reaches_the_other_side(deal, committed):
    offer_id = _offer(deal, committed)
    mail.outbox.clear()

    _act(deal, committed, deal.seller, offer_id, "counter", {"amount_usd": "1500"})
    # The buyer, and the seller's other members (not the one who acted).
    assert _to() == [BUYER, VIEWER]
    assert "The seller countered the offer" in mail.outbox[0].body
    mail.outbox.clear()

    _act(deal, committed, deal.buyer, offer_id, "accept")
    assert _to() == [SELLER, VIEWER]
    assert "The buyer accepted the offer of 1500.00 USD" in mail.outbox[0].body


def test_accepting_tells_the_other_buyers_their_offers_were_declined(deal, committed):
    accepted = _offer(deal, committed)
    _offer(deal, committed, user=deal.other_buyer, wallet=deal.other_wallet, amount="900")
    mail.outbox.clear()

    _act(deal, committed, deal.seller, accepted, "accept")

    by_address = {message.to[0]: message for message in mail.outbox}
    assert sorted(by_address) == [BUYER, OTHER, VIEWER]
    assert "the seller accepted another offer" in by_address[OTHER].body
    assert "The seller accepted the offer of 1000.00 USD" in by_address[BUYER].body


def test_withdraw_and_decline_are_mailed(deal, committed):
    withdrawn = _offer(deal, committed)
    declined = _offer(deal, committed, amount="10")
    mail.outbox.clear()

    _act(deal, committed, deal.buyer, withdrawn, "withdraw")
    assert _to() == [SELLER, VIEWER]
    assert "The buyer withdrew the offer" in mail.outbox[0].body
    mail.outbox.clear()

    _act(deal, committed, deal.seller, declined, "decline")
    assert _to() == [BUYER, VIEWER]
    assert "The seller declined the offer of 10.00 USD" in mail.outbox[0].body


def test_an_expiry_is_mailed_to_both_sides(deal, committed):
    offer_id = _offer(deal, committed, expires_at=(timezone.now() + dt.timedelta(hours=1)))
    Offer.objects.filter(pk=offer_id).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    mail.outbox.clear()

    assert committed(offers_expire) == 1

    assert _to() == [BUYER, SELLER, VIEWER]
    assert "expired" in mail.outbox[0].body


def test_refused_steps_mail_nothing(deal, committed):
    offer_id = _offer(deal, committed)
    mail.outbox.clear()

    assert _act(deal, committed, deal.buyer, offer_id, "accept").status_code == 409
    assert _act(deal, committed, deal.seller_viewer, offer_id, "decline").status_code == 403
    url = f"/api/v1/listings/{deal.listing.pk}/messages"
    assert committed(lambda: as_user(deal.stranger).post(url, {"body": "hi"})).status_code == 403
    assert mail.outbox == []


def test_opted_out_or_unverified_people_get_no_mail(deal, committed):
    NotificationSettings.objects.filter(user=deal.seller).update(fabric_offers=False)
    NotificationSettings.objects.filter(user=deal.seller_viewer).update(email_verified_at=None)

    _offer(deal, committed)

    assert mail.outbox == []
    # Opting out of offers keeps messages on.
    url = f"/api/v1/listings/{deal.listing.pk}/messages"
    committed(lambda: as_user(deal.buyer).post(url, {"body": "Can we talk?"}))
    assert _to() == [SELLER]


def test_messages_are_mailed_to_the_other_side(deal, committed):
    url = f"/api/v1/listings/{deal.listing.pk}/messages"
    committed(lambda: as_user(deal.buyer).post(url, {"body": "Is the code audited?"}))

    assert _to() == [SELLER, VIEWER]
    message = mail.outbox[0]
    assert message.subject == "Fabrknt Suite: New message about Moonbase DEX"
    assert "Is the code audited?" in message.body
    assert f"?buyer={deal.buyer.pk}" in message.body
    mail.outbox.clear()

    answer = {"buyer": str(deal.buyer.pk), "body": "Twice, by two firms."}
    committed(lambda: as_user(deal.seller).post(url, answer))
    assert _to() == [BUYER, VIEWER]
    mail.outbox.clear()

    NotificationSettings.objects.filter(user=deal.buyer).update(fabric_messages=False)
    committed(lambda: as_user(deal.seller).post(url, answer))
    assert _to() == [VIEWER]


def test_the_tasks_skip_rows_that_are_gone(deal):
    assert offer_step_notify(step_id=999999) == 0
    assert message_notify(message_id="00000000-0000-4000-8000-000000000000") == 0
    assert mail.outbox == []


def test_the_unsubscribe_link_of_an_offer_mail_stops_offer_mails_only(deal, committed, client):
    _offer(deal, committed)
    seller_mail = next(message for message in mail.outbox if message.to == [SELLER])
    link = seller_mail.extra_headers["List-Unsubscribe"].strip("<>")
    path = link.split("://", 1)[1].split("/", 1)[1]

    assert client.post(f"/{path}").status_code == 200

    row = NotificationSettings.objects.get(user=deal.seller)
    assert (row.fabric_offers, row.fabric_messages) == (False, True)
    mail.outbox.clear()
    _offer(deal, committed, amount="2000")
    assert _to() == [VIEWER]
