"""FABRIC's deal with the keyboard alone (issue 15, accessibility): the NDA signed, an
offer made, countered and accepted, and the escrow opened and funded, in headless
Chromium with no click, only Tab, typing, Space and Enter. Every element Tab lands on
must show its focus ring (`fabrknt.tests.browser.tab_to`); each step's outcome is the
row stored. The wallets are the mouse journeys' injected providers: the NDA's signs with
a real eth-account key, the escrow's sends to a py-evm chain running the escrow."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from accounts.tests.test_browser_signin import SIGNER
from fabric.models import (
    EscrowStatus,
    EscrowTransaction,
    Listing,
    ListingStatus,
    NDASignature,
    Offer,
    OfferStatus,
)
from fabric.services.escrow_monitor import escrows_monitor
from fabric.tests.deals import deal_world
from fabric.tests.escrow_browser import (  # noqa: F401  (fixtures)
    chain_fixture,
    sending_wallet_page,
    world_fixture,
)
from fabric.tests.escrow_chain import (  # noqa: F401  (fixtures)
    escrow_chain_fixture,
    escrow_chain_module_fixture,
)
from fabric.tests.factories import DataRoomDocumentFactory, ListingFactory
from fabric.tests.test_browser_nda import live_host, wallet_page  # noqa: F401  (fixtures)
from fabrknt.tests.browser import signed_in_context, tab_to

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _press(page: Page, predicate: str, key: str = "Enter") -> None:
    tab_to(page, predicate)
    page.keyboard.press(key)


def test_a_buyer_signs_in_and_signs_the_nda_by_keyboard(
    live_server,
    live_host,  # noqa: F811
    wallet_page,  # noqa: F811
):
    listing = ListingFactory(title="Keyed Swap", nda_text="Keep it secret.")
    DataRoomDocumentFactory(listing=listing, title="Cap table")
    page, signed, errors = wallet_page(account=SIGNER.address, key=SIGNER)
    url = f"{live_server.url}/fabric/listings/{listing.pk}/"
    page.goto(url)

    _press(page, "el.textContent.includes('Sign in to sign the NDA')")
    page.wait_for_url("**/signin?**")
    _press(page, "el.textContent.includes('Sign in with Ethereum wallet')")
    page.wait_for_url(url)
    # The NDA's text scrolls in its own box, reached by Tab; then the wallet, then the
    # button, which Space presses.
    tab_to(page, "el.dataset.testid === 'nda-text'")
    tab_to(page, "el.id === 'nda-wallet'")
    _press(page, "el.id === 'nda-sign-button'", "Space")
    page.get_by_test_id("gated").wait_for()

    signature = NDASignature.objects.get()
    assert (signature.listing_id, signature.buyer_wallet) == (listing.pk, SIGNER.address)
    assert len(signed) == 2 and signed[1] == signature.message
    assert page.get_by_test_id("documents").inner_text() == "Cap table"
    assert errors == []


def _counter(page: Page, offer: Offer, amount: str) -> None:
    """Open the card's "Counter with another amount", type the amount over the one filled
    in, and send it."""
    _press(page, "el.tagName === 'SUMMARY' && el.textContent.includes('Counter with')")
    _press(page, "el.name === 'amount_usd' && el.form.id.startsWith('counter')", "Control+A")
    page.keyboard.type(amount)
    tab_to(page, "el.type === 'submit' && el.textContent.includes('Send the counter')")
    with page.expect_navigation(url=f"**/fabric/offers/{offer.pk}/"):
        page.keyboard.press("Enter")


def test_an_offer_made_countered_and_accepted_by_keyboard(live_server, browser):
    deal = deal_world()
    offers_url = f"{live_server.url}/fabric/listings/{deal.listing.pk}/offers/"
    buyer_context = signed_in_context(browser, live_server, deal.buyer)
    seller_context = signed_in_context(browser, live_server, deal.seller)
    buyer, seller = buyer_context.new_page(), seller_context.new_page()

    # The buyer's offer: the paying wallet (its only choice), the amount and the terms.
    buyer.goto(offers_url)
    tab_to(buyer, "el.name === 'buyer_wallet'")
    _press(buyer, "el.name === 'amount_usd'", "Control+A")
    buyer.keyboard.type("150000")
    tab_to(buyer, "el.name === 'terms'")
    buyer.keyboard.type("Two founders stay for three months.")
    _press(buyer, "el.type === 'submit' && el.textContent.includes('Send the offer')")
    buyer.wait_for_url("**/fabric/offers/*/")
    offer = Offer.objects.get()
    assert (offer.amount_usd, offer.buyer_wallet) == (150000, deal.buyer_wallet.address)

    # The seller counters from the offers page, the buyer counters back from the offer's.
    seller.goto(offers_url)
    _counter(seller, offer, "190000")
    assert (Offer.objects.get().amount_usd, Offer.objects.get().awaiting) == (190000, "buyer")
    buyer.reload()
    _counter(buyer, offer, "170000")
    assert (Offer.objects.get().amount_usd, Offer.objects.get().awaiting) == (170000, "seller")

    # The seller accepts in the confirm dialog: focus moves into it.
    seller.reload()
    _press(seller, "el.tagName === 'A' && el.textContent.trim() === 'Accept'")
    dialog = seller.locator("#modal")
    expect(dialog).to_be_visible()
    assert seller.evaluate(
        "() => document.getElementById('modal').contains(document.activeElement)"
    )
    _press(seller, "el.textContent.includes('Accept the offer')")
    seller.wait_for_url(f"**/fabric/offers/{offer.pk}/")
    expect(seller.get_by_test_id("offer-status").first).to_have_text("accepted")

    offer.refresh_from_db()
    assert (offer.status, offer.amount_usd) == (OfferStatus.ACCEPTED, 170000)
    assert list(offer.steps.order_by("created_at").values_list("action", "party")) == [
        ("made", "buyer"),
        ("countered", "seller"),
        ("countered", "buyer"),
        ("accepted", "seller"),
    ]
    assert Listing.objects.get().status == ListingStatus.UNDER_OFFER
    buyer_context.close()
    seller_context.close()


def test_the_buyer_opens_and_funds_the_escrow_by_keyboard(browser, live_server, chain, world):
    sent: list[dict] = []
    page, errors = sending_wallet_page(
        browser, live_server, chain, world.buyer, account=chain.buyer.lower(), sent=sent
    )
    # From the accepted offer to the escrow's form (filled in for it), then to the deal.
    page.goto(live_server.url + reverse("fabric:offer", args=[world.offer.pk]))
    _press(page, "el.dataset.testid === 'offer-escrow-open'")
    page.wait_for_url("**/escrow/new/**")
    _press(page, "el.type === 'submit' && el.textContent.includes('Open the escrow')")
    page.wait_for_url("**/fabric/deals/**")
    escrow = EscrowTransaction.objects.get()
    assert (escrow.offer_id, escrow.status) == (world.offer.pk, EscrowStatus.PENDING)

    # The deposit: the step's button, pressed with Space, sends it from the wallet.
    step = page.get_by_test_id("step-create_and_deposit-buyer")
    _press(page, "el.textContent.includes('Open the deal and deposit the payment')", "Space")
    expect(step.get_by_test_id("sent-hash")).to_be_visible()
    assert len(sent) == 1 and int(sent[0]["value"], 16) == 80 * 10**18
    escrows_monitor()
    assert EscrowTransaction.objects.get().status == EscrowStatus.FUNDED
    page.reload()
    expect(page.get_by_test_id("deal-status")).to_contain_text("Funded")
    assert errors == []
