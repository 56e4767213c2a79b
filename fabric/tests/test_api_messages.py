"""The messages API: one thread per listing and buyer after the NDA; buyers see their
own, the seller's members every thread (or one with `?buyer=`) and answer a buyer;
refusals store nothing; reading marks read; pages of results."""

from __future__ import annotations

import pytest

from accounts.services.api_keys import api_key_issue
from accounts.tests.clients import as_key, as_user
from fabric.models import Message, Visibility
from fabric.tests.deals import deal_world

pytestmark = pytest.mark.django_db


def _url(deal) -> str:
    return f"/api/v1/listings/{deal.listing.pk}/messages"


def test_a_buyer_writes_and_the_seller_answers_in_the_buyers_thread():
    deal = deal_world()
    sent = as_user(deal.buyer).post(_url(deal), {"body": "  Is the treasury included?  "})

    assert sent.status_code == 201
    body = sent.json()
    assert (body["body"], body["sender_party"], body["buyer"], body["sender"]) == (
        "Is the treasury included?",
        "buyer",
        str(deal.buyer.pk),
        str(deal.buyer.pk),
    )
    assert (body["listing_id"], body["read_at"]) == (str(deal.listing.pk), None)

    answer = as_user(deal.seller).post(
        _url(deal), {"buyer": str(deal.buyer.pk), "body": "Yes, 40k USDC."}
    )
    assert answer.status_code == 201
    assert (answer.json()["sender_party"], answer.json()["buyer"]) == ("seller", str(deal.buyer.pk))

    thread = as_user(deal.buyer).get(_url(deal)).json()
    assert thread["count"] == 2
    assert [m["body"] for m in thread["results"]] == ["Is the treasury included?", "Yes, 40k USDC."]


def test_each_buyer_sees_only_their_thread_and_the_seller_sees_all():
    deal = deal_world()
    as_user(deal.buyer).post(_url(deal), {"body": "from buyer one"})
    as_user(deal.other_buyer).post(_url(deal), {"body": "from buyer two"})

    mine = as_user(deal.buyer).get(_url(deal)).json()
    assert [m["body"] for m in mine["results"]] == ["from buyer one"]
    everything = as_user(deal.seller_viewer).get(_url(deal)).json()
    assert everything["count"] == 2
    one = as_user(deal.seller).get(_url(deal), {"buyer": str(deal.other_buyer.pk)}).json()
    assert [m["body"] for m in one["results"]] == ["from buyer two"]
    # A buyer cannot read another thread by naming it.
    named = as_user(deal.buyer).get(_url(deal), {"buyer": str(deal.other_buyer.pk)}).json()
    assert [m["body"] for m in named["results"]] == ["from buyer one"]


def test_reading_a_thread_marks_the_other_sides_messages_read():
    deal = deal_world()
    as_user(deal.buyer).post(_url(deal), {"body": "hello"})
    as_user(deal.seller).get(_url(deal))  # every thread at once: nothing marked
    assert Message.objects.get().read_at is None

    as_user(deal.seller).get(_url(deal), {"buyer": str(deal.buyer.pk)})
    assert Message.objects.get().read_at is not None

    as_user(deal.seller).post(_url(deal), {"buyer": str(deal.buyer.pk), "body": "hi back"})
    as_user(deal.buyer).get(_url(deal))  # the buyer's own message stays as it was
    reply = Message.objects.get(sender_party="seller")
    assert reply.read_at is not None


@pytest.mark.parametrize(
    "body",
    [{}, {"body": ""}, {"body": "   "}, {"body": "x" * 4001}, {"body": ["a", "list"]}],
)
def test_invalid_messages_are_400_and_store_nothing(body):
    deal = deal_world()
    response = as_user(deal.buyer).post(_url(deal), body)

    assert response.status_code == 400
    assert Message.objects.count() == 0


def test_the_seller_must_name_a_buyer_who_signed():
    deal = deal_world()
    for body in (
        {"body": "to whom?"},
        {"body": "x", "buyer": str(deal.stranger.pk)},
        {"body": "x", "buyer": "not-a-uuid"},
    ):
        response = as_user(deal.seller).post(_url(deal), body)
        assert response.status_code == 400
        assert "buyer" in response.json()
    assert as_user(deal.seller).get(_url(deal), {"buyer": str(deal.stranger.pk)}).status_code == 400
    assert Message.objects.count() == 0


def test_refusals_store_nothing():
    deal = deal_world()
    assert as_user(deal.stranger).post(_url(deal), {"body": "hi"}).status_code == 403
    assert as_user(deal.stranger).get(_url(deal)).status_code == 403
    viewer = {"buyer": str(deal.buyer.pk), "body": "hi"}
    assert as_user(deal.seller_viewer).post(_url(deal), viewer).status_code == 403
    assert (
        as_user(deal.buyer).post("/api/v1/listings/nope/messages", {"body": "x"}).status_code == 404
    )
    assert Message.objects.count() == 0


def test_a_private_listing_is_404_to_strangers():
    deal = deal_world(visibility=Visibility.PRIVATE)

    assert as_user(deal.stranger).post(_url(deal), {"body": "hi"}).status_code == 404
    assert as_user(deal.stranger).get(_url(deal)).status_code == 404
    assert Message.objects.count() == 0


def test_threads_are_paginated_oldest_first():
    deal = deal_world()
    for n in range(5):
        Message.objects.create(
            listing=deal.listing,
            buyer=deal.buyer,
            sender=deal.buyer,
            sender_party="buyer",
            body=f"message {n}",
        )

    first = as_user(deal.buyer).get(_url(deal), {"page_size": 2}).json()
    assert (first["count"], [m["body"] for m in first["results"]]) == (
        5,
        ["message 0", "message 1"],
    )
    assert first["next"] is not None
    last = as_user(deal.buyer).get(_url(deal), {"page_size": 2, "page": 3}).json()
    assert [m["body"] for m in last["results"]] == ["message 4"]
    assert as_user(deal.buyer).get(_url(deal), {"page": 9}).status_code == 404


def test_listing_a_thread_costs_a_fixed_number_of_queries(django_assert_max_num_queries):
    deal = deal_world()
    for n in range(20):
        Message.objects.create(
            listing=deal.listing,
            buyer=deal.buyer,
            sender=deal.seller,
            sender_party="seller",
            body=f"message {n}",
        )
    client = as_user(deal.buyer)
    with django_assert_max_num_queries(14):
        response = client.get(_url(deal))
    assert response.json()["count"] == 20


def test_keys_of_the_seller_read_threads_but_do_not_write():
    deal = deal_world()
    as_user(deal.buyer).post(_url(deal), {"body": "hello"})
    key = api_key_issue(organization=deal.organization, name="ops", scopes=["read", "write"])

    assert as_key(key.key).get(_url(deal)).json()["count"] == 1
    answer = {"buyer": str(deal.buyer.pk), "body": "from a key"}
    assert as_key(key.key).post(_url(deal), answer).status_code == 403
    assert Message.objects.count() == 1
