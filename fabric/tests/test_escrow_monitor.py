"""Whole deals on py-evm against FabrkntEscrow's committed bytecode, driven through the API
and followed by the monitor: the buyer's transactions are those `POST /api/v1/escrow/init`
returns and the parties' next ones those `GET /api/v1/escrow/{id}` lists, each sent from
the party's eth-tester account; `monitor_escrows` then reads the chain."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from eth_account import Account

from accounts.tests.clients import as_user
from fabric.chain.escrow import (
    approve_transaction,
    dispute_transaction,
    refund_approve_transaction,
    settle_transaction,
)
from fabric.models import (
    EscrowCursor,
    EscrowEvent,
    EscrowStatus,
    EscrowTransaction,
    ListingEvent,
    ListingStatus,
)
from fabric.services.escrow_monitor import escrow_monitor_run, escrows_monitor
from fabric.tasks import monitor_escrows
from fabric.tests.escrow_chain import (  # noqa: F401  (fixtures)
    DAY,
    ETHER,
    FEE_BPS,
    NFT_ID,
    REVERTED,
    USDC,
    EscrowChain,
    error_selector,
    escrow_chain_fixture,
    escrow_chain_module_fixture,
    revert_data,
)
from fabric.tests.escrow_world import DealWorld, deal_world, escrow_deployed
from fabrknt.chain.evm import evm_client_override
from trace.tests.factories import asset_price

pytestmark = pytest.mark.django_db

# eth-tester's accounts are the keys 1, 2, 3...: the buyer (accounts[2]) signs its NDA.
BUYER_KEY = "0x" + "0" * 63 + "3"
OFFER = Decimal("200000.00")
WEI = 80 * ETHER  # $200,000 at $2,500


@pytest.fixture(name="chain")
def chain_fixture(escrow_chain: EscrowChain, settings) -> Iterator[EscrowChain]:
    settings.ESCROW_CONFIRMATIONS = 0
    settings.ESCROW_DEADLINE_DAYS = 7
    settings.INDEXER_MAX_BLOCK_RANGE = 1000
    chain_id = f"eip155:{escrow_chain.w3.eth.chain_id}"
    yesterday = timezone.now().date() - dt.timedelta(days=1)
    asset_price(chain_id, "native", yesterday, "2500.00")
    asset_price(chain_id, escrow_chain.usdc.address, yesterday, "1.00", symbol="USDC", decimals=6)
    escrow_deployed(chain_id, escrow_chain.escrow.address)
    with evm_client_override(chain_id, escrow_chain.w3):
        yield escrow_chain


def _chain_id(chain: EscrowChain) -> str:
    return f"eip155:{chain.w3.eth.chain_id}"


def _world(chain: EscrowChain) -> DealWorld:
    world = deal_world(
        chain=_chain_id(chain),
        seller_wallet=chain.seller,
        buyer_account=Account.from_key(BUYER_KEY),
        offer_amount=OFFER,
    )
    assert world.buyer_wallet == chain.buyer
    return world


def _open(world: DealWorld, **extra) -> dict:
    body = {
        "listing_id": str(world.listing.pk),
        "buyer_wallet": world.buyer_wallet,
        "amount_usd": str(OFFER),
        "offer_id": str(world.offer.pk),
        **extra,
    }
    response = as_user(world.buyer).post("/api/v1/escrow/init", body)
    assert response.status_code == 201, response.json()
    return response.json()


def _send(chain: EscrowChain, tx: dict) -> str:
    """Sends an API transaction as the party's wallet would (eth_sendTransaction)."""
    params = {"from": tx["from"], "to": tx["to"], "data": tx["data"], "value": int(tx["value"], 16)}
    tx_hash = chain.w3.eth.send_transaction(params)  # type: ignore[arg-type]
    assert chain.w3.eth.get_transaction_receipt(tx_hash)["status"] == 1
    return tx_hash.to_0x_hex()


def _deal(world: DealWorld, escrow_id: str) -> dict:
    response = as_user(world.buyer).get(f"/api/v1/escrow/{escrow_id}")
    assert response.status_code == 200
    return response.json()


def _steps(deal: dict, party: str, step: str | None = None) -> list[dict]:
    return [
        s for s in deal["next_steps"] if s["party"] == party and (step is None or s["step"] == step)
    ]


def _monitor(chain: EscrowChain) -> int:
    return escrow_monitor_run(chain=_chain_id(chain), contract=chain.escrow.address).stored


def _state() -> list[tuple]:
    """Everything the monitor writes, to compare runs."""
    return [
        *EscrowTransaction.objects.values_list(
            "id", "status", "deal_id", "funded_at", "completed_at", "disputed_at"
        ),
        *EscrowEvent.objects.order_by("id").values_list(
            "id", "event", "tx_hash", "block_hash", "status_after"
        ),
        *ListingEvent.objects.values_list("id", "to_status"),
    ]


def test_a_native_deal_funded_then_released(chain: EscrowChain):
    world = _world(chain)
    opened = _open(world)
    seller_before = chain.balance(None, chain.seller)
    deposit_hash = _send(chain, opened["deposit"])
    assert _monitor(chain) == 3  # DealCreated, PaymentDeposited, Funded

    escrow = EscrowTransaction.objects.get()
    assert (escrow.status, escrow.deal_id) == (EscrowStatus.FUNDED, "1")
    assert escrow.funded_at is not None
    deal = _deal(world, opened["id"])
    assert deal["status"] == "funded"
    assert [(t["event"], t["tx_hash"], t["status_after"]) for t in deal["transactions"]] == [
        ("DealCreated", deposit_hash, "pending"),
        ("PaymentDeposited", deposit_hash, "pending"),
        ("Funded", deposit_hash, "funded"),
    ]
    assert [(s["party"], s["step"]) for s in deal["next_steps"]] == [
        ("buyer", "approve"),
        ("seller", "approve"),
        ("buyer", "dispute"),
        ("seller", "dispute"),
    ]
    # Both approve (the seller's members read the same steps), then one settles.
    seller_view = as_user(world.seller).get(f"/api/v1/escrow/{opened['id']}").json()
    _send(chain, _steps(deal, "buyer", "approve")[0])
    _send(chain, _steps(seller_view, "seller", "approve")[0])
    assert _monitor(chain) == 2
    deal = _deal(world, opened["id"])
    assert deal["status"] == "funded"
    assert [s["step"] for s in _steps(deal, "buyer")] == ["settle", "dispute"]
    settle_hash = _send(chain, _steps(deal, "buyer", "settle")[0])
    assert _monitor(chain) == 1

    escrow.refresh_from_db()
    world.listing.refresh_from_db()
    assert escrow.status == EscrowStatus.RELEASED and escrow.completed_at is not None
    assert world.listing.status == ListingStatus.SOLD and world.listing.sold_at is not None
    sold = ListingEvent.objects.get(listing=world.listing)
    assert (sold.from_status, sold.to_status) == ("under_offer", "sold")
    deal = _deal(world, opened["id"])
    assert deal["transactions"][-1]["event"] == "Settled"
    assert deal["transactions"][-1]["tx_hash"] == settle_hash
    assert deal["next_steps"] == []
    fee = WEI * FEE_BPS // 10_000
    assert chain.balance(None, chain.seller) - seller_before == WEI - fee - _gas_of_seller(chain)

    # Re-running the monitor (and the beat task) changes nothing.
    state = _state()
    assert _monitor(chain) == 0
    assert monitor_escrows() == 0
    assert _state() == state


def _gas_of_seller(chain: EscrowChain) -> int:
    """What the seller's own approval cost it (its only transaction)."""
    spent = 0
    for number in range(chain.w3.eth.block_number + 1):
        for tx in chain.w3.eth.get_block(number, full_transactions=True)["transactions"]:
            if tx["from"] == chain.seller:  # type: ignore[index]
                receipt = chain.w3.eth.get_transaction_receipt(tx["hash"])  # type: ignore[index]
                spent += receipt["gasUsed"] * receipt["effectiveGasPrice"]
    return spent


def test_a_usdc_for_nft_swap_is_funded_once_both_sides_are_in(chain: EscrowChain):
    world = _world(chain)
    swap = {"type": "erc721", "address": chain.nft.address, "token_id": str(NFT_ID)}
    opened = _open(world, asset=chain.usdc.address, swap_asset=swap)
    assert opened["amount"] == str(200_000 * USDC)
    _send(chain, opened["approve"])
    _send(chain, opened["deposit"])
    assert _monitor(chain) == 2  # DealCreated, PaymentDeposited: the NFT is not in yet
    deal = _deal(world, opened["id"])
    assert deal["status"] == "pending"
    assert [(s["party"], s["step"]) for s in deal["next_steps"]] == [
        ("seller", "approve_asset"),
        ("seller", "deposit_asset"),
    ]
    for step in deal["next_steps"]:
        _send(chain, step)
    assert _monitor(chain) == 2  # AssetDeposited, Funded
    deal = _deal(world, opened["id"])
    assert deal["status"] == "funded"
    for party in ("buyer", "seller"):
        _send(chain, _steps(deal, party, "approve")[0])
    _monitor(chain)
    _send(chain, _steps(_deal(world, opened["id"]), "seller", "settle")[0])
    _monitor(chain)
    assert _deal(world, opened["id"])["status"] == "released"
    assert chain.nft.functions.ownerOf(NFT_ID).call() == chain.buyer
    fee = 200_000 * USDC * FEE_BPS // 10_000
    assert chain.balance(chain.usdc, chain.seller) == 200_000 * USDC - fee


def test_refund_after_the_deadline(chain: EscrowChain):
    world = _world(chain)
    opened = _open(world)
    _send(chain, opened["deposit"])
    _monitor(chain)
    deal = _deal(world, opened["id"])
    assert _steps(deal, "buyer", "withdraw") == []  # not before the deadline
    chain.time_travel(8 * DAY)
    # The chain is now past the deadline; the server's clock is not: move the stored
    # deadline back instead of the clock, so the API offers the buyer its withdrawal.
    escrow = EscrowTransaction.objects.get()
    EscrowTransaction.objects.filter(pk=escrow.pk).update(
        deadline=timezone.now() - dt.timedelta(seconds=1)
    )
    deal = _deal(world, opened["id"])
    assert [(s["party"], s["step"]) for s in deal["next_steps"]] == [("buyer", "withdraw")]
    buyer_before = chain.balance(None, chain.buyer)
    _send(chain, deal["next_steps"][0])
    assert _monitor(chain) == 1
    escrow.refresh_from_db()
    world.listing.refresh_from_db()
    assert escrow.status == EscrowStatus.REFUNDED and escrow.completed_at is not None
    assert world.listing.status == ListingStatus.UNDER_OFFER  # not sold
    assert chain.balance(None, chain.buyer) > buyer_before + WEI - ETHER // 100  # less gas
    assert _deal(world, opened["id"])["next_steps"] == []


def test_a_dispute_is_recorded(chain: EscrowChain):
    world = _world(chain)
    opened = _open(world)
    _send(chain, opened["deposit"])
    _monitor(chain)
    _send(chain, _steps(_deal(world, opened["id"]), "seller", "dispute")[0])
    _monitor(chain)
    escrow = EscrowTransaction.objects.get()
    assert escrow.disputed_at is not None and escrow.status == EscrowStatus.FUNDED
    deal = _deal(world, opened["id"])
    # The escrow has an arbiter: after a dispute, only it settles.
    assert [(s["party"], s["step"]) for s in deal["next_steps"]] == [
        ("buyer", "approve"),
        ("seller", "approve"),
    ]


def test_a_reorg_is_rolled_back_and_re_derived(chain: EscrowChain):
    world = _world(chain)
    opened = _open(world)
    before_deposit = chain.w3.testing.snapshot()
    _send(chain, opened["deposit"])
    _send(chain, {"from": chain.owner, "to": chain.stranger, "data": "0x", "value": "0x1"})
    assert _monitor(chain) == 3
    cursor = EscrowCursor.objects.get()
    orphaned = set(EscrowEvent.objects.values_list("block_hash", flat=True))
    assert EscrowTransaction.objects.get().status == EscrowStatus.FUNDED

    # The chain drops those blocks and grows others, at least as high, without the deal.
    chain.w3.testing.revert(before_deposit)
    for n in range(3):
        _send(chain, {"from": chain.owner, "to": chain.stranger, "data": "0x", "value": hex(n + 2)})
    assert chain.w3.eth.block_number >= cursor.last_block
    run = escrow_monitor_run(chain=_chain_id(chain), contract=chain.escrow.address)
    assert (run.rolled_back, run.stored) == (3, 0)
    assert run.fork_block is not None and run.fork_block < cursor.last_block
    escrow = EscrowTransaction.objects.get()
    assert (escrow.status, escrow.deal_id, escrow.funded_at) == (EscrowStatus.PENDING, None, None)
    assert not EscrowEvent.objects.exists()
    deal = _deal(world, opened["id"])
    assert deal["transactions"] == []
    assert [s["step"] for s in deal["next_steps"]] == ["create_and_deposit"]

    # The buyer sends the deposit again: it lands in new blocks.
    _send(chain, opened["deposit"])
    assert _monitor(chain) == 3
    escrow.refresh_from_db()
    assert (escrow.status, escrow.deal_id) == (EscrowStatus.FUNDED, "1")
    assert not orphaned & set(EscrowEvent.objects.values_list("block_hash", flat=True))
    state = _state()
    assert _monitor(chain) == 0
    assert _state() == state


def test_confirmations_hold_back_the_newest_blocks(chain: EscrowChain, settings):
    settings.ESCROW_CONFIRMATIONS = 2
    world = _world(chain)
    opened = _open(world)
    _send(chain, opened["deposit"])
    assert _monitor(chain) == 0
    assert EscrowTransaction.objects.get().status == EscrowStatus.PENDING
    for n in range(2):
        _send(chain, {"from": chain.owner, "to": chain.stranger, "data": "0x", "value": hex(n + 1)})
    assert _monitor(chain) == 3
    assert EscrowTransaction.objects.get().status == EscrowStatus.FUNDED


def test_the_command_and_deals_opened_elsewhere(chain: EscrowChain):
    # A deal someone opened on the contract without us is not recorded.
    terms = chain.terms(reference="not-ours")
    chain.create(terms)
    world = _world(chain)
    _send(chain, _open(world)["deposit"])
    out = StringIO()
    call_command("monitor_escrows", stdout=out)
    head = chain.w3.eth.block_number
    assert out.getvalue() == (
        f"{chain.escrow.address} on {_chain_id(chain)}: blocks 1..{head}, 3 new events\n"
        "3 new escrow events\n"
    )
    assert EscrowTransaction.objects.get().deal_id == "2"
    assert [run.stored for run in escrows_monitor()] == [0]


def test_a_deposit_sent_again_opens_no_second_deal(chain: EscrowChain):
    world = _world(chain)
    opened = _open(world)
    _send(chain, opened["deposit"])
    buyer_before = chain.balance(None, chain.buyer)
    # The buyer's wallet sends the same deposit again (a second click, a retry before the
    # monitor saw the first): refused on chain, so the buyer pays once.
    with pytest.raises(REVERTED) as refused:
        _send(chain, opened["deposit"])
    assert revert_data(refused.value)[:4].hex() == error_selector("DuplicateDeal(uint256)")[2:]
    assert chain.escrow.functions.dealCount().call() == 1
    assert chain.balance(None, chain.buyer) == buyer_before

    assert _monitor(chain) == 3
    escrow = EscrowTransaction.objects.get()
    assert (escrow.status, escrow.deal_id) == (EscrowStatus.FUNDED, "1")
    assert list(EscrowEvent.objects.values_list("event", flat=True)) == [
        "DealCreated",
        "PaymentDeposited",
        "Funded",
    ]


def test_a_deal_others_open_with_our_reference_is_not_ours(chain: EscrowChain):
    world = _world(chain)
    opened = _open(world)
    ours = EscrowTransaction.objects.get()
    # A stranger copies the reference into a deal of its own with the seller, first.
    copied = dataclasses.replace(
        chain.terms(), ref=bytes.fromhex(ours.deal_ref[2:]), buyer=chain.stranger
    )
    chain.create(copied, sender=chain.stranger)
    _send(chain, opened["deposit"])

    assert _monitor(chain) == 3  # the buyer's deal's events only
    ours.refresh_from_db()
    assert (ours.status, ours.deal_id) == (EscrowStatus.FUNDED, "2")
    assert set(EscrowEvent.objects.values_list("tx_hash", flat=True)) == {
        _deal(world, opened["id"])["transactions"][0]["tx_hash"]
    }


def test_approvals_by_a_third_party_are_refused_and_nothing_is_recorded(chain: EscrowChain):
    world = _world(chain)
    _send(chain, _open(world)["deposit"])
    _monitor(chain)
    state = _state()
    escrow = chain.escrow.address
    stranger = chain.stranger
    chain.reverts(approve_transaction(escrow=escrow, deal_id=1, party=stranger), "NotAParty()")
    chain.reverts(
        refund_approve_transaction(escrow=escrow, deal_id=1, party=stranger), "NotAParty()"
    )
    chain.reverts(dispute_transaction(escrow=escrow, deal_id=1, party=stranger), "NotAParty()")
    chain.reverts(settle_transaction(escrow=escrow, deal_id=1, sender=stranger), "NotAllowed()")

    assert _monitor(chain) == 0
    assert _state() == state
    deal = EscrowTransaction.objects.get()
    assert (deal.status, deal.disputed_at) == (EscrowStatus.FUNDED, None)
