"""An offer through the pages in headless Chromium: a buyer (NDA signed by the factories)
makes an offer on the listing's offers page; the seller, signed in in another browser
context, accepts it through the confirm dialog; the buyer then sees it accepted."""

from __future__ import annotations

import pytest
from django.test import Client

from fabric.models import Listing, ListingStatus, Offer, OfferStatus
from fabric.tests.deals import deal_pages, deal_world
from fabric.tests.factories import OfferFactory
from fabrknt.tests.browser import PHONE, axe_violations, horizontal_overflow, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _signed_in(browser, live_server, user, viewport=None):
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport=viewport) if viewport else browser.new_context()
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    page.set_default_timeout(30000)
    return context, page


def test_the_buyer_offers_and_the_seller_accepts(live_server, browser):
    deal = deal_world()
    offers_url = f"{live_server.url}/fabric/listings/{deal.listing.pk}/offers/"
    buyer_context, buyer = _signed_in(browser, live_server, deal.buyer)

    buyer.goto(offers_url)
    buyer.get_by_label("Paying wallet").select_option(deal.buyer_wallet.address)
    buyer.get_by_label("Amount (USD)").fill("180000")
    buyer.get_by_label("Terms").fill("Two founders stay for three months.")
    buyer.get_by_role("button", name="Send the offer").click()
    buyer.wait_for_url("**/fabric/offers/*/")
    assert buyer.get_by_test_id("offer-status").first.inner_text() == "open"
    assert "Waiting for the seller." in buyer.content()
    offer = Offer.objects.get()
    assert (offer.amount_usd, offer.buyer_wallet) == (180000, deal.buyer_wallet.address)

    seller_context, seller = _signed_in(browser, live_server, deal.seller)
    seller.goto(offers_url)
    card = seller.get_by_test_id(f"offer-{offer.pk}")
    assert "180000.00 USD" in card.inner_text()
    card.get_by_role("link", name="Accept").click()
    dialog = seller.locator("#modal")
    dialog.get_by_role("button", name="Accept the offer").click()
    seller.wait_for_url(f"**/fabric/offers/{offer.pk}/")
    assert seller.get_by_test_id("offer-status").first.inner_text() == "accepted"

    buyer.reload()
    assert buyer.get_by_test_id("offer-status").first.inner_text() == "accepted"
    assert "Accepted by the seller" in buyer.get_by_test_id("timeline").inner_text()
    assert Offer.objects.get().status == OfferStatus.ACCEPTED
    assert Listing.objects.get().status == ListingStatus.UNDER_OFFER
    buyer_context.close()
    seller_context.close()


def test_the_pages_fit_a_phone_and_pass_axe_for_both_sides(live_server, browser):
    """The buyer's side (the offer form, their offer, their thread, the inbox) and the
    seller's (every-page test's pages, `deal_pages`), at 390 px with axe-core."""
    deal = deal_world()
    offer = OfferFactory(
        listing=deal.listing,
        wallet=deal.buyer_wallet,
        amount_usd=180000,
        terms="A rather long term: " + "handover " * 20,
    )
    messages = f"/fabric/listings/{deal.listing.pk}/messages/"
    as_buyer = [
        f"/fabric/listings/{deal.listing.pk}/offers/",
        f"/fabric/offers/{offer.pk}/",
        f"/fabric/offers/{offer.pk}/withdraw",
        messages,
        "/fabric/inbox/",
    ]
    as_seller = [path for _, path, _ in deal_pages(deal.organization)]
    failures: list[str] = []
    for user, paths in ((deal.buyer, as_buyer), (deal.seller, as_seller)):
        context, page = _signed_in(browser, live_server, user, viewport=PHONE)
        for path in paths:
            response = page.goto(live_server.url + path)
            assert response is not None and response.status == 200, path
            screenshot(page, "fabric-" + path.strip("/").replace("/", "-")[:60])
            failures.extend(f"{path}: wider than a phone: {o}" for o in horizontal_overflow(page))
            failures.extend(f"{path}: {violation}" for violation in axe_violations(page))
        context.close()
    assert failures == [], "\n".join(failures)
