"""The listings admin: vetting actions move listings through the services, with history."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages

from accounts.tests.factories import UserFactory, WalletFactory
from fabric.models import Listing, ListingEvent
from fabric.tests.factories import (
    BuyerAccessFactory,
    ListingAssetFactory,
    ListingFactory,
    NDASignatureFactory,
)

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/fabric/listing/"


def _act(client, action, *listings, note=""):
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [str(x.pk) for x in listings], "note": note},
        follow=True,
    )


def _messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_approve_publishes_what_waits_for_review_and_refuses_the_rest(admin_client, admin_user):
    waiting = ListingFactory(status="pending_review", published_at=None)
    draft = ListingFactory(status="draft", published_at=None)
    response = _act(admin_client, "approve", waiting, draft, note="Looks right")
    assert response.status_code == 200
    waiting.refresh_from_db()
    draft.refresh_from_db()
    assert waiting.status == "published" and waiting.published_at is not None
    assert draft.status == "draft"
    event = ListingEvent.objects.get()
    assert (event.listing, event.to_status, event.actor, event.note) == (
        waiting,
        "published",
        admin_user,
        "Looks right",
    )
    messages = _messages(response)
    assert "1 listing(s) approved." in messages
    assert any(draft.title in m and "pending review" in m for m in messages)


def test_reject_needs_a_note_and_keeps_it(admin_client):
    listing = ListingFactory(status="pending_review", published_at=None)
    response = _act(admin_client, "reject", listing)
    assert "Write a note for the seller to reject." in _messages(response)
    listing.refresh_from_db()
    assert listing.status == "pending_review"
    assert not ListingEvent.objects.exists()
    _act(admin_client, "reject", listing, note="The revenue claims have no evidence.")
    listing.refresh_from_db()
    assert listing.status == "rejected"
    assert listing.review_note == "The revenue claims have no evidence."
    assert ListingEvent.objects.get().note == "The revenue claims have no evidence."


def test_feature_unfeature_and_withdraw(admin_client):
    listing = ListingFactory()
    _act(admin_client, "feature", listing)
    listing.refresh_from_db()
    assert listing.featured is True
    _act(admin_client, "unfeature", listing)
    listing.refresh_from_db()
    assert listing.featured is False
    sold = ListingFactory(status="sold")
    response = _act(admin_client, "withdraw", listing, sold, note="Scam report")
    listing.refresh_from_db()
    sold.refresh_from_db()
    assert (listing.status, sold.status) == ("withdrawn", "sold")
    assert "1 listing(s) withdrawn." in _messages(response)
    assert ListingEvent.objects.get().note == "Scam report"


def test_a_staff_user_who_may_only_view_cannot_act(client):
    from django.contrib.auth.models import Permission

    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_listing"))
    client.force_login(viewer)
    listing = ListingFactory(status="pending_review", published_at=None)
    _act(client, "approve", listing)
    listing.refresh_from_db()
    assert listing.status == "pending_review"


def test_the_change_page_shows_history_and_assets_and_the_other_admins_list(admin_client):
    listing = ListingFactory(status="draft", published_at=None)
    ListingAssetFactory(listing=listing, asset_identifier="lendr.xyz")
    from fabric.services.listings import listing_publish

    listing_publish(listing=listing)
    page = admin_client.get(f"{CHANGELIST}{listing.pk}/change/").content.decode()
    assert "lendr.xyz" in page and "status history" in page.lower()
    wallet = WalletFactory()
    NDASignatureFactory(listing=listing, wallet=wallet)
    BuyerAccessFactory(listing=listing, wallet_address=wallet.address)
    for url in ("/admin/fabric/ndasignature/", "/admin/fabric/buyeraccess/"):
        response = admin_client.get(url)
        assert response.status_code == 200
        assert wallet.address in response.content.decode()
    assert admin_client.get("/admin/fabric/listing/add/").status_code == 403
    assert Listing.objects.count() == 1
