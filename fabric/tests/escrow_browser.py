"""The escrow's browser world: a py-evm chain with the escrow deployed (its price and
deployment known to the app), a listing with the buyer's accepted offer, and a page whose
injected EIP-1193 wallet sends what it is asked to that chain from the buyer's account
(eth_sendTransaction answered by the test, the parameters recorded)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.utils import timezone
from eth_account import Account
from playwright.sync_api import Browser, Page

from fabric.tests.escrow_chain import EscrowChain
from fabric.tests.escrow_world import DealWorld, deal_world, escrow_deployed
from fabrknt.chain.evm import evm_client_override
from fabrknt.tests.browser import PHONE, signed_in_context
from trace.tests.factories import asset_price

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


def sending_wallet_page(
    browser: Browser, live_server, chain: EscrowChain, user, *, account: str, sent: list
) -> tuple[Page, list[str]]:
    """`user`'s page on a phone, its wallet on `account`; the console errors."""
    context = signed_in_context(browser, live_server, user, viewport=PHONE)
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
