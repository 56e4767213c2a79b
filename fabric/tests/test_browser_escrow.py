"""The escrow's deposit sent from the deal page in a real browser (headless Chromium,
Playwright). The wallet is an injected EIP-1193 provider whose eth_sendTransaction is
answered by the test: it records the parameters and sends them, from the buyer's
account, to a py-evm chain running the escrow's committed bytecode. The monitor then
reads the chain and the page shows the deal funded."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from eth_account import Account
from playwright.sync_api import Browser, expect

from fabric.models import EscrowStatus, EscrowTransaction
from fabric.services.escrow import escrow_opening_transactions
from fabric.services.escrow_monitor import escrows_monitor
from fabric.tests.escrow_chain import (  # noqa: F401  (fixtures)
    EscrowChain,
    escrow_chain_fixture,
    escrow_chain_module_fixture,
)
from fabric.tests.escrow_world import DealWorld, deal_world, escrow_deployed
from fabrknt.chain.evm import evm_client_override
from fabrknt.tests.browser import PHONE, axe_violations, horizontal_overflow
from trace.tests.factories import asset_price

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BUYER_KEY = "0x" + "0" * 63 + "3"  # eth-tester's accounts[2]

WALLET = """
(() => {
  const account = "%(account)s";
  window.ethereum = {
    on: () => {},
    request: async ({ method, params }) => {
      if (method === "eth_accounts" || method === "eth_requestAccounts") return [account];
      if (method === "eth_chainId") return "%(chain_id)s";
      if (method === "eth_sendTransaction") {
        const answer = await window.pySend(params[0]);
        if (answer.rejected) throw { code: 4001, message: "User rejected the request." };
        return answer.hash;
      }
      throw { code: 4200, message: "Unsupported method " + method };
    },
  };
})();
"""


@pytest.fixture(name="chain")
def chain_fixture(escrow_chain: EscrowChain, settings) -> Iterator[EscrowChain]:
    settings.ESCROW_CONFIRMATIONS = 0
    chain_id = f"eip155:{escrow_chain.w3.eth.chain_id}"
    asset_price(chain_id, "native", timezone.now().date() - dt.timedelta(days=1), "2500.00")
    escrow_deployed(chain_id, escrow_chain.escrow.address)
    with evm_client_override(chain_id, escrow_chain.w3):
        yield escrow_chain


@pytest.fixture(name="world")
def world_fixture(chain: EscrowChain) -> DealWorld:
    return deal_world(
        chain=f"eip155:{chain.w3.eth.chain_id}",
        seller_wallet=chain.seller,
        buyer_account=Account.from_key(BUYER_KEY),
    )


def _page(browser: Browser, live_server, chain: EscrowChain, user, *, account: str, sent: list):
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport=PHONE)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    page.set_default_timeout(8000)
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))

    def py_send(params: dict) -> dict:
        sent.append(params)
        transaction = {**params, "value": int(params["value"], 16)}
        tx_hash = chain.w3.eth.send_transaction(transaction)  # type: ignore[arg-type]
        return {"hash": tx_hash.to_0x_hex()}

    page.expose_function("pySend", py_send)
    page.add_init_script(WALLET % {"account": account, "chain_id": hex(chain.w3.eth.chain_id)})
    return page, errors


def test_the_deposit_is_sent_from_the_deal_page(browser, live_server, chain, world):
    sent: list[dict] = []
    page, errors = _page(
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
    page, _ = _page(browser, live_server, chain, world.buyer, account=other, sent=sent)
    page.goto(f"{live_server.url}{reverse('fabric:escrow-new', args=[world.listing.pk])}")
    page.get_by_role("button", name="Open the escrow").click()
    page.wait_for_url("**/fabric/deals/**")
    step = page.get_by_test_id("step-create_and_deposit-buyer")
    step.get_by_role("button").click()
    expect(step.get_by_role("status")).to_contain_text("This step must be sent from")
    assert sent == []
