"""The offers API: making an offer after the NDA, the turns (accept, decline, counter,
withdraw), their refusals (out of turn 409, strangers 404, unsigned 403), repeats,
expiry, and concurrent accepts on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from accounts.selectors import CallerAccess
from accounts.services.api_keys import api_key_issue
from accounts.tests.clients import as_key, as_user
from accounts.tests.factories import WalletFactory
from fabric.models import (
    Listing,
    ListingEvent,
    ListingStatus,
    Offer,
    OfferStatus,
    OfferStep,
    Visibility,
)
from fabric.services import offers as offer_services
from fabric.tasks import expire_offers
from fabric.tests.deals import deal_world
from fabric.tests.factories import BuyerAccessFactory
from fabrknt.api.errors import Conflict
from fabrknt.celery import app as celery_app

pytestmark = pytest.mark.django_db


def _make(deal, amount="1000", *, user=None, wallet=None, **extra):
    user = user or deal.buyer
    wallet = wallet or deal.buyer_wallet
    body = {"buyer_wallet": wallet.address, "amount_usd": amount, **extra}
    return as_user(user).post(f"/api/v1/listings/{deal.listing.pk}/offers", body)


def _act(user, offer_id, action, body=None):
    return as_user(user).post(f"/api/v1/offers/{offer_id}/{action}", body or {})


def _history(offer_id) -> list[tuple[str, str, str]]:
    steps = OfferStep.objects.filter(offer_id=offer_id).order_by("id")
    return [(s.action, s.party, str(s.amount_usd)) for s in steps]


def test_a_signer_makes_an_offer():
    deal = deal_world()
    response = _make(
        deal,
        "1250.5",
        wallet=deal.buyer_wallet,
        terms="Team stays 3 months.",
        expires_at=(timezone.now() + dt.timedelta(days=3)).isoformat(),
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    offer = Offer.objects.get()
    assert body["id"] == str(offer.pk)
    assert body["listing_id"] == str(deal.listing.pk)
    assert (body["status"], body["awaiting"], body["amount_usd"]) == ("open", "seller", "1250.50")
    assert body["terms"] == "Team stays 3 months."
    assert body["buyer_wallet"] == deal.buyer_wallet.address
    assert body["buyer"] == str(deal.buyer.pk)
    assert [(h["action"], h["party"], h["amount_usd"]) for h in body["history"]] == [
        ("made", "buyer", "1250.50")
    ]
    assert body["expires_at"] is not None


def test_a_retried_offer_answers_the_open_one():
    deal = deal_world()
    expiry = (timezone.now() + dt.timedelta(days=2)).isoformat()
    first = _make(deal, "500", terms="Cash.", expires_at=expiry)
    repeat = _make(deal, "500.00", terms="Cash.", expires_at=expiry)

    assert (first.status_code, repeat.status_code) == (201, 200)
    assert repeat.json() == first.json()
    assert (Offer.objects.count(), OfferStep.objects.count()) == (1, 1)
    # Another amount is another offer; once the first is answered, the same is new again.
    assert _make(deal, "600", terms="Cash.", expires_at=expiry).status_code == 201
    _act(deal.seller, first.json()["id"], "decline")
    assert _make(deal, "500", terms="Cash.", expires_at=expiry).status_code == 201
    assert Offer.objects.count() == 3


def test_the_wallet_is_read_in_any_case_and_returned_checksummed():
    deal = deal_world()
    body = {"buyer_wallet": deal.buyer_wallet.address.lower(), "amount_usd": "10"}
    response = as_user(deal.buyer).post(f"/api/v1/listings/{deal.listing.pk}/offers", body)

    assert response.status_code == 201
    assert response.json()["buyer_wallet"] == deal.buyer_wallet.address


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount_usd", "0"),
        ("amount_usd", "-5"),
        ("amount_usd", "1.234"),
        ("amount_usd", "NaN"),
        ("amount_usd", "lots"),
        ("amount_usd", "99999999999999"),
        ("expires_at", "2001-01-01T00:00:00Z"),
        ("expires_at", "tomorrow"),
        ("terms", "x" * 4001),
        ("buyer_wallet", "0xnot-an-address"),
    ],
)
def test_invalid_offers_are_400_and_store_nothing(field, value):
    deal = deal_world()
    body = {"buyer_wallet": deal.buyer_wallet.address, "amount_usd": "10", field: value}
    response = as_user(deal.buyer).post(f"/api/v1/listings/{deal.listing.pk}/offers", body)

    assert response.status_code == 400
    assert field in response.json()
    assert (Offer.objects.count(), OfferStep.objects.count()) == (0, 0)


def test_a_wallet_that_did_not_sign_is_refused():
    deal = deal_world()
    unsigned = WalletFactory(user=deal.buyer)
    response = _make(deal, wallet=unsigned)

    assert response.status_code == 400
    assert "buyer_wallet" in response.json()
    # Another user's signed wallet is not the caller's either.
    assert _make(deal, wallet=deal.other_wallet).status_code == 400
    assert Offer.objects.count() == 0


def test_unsigned_users_are_403_and_the_seller_cannot_offer():
    deal = deal_world()
    stranger_wallet = deal.stranger.wallets.get()

    assert _make(deal, user=deal.stranger, wallet=stranger_wallet).status_code == 403
    assert _make(deal, user=deal.seller, wallet=deal.seller.wallets.get()).status_code == 403
    assert Offer.objects.count() == 0


def test_a_revoked_wallet_cannot_offer():
    deal = deal_world()
    BuyerAccessFactory(listing=deal.listing, wallet_address=deal.buyer_wallet.address, revoked=True)

    assert _make(deal).status_code == 403
    assert Offer.objects.count() == 0


def test_a_buyer_revoked_after_offering_can_only_withdraw():
    deal = deal_world()
    offer_id = _make(deal, "1000").json()["id"]
    assert _act(deal.seller, offer_id, "counter", {"amount_usd": "1500"}).status_code == 200
    BuyerAccessFactory(listing=deal.listing, wallet_address=deal.buyer_wallet.address, revoked=True)
    before = _history(offer_id)

    assert _act(deal.buyer, offer_id, "accept").status_code == 403
    assert _act(deal.buyer, offer_id, "counter", {"amount_usd": "1200"}).status_code == 403
    assert _history(offer_id) == before
    assert Offer.objects.get(pk=offer_id).status == "countered"
    assert _act(deal.buyer, offer_id, "withdraw").json()["status"] == "withdrawn"


def test_a_private_listing_is_404_to_strangers():
    deal = deal_world(visibility=Visibility.PRIVATE)

    assert _make(deal, user=deal.stranger, wallet=deal.stranger.wallets.get()).status_code == 404
    assert Offer.objects.count() == 0


@pytest.mark.parametrize("status", [ListingStatus.SOLD])
def test_a_listing_that_is_not_for_sale_takes_no_offer(status):
    deal = deal_world(status=status)
    response = _make(deal)

    assert response.status_code == 409
    assert Offer.objects.count() == 0


def test_who_reads_an_offer():
    deal = deal_world()
    offer_id = _make(deal).json()["id"]

    for reader in (deal.buyer, deal.seller, deal.seller_viewer):
        response = as_user(reader).get(f"/api/v1/offers/{offer_id}")
        assert response.status_code == 200
        assert response.json()["id"] == offer_id
    for outsider in (deal.stranger, deal.other_buyer):
        assert as_user(outsider).get(f"/api/v1/offers/{offer_id}").status_code == 404
    assert as_user(deal.buyer).get("/api/v1/offers/not-an-id").status_code == 404
    assert as_user(deal.stranger).post(f"/api/v1/offers/{offer_id}/withdraw").status_code == 404


def test_the_seller_accepts_the_other_offers_are_declined_and_the_listing_is_under_offer():
    deal = deal_world()
    first = _make(deal, "1000").json()["id"]
    second = _make(deal, "1100", user=deal.other_buyer, wallet=deal.other_wallet).json()["id"]

    response = _act(deal.seller, second, "accept")

    assert response.status_code == 200
    assert response.json()["status"] == "accepted"
    assert [h["action"] for h in response.json()["history"]] == ["made", "accepted"]
    assert Offer.objects.get(pk=first).status == OfferStatus.DECLINED
    assert _history(first) == [("made", "buyer", "1000.00"), ("declined", "seller", "1000.00")]
    listing = Listing.objects.get()
    assert listing.status == ListingStatus.UNDER_OFFER
    event = ListingEvent.objects.get()
    assert (event.from_status, event.to_status, event.actor) == (
        "published",
        "under_offer",
        deal.seller,
    )
    # The declined one cannot be accepted any more.
    assert _act(deal.seller, first, "accept").status_code == 409


def test_a_repeated_accept_answers_the_offer_and_stores_nothing():
    deal = deal_world()
    offer_id = _make(deal).json()["id"]
    first = _act(deal.seller, offer_id, "accept")
    repeat = _act(deal.seller, offer_id, "accept")

    assert (first.status_code, repeat.status_code) == (200, 200)
    assert repeat.json() == first.json()
    assert OfferStep.objects.count() == 2
    assert ListingEvent.objects.count() == 1
    # Not the party that accepted: the offer is final.
    assert _act(deal.buyer, offer_id, "accept").status_code == 409


def test_acting_out_of_turn_is_409_and_stores_nothing():
    deal = deal_world()
    offer_id = _make(deal).json()["id"]

    for action in ("accept", "decline"):
        response = _act(deal.buyer, offer_id, action)
        assert response.status_code == 409
        assert response.json()["code"] == "not_your_turn"
    assert _act(deal.buyer, offer_id, "counter", {"amount_usd": "900"}).status_code == 409
    # Withdrawing is the buyer's alone, whoever's turn it is: the seller is refused (403).
    assert _act(deal.seller, offer_id, "withdraw").status_code == 403
    offer = Offer.objects.get()
    assert (offer.status, offer.amount_usd, OfferStep.objects.count()) == (
        "open",
        Decimal("1000.00"),
        1,
    )
    assert Listing.objects.get().status == ListingStatus.PUBLISHED


def test_a_viewer_of_the_seller_cannot_answer():
    deal = deal_world()
    offer_id = _make(deal).json()["id"]

    assert _act(deal.seller_viewer, offer_id, "accept").status_code == 403
    assert _act(deal.seller_viewer, offer_id, "counter", {"amount_usd": "5"}).status_code == 403
    assert OfferStep.objects.count() == 1


def test_counters_pass_the_turn_and_keep_the_id():
    deal = deal_world()
    offer_id = _make(deal, "1000", terms="Cash.").json()["id"]

    countered = _act(deal.seller, offer_id, "counter", {"amount_usd": "1500"})
    assert countered.status_code == 200
    body = countered.json()
    assert (body["id"], body["status"], body["awaiting"], body["amount_usd"], body["terms"]) == (
        offer_id,
        "countered",
        "buyer",
        "1500.00",
        "Cash.",
    )
    # A repeated counter: the turn has passed.
    assert _act(deal.seller, offer_id, "counter", {"amount_usd": "1600"}).status_code == 409

    back = _act(deal.buyer, offer_id, "counter", {"amount_usd": "1200", "terms": "Half now."})
    assert (back.json()["awaiting"], back.json()["terms"]) == ("seller", "Half now.")
    assert _act(deal.seller, offer_id, "counter", {"amount_usd": "1300"}).status_code == 200
    accepted = _act(deal.buyer, offer_id, "accept")

    assert accepted.status_code == 200
    assert (accepted.json()["status"], accepted.json()["amount_usd"]) == ("accepted", "1300.00")
    assert _history(offer_id) == [
        ("made", "buyer", "1000.00"),
        ("countered", "seller", "1500.00"),
        ("countered", "buyer", "1200.00"),
        ("countered", "seller", "1300.00"),
        ("accepted", "buyer", "1300.00"),
    ]
    assert Listing.objects.get().status == ListingStatus.UNDER_OFFER


def test_an_invalid_counter_is_400_and_changes_nothing():
    deal = deal_world()
    offer_id = _make(deal).json()["id"]

    for body in ({}, {"amount_usd": "0"}, {"amount_usd": "1", "terms": "x" * 4001}):
        assert _act(deal.seller, offer_id, "counter", body).status_code == 400
    assert (Offer.objects.get().status, OfferStep.objects.count()) == ("open", 1)


def test_the_seller_declines_and_a_repeat_is_a_no_op():
    deal = deal_world()
    offer_id = _make(deal).json()["id"]

    assert _act(deal.seller, offer_id, "decline").json()["status"] == "declined"
    assert _act(deal.seller, offer_id, "decline").status_code == 200
    assert _act(deal.seller, offer_id, "counter", {"amount_usd": "5"}).status_code == 409
    assert _act(deal.buyer, offer_id, "withdraw").status_code == 409
    assert [a for a, _, _ in _history(offer_id)] == ["made", "declined"]
    assert Listing.objects.get().status == ListingStatus.PUBLISHED


def test_the_buyer_declines_a_counter():
    deal = deal_world()
    offer_id = _make(deal).json()["id"]
    _act(deal.seller, offer_id, "counter", {"amount_usd": "2000"})

    assert _act(deal.buyer, offer_id, "decline").json()["status"] == "declined"
    assert _history(offer_id)[-1] == ("declined", "buyer", "2000.00")


def test_the_buyer_withdraws_at_any_time_while_not_final():
    deal = deal_world()
    open_offer = _make(deal).json()["id"]
    countered = _make(deal, "2000").json()["id"]
    _act(deal.seller, countered, "counter", {"amount_usd": "3000"})

    for offer_id in (open_offer, countered):
        response = _act(deal.buyer, offer_id, "withdraw")
        assert (response.status_code, response.json()["status"]) == (200, "withdrawn")
    assert _act(deal.buyer, open_offer, "withdraw").status_code == 200
    assert OfferStep.objects.filter(action="withdrawn").count() == 2
    assert _act(deal.seller, open_offer, "accept").status_code == 409


def test_offers_on_a_listing_under_offer_wait_and_cannot_be_accepted():
    deal = deal_world()
    accepted = _make(deal).json()["id"]
    _act(deal.seller, accepted, "accept")
    waiting = _make(deal, "5000", user=deal.other_buyer, wallet=deal.other_wallet)

    assert waiting.status_code == 201
    response = _act(deal.seller, waiting.json()["id"], "accept")
    assert response.status_code == 409
    assert Offer.objects.get(pk=waiting.json()["id"]).status == OfferStatus.OPEN


def test_the_listing_offers_list_is_scoped():
    deal = deal_world()
    mine = _make(deal).json()["id"]
    _make(deal, user=deal.other_buyer, wallet=deal.other_wallet)
    url = f"/api/v1/listings/{deal.listing.pk}/offers"

    seller = as_user(deal.seller).get(url).json()
    buyer = as_user(deal.buyer).get(url).json()

    assert seller["count"] == 2
    assert (buyer["count"], buyer["results"][0]["id"]) == (1, mine)
    assert as_user(deal.stranger).get(url).status_code == 403


def test_an_expired_offer_is_expired_on_read_and_cannot_be_answered():
    deal = deal_world()
    soon = timezone.now() + dt.timedelta(minutes=5)
    offer_id = _make(deal, expires_at=soon.isoformat()).json()["id"]
    Offer.objects.filter(pk=offer_id).update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    response = as_user(deal.buyer).get(f"/api/v1/offers/{offer_id}")
    assert response.json()["status"] == "expired"
    assert [h["action"] for h in response.json()["history"]] == ["made", "expired"]
    assert _act(deal.seller, offer_id, "accept").status_code == 409
    assert as_user(deal.seller).get(f"/api/v1/offers/{offer_id}").json()["status"] == "expired"
    assert OfferStep.objects.filter(action="expired").count() == 1
    assert Listing.objects.get().status == ListingStatus.PUBLISHED


def test_acting_on_an_offer_past_its_expiry_expires_it():
    deal = deal_world()
    offer_id = _make(deal, expires_at=(timezone.now() + dt.timedelta(hours=1)).isoformat()).json()[
        "id"
    ]
    Offer.objects.filter(pk=offer_id).update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    assert _act(deal.seller, offer_id, "accept").status_code == 409
    assert Offer.objects.get().status == OfferStatus.EXPIRED
    assert Listing.objects.get().status == ListingStatus.PUBLISHED


def test_the_periodic_task_expires_due_offers_once():
    deal = deal_world()
    hour = (timezone.now() + dt.timedelta(hours=1)).isoformat()
    due = _make(deal, expires_at=hour).json()["id"]
    later = _make(deal, expires_at=(timezone.now() + dt.timedelta(days=1)).isoformat()).json()["id"]
    never = _make(deal).json()["id"]
    answered = _make(deal, "999", expires_at=hour).json()["id"]
    _act(deal.seller, answered, "decline")
    Offer.objects.filter(pk__in=[due, answered]).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )

    entry = celery_app.conf.beat_schedule["fabric-expire-offers"]
    assert entry["task"] == expire_offers.name == "fabric.expire_offers"
    assert expire_offers.delay().get() == 1
    assert expire_offers.delay().get() == 0
    statuses = dict(Offer.objects.values_list("pk", "status"))
    assert {str(k): v for k, v in statuses.items()} == {
        due: "expired",
        later: "open",
        never: "open",
        answered: "declined",
    }


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_accepts_one_wins_the_other_is_409(monkeypatch):
    deal = deal_world()
    offers = [
        offer_services.offer_make(
            listing_id=deal.listing.pk,
            access=CallerAccess(user=buyer),
            buyer_wallet=wallet.address,
            amount_usd=Decimal(amount),
        ).offer
        for buyer, wallet, amount in [
            (deal.buyer, deal.buyer_wallet, "1000"),
            (deal.other_buyer, deal.other_wallet, "1100"),
        ]
    ]
    barrier = threading.Barrier(2)
    expire_if_due = offer_services._expire_if_due

    def both_past_the_checks(offer):
        barrier.wait(timeout=10)  # both requests are in before either takes a lock
        return expire_if_due(offer)

    monkeypatch.setattr(offer_services, "_expire_if_due", both_past_the_checks)
    outcomes: list[str] = []

    def accept(offer: Offer) -> None:
        try:
            offer_services.offer_accept(offer_id=offer.pk, access=CallerAccess(user=deal.seller))
            outcomes.append("accepted")
        except Conflict:
            outcomes.append("409")
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(offer,)) for offer in offers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["409", "accepted"]
    statuses = sorted(Offer.objects.values_list("status", flat=True))
    assert statuses == ["accepted", "declined"]
    assert OfferStep.objects.filter(action="accepted").count() == 1
    assert ListingEvent.objects.count() == 1
    assert Listing.objects.get().status == ListingStatus.UNDER_OFFER


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_accept_sent_twice_at_once_is_stored_once(monkeypatch):
    deal = deal_world()
    offer = offer_services.offer_make(
        listing_id=deal.listing.pk,
        access=CallerAccess(user=deal.buyer),
        buyer_wallet=deal.buyer_wallet.address,
        amount_usd=Decimal("1000"),
    ).offer
    barrier = threading.Barrier(2)
    expire_if_due = offer_services._expire_if_due

    def both_past_the_checks(offer):
        barrier.wait(timeout=10)
        return expire_if_due(offer)

    monkeypatch.setattr(offer_services, "_expire_if_due", both_past_the_checks)
    statuses: list[str] = []

    def accept() -> None:
        try:
            accepted = offer_services.offer_accept(
                offer_id=offer.pk, access=CallerAccess(user=deal.seller)
            )
            statuses.append(accepted.status)
        finally:
            connection.close()

    threads = [threading.Thread(target=accept) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == ["accepted", "accepted"]
    assert OfferStep.objects.filter(action="accepted").count() == 1
    assert ListingEvent.objects.count() == 1


def test_keys_of_the_seller_read_offers_but_people_answer_them():
    deal = deal_world()
    offer_id = _make(deal).json()["id"]
    key = api_key_issue(organization=deal.organization, name="ops", scopes=["read", "write"])
    client = as_key(key.key)

    assert client.get(f"/api/v1/offers/{offer_id}").status_code == 200
    assert client.get(f"/api/v1/listings/{deal.listing.pk}/offers").json()["count"] == 1
    for action in ("accept", "decline", "withdraw"):
        assert client.post(f"/api/v1/offers/{offer_id}/{action}").status_code == 403
    counter = client.post(f"/api/v1/offers/{offer_id}/counter", {"amount_usd": "5"})
    assert counter.status_code == 403
    body = {"buyer_wallet": deal.buyer_wallet.address, "amount_usd": "5"}
    assert client.post(f"/api/v1/listings/{deal.listing.pk}/offers", body).status_code == 403
    assert (Offer.objects.get().status, OfferStep.objects.count()) == ("open", 1)


def test_listing_offers_costs_a_fixed_number_of_queries(django_assert_max_num_queries):
    deal = deal_world()
    for amount in range(1, 11):
        _make(deal, str(amount))
    client = as_user(deal.seller)
    with django_assert_max_num_queries(12):
        response = client.get(f"/api/v1/listings/{deal.listing.pk}/offers")
    assert response.json()["count"] == 10
