"""An offer through the pages in headless Chromium: a buyer (NDA signed by the factories)
makes an offer on the listing's offers page; the seller, signed in in another browser
context, accepts it through the confirm dialog; the buyer then sees it accepted. (Both
sides' pages at 390 px with axe-core are test_browser_every_page's.)"""

from __future__ import annotations

import pytest

from fabric.models import Listing, ListingStatus, Offer, OfferStatus
from fabric.tests.deals import deal_world
from fabrknt.tests.browser import signed_in_context

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _signed_in(browser, live_server, user):
    context = signed_in_context(browser, live_server, user)
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
