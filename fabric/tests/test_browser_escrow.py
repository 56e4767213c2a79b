"""The escrow's deposit sent from the deal page in a real browser (headless Chromium,
Playwright). The wallet is an injected EIP-1193 provider whose eth_sendTransaction is
answered by the test: it records the parameters and sends them, from the buyer's
account, to a py-evm chain running the escrow's committed bytecode. The monitor then
reads the chain and the page shows the deal funded."""

from __future__ import annotations

import pytest
from django.urls import reverse
from eth_account import Account
from playwright.sync_api import expect

from fabric.models import EscrowStatus, EscrowTransaction
from fabric.services.escrow import escrow_opening_transactions
from fabric.services.escrow_monitor import escrows_monitor
from fabric.tests.escrow_browser import chain_fixture, sending_wallet_page, world_fixture  # noqa: F401
from fabric.tests.escrow_chain import (  # noqa: F401  (fixtures)
    escrow_chain_fixture,
    escrow_chain_module_fixture,
)
from fabrknt.tests.browser import axe_violations, horizontal_overflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_deposit_is_sent_from_the_deal_page(browser, live_server, chain, world):
    sent: list[dict] = []
    page, errors = sending_wallet_page(
        browser, live_server, chain, world.buyer, account=chain.buyer.lower(), sent=sent
    )
    # The buyer opens the escrow for its accepted offer (the form is filled in for it).
    new_url = reverse("fabric:escrow-new", args=[world.listing.pk])
    page.goto(f"{live_server.url}{new_url}?offer={world.offer.pk}")
    page.get_by_role("button", name="Open the escrow").click()
    page.wait_for_url("**/fabric/deals/**")
    escrow = EscrowTransaction.objects.get()
    assert page.url == live_server.url + reverse("fabric:deal", args=[escrow.pk])
    assert axe_violations(page) == [] and horizontal_overflow(page) == []

    step = page.get_by_test_id("step-create_and_deposit-buyer")
    step.get_by_role("button", name="Open the deal and deposit the payment").click()
    expect(step.get_by_test_id("sent-hash")).to_be_visible()
    # The wallet was asked exactly the API's transaction.
    (deposit,) = escrow_opening_transactions(escrow)
    assert sent == [
        {
            "from": deposit.sender,
            "to": deposit.to,
            "data": deposit.data,
            "value": hex(deposit.value),
        }
    ]
    assert deposit.value == 80 * 10**18
    tx_hash = step.get_by_test_id("sent-hash").inner_text()
    assert chain.w3.eth.get_transaction_receipt(tx_hash)["status"] == 1

    # The monitor reads the chain; the page shows the deal funded, with its transactions.
    escrows_monitor()
    assert EscrowTransaction.objects.get().status == EscrowStatus.FUNDED
    page.reload()
    expect(page.get_by_test_id("deal-status")).to_contain_text("Funded")
    expect(page.get_by_test_id("deal-transactions")).to_contain_text(tx_hash)
    expect(page.get_by_test_id("step-approve-buyer")).to_be_visible()
    assert errors == []


def test_a_wallet_on_another_account_sends_nothing(browser, live_server, chain, world):
    sent: list[dict] = []
    other = Account.create().address
    page, _ = sending_wallet_page(
        browser, live_server, chain, world.buyer, account=other, sent=sent
    )
    page.goto(f"{live_server.url}{reverse('fabric:escrow-new', args=[world.listing.pk])}")
    page.get_by_role("button", name="Open the escrow").click()
    page.wait_for_url("**/fabric/deals/**")
    step = page.get_by_test_id("step-create_and_deposit-buyer")
    step.get_by_role("button").click()
    expect(step.get_by_role("status")).to_contain_text("This step must be sent from")
    assert sent == []
