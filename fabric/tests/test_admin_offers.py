"""The offers admin: operators read offers and their steps; nothing is editable there."""

from __future__ import annotations

import pytest

from accounts.tests.clients import as_user
from fabric.models import Offer
from fabric.tests.deals import deal_world

pytestmark = pytest.mark.django_db


def test_operators_read_an_offer_with_its_steps(admin_client):
    deal = deal_world()
    url = f"/api/v1/listings/{deal.listing.pk}/offers"
    body = {"buyer_wallet": deal.buyer_wallet.address, "amount_usd": "4200"}
    offer_id = as_user(deal.buyer).post(url, body).json()["id"]
    as_user(deal.seller).post(f"/api/v1/offers/{offer_id}/counter", {"amount_usd": "5000"})

    listing = admin_client.get("/admin/fabric/offer/", {"status": "countered"})
    assert listing.status_code == 200
    assert "5000.00" in listing.content.decode()
    detail = admin_client.get(f"/admin/fabric/offer/{offer_id}/change/")
    assert detail.status_code == 200
    html = detail.content.decode()
    assert "4200.00" in html and "5000.00" in html  # the steps
    assert admin_client.get("/admin/fabric/offer/add/").status_code == 403
    assert (
        admin_client.post(f"/admin/fabric/offer/{offer_id}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert Offer.objects.get().status == "countered"
