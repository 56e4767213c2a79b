"""The seller's revenue page: connect Stripe (checked by the local Stripe server), verify
now, see the records with their evidence, disconnect; who may see and act."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.models import Role
from accounts.tests.factories import MembershipFactory
from fabric.models import RevenueRecord, StripeConnection
from fabric.tests.stripe_server import (
    KEY,
    Stripe,
    charge,
    stripe_server_fixture,  # noqa: F401
)
from fabric.tests.test_revenue import (  # noqa: F401  (the fixtures)
    _ts,
    indexed_fixture,
    listing_fixture,
    tx_hash,
)

pytestmark = [pytest.mark.django_db, pytest.mark.postgres, pytest.mark.redis]


def test_the_url_name():
    assert reverse("fabric:listing-revenue", args=["x"]) == "/fabric/listings/x/revenue/"


def test_connect_verify_see_the_evidence_and_disconnect(
    client, listing, indexed, stripe_server: Stripe, django_capture_on_commit_callbacks
):
    stripe_server.charges.append(charge("ch_3PageCharge", _ts(3), 4200))
    client.force_login(MembershipFactory(organization=listing.organization, role=Role.MEMBER).user)
    url = f"/fabric/listings/{listing.pk}/revenue/"

    empty = client.get(url).content.decode()
    assert "No verified revenue yet" in empty
    assert "Not connected." in empty
    assert 'name="csrfmiddlewaretoken"' in empty

    refused = client.post(url, {"api_key": "sk_live_51PqRsTuVwXyZaBcDeFgHiJkLmNoPq01234"})
    assert refused.status_code == 400
    assert "Use a restricted key" in refused.content.decode()
    assert not StripeConnection.objects.exists()

    connected = client.post(url, {"api_key": KEY})
    assert connected.status_code == 303
    assert [str(m) for m in get_messages(connected.wsgi_request)] == [
        f"Stripe is connected (test mode key …{KEY[-4:]})."
    ]

    with django_capture_on_commit_callbacks(execute=True):  # the task runs eagerly in tests
        started = client.post(f"{url}verify")
    assert started.status_code == 303
    assert "Verification started" in str(list(get_messages(started.wsgi_request)))
    page = client.get(url).content.decode()
    assert RevenueRecord.objects.count() == 4
    assert '<strong data-testid="revenue-verified">$72.00</strong>' in page  # 30 + 42
    assert "ch_3PageCharge" in page
    assert f"https://etherscan.io/tx/{tx_hash('A')}" in page
    assert "1 unpriced (not counted)" in page
    assert KEY not in page

    gone = client.post(f"{url}stripe/disconnect", follow=True).content.decode()
    assert "Stripe is disconnected" in gone
    assert not StripeConnection.objects.exists()
    assert '<strong data-testid="revenue-verified">$30.00</strong>' in gone
    assert RevenueRecord.objects.count() == 4  # the records stay


def test_viewers_see_strangers_do_not(client, listing, stripe_server):
    url = f"/fabric/listings/{listing.pk}/revenue/"
    client.force_login(MembershipFactory(organization=listing.organization, role=Role.VIEWER).user)
    page = client.get(url)
    assert page.status_code == 200
    assert "Connect Stripe" not in page.content.decode()
    assert client.post(url, {"api_key": KEY}).status_code == 403
    assert client.post(f"{url}verify").status_code == 403

    client.force_login(MembershipFactory(role=Role.OWNER).user)
    assert client.get(url).status_code == 404  # even a published, public listing
    assert client.post(url, {"api_key": KEY}).status_code == 404
    assert not StripeConnection.objects.exists()
    assert not RevenueRecord.objects.exists()
    assert stripe_server.requests == []

    client.logout()
    assert client.get(url).status_code == 302
