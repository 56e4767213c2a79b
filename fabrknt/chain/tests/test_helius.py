"""fabrknt.chain.helius: enhanced-transaction deliveries into values, item by item."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from fabrknt.api.errors import InvalidInput
from fabrknt.chain.helius import helius_cluster_chain, helius_delivery_parse
from trace.tests.test_webhooks_helius import DELIVERY, USDC_MINT, USER_1


def test_helius_delivery_into_values():
    delivery = helius_delivery_parse(json.dumps(DELIVERY).encode())
    swap, transfer, _, failed = delivery.transactions

    assert (delivery.received, delivery.rejected) == (4, [])
    assert swap.type == "SWAP"
    assert swap.occurred_at.isoformat() == "2025-09-09T13:39:10+00:00"
    # A swap is its legs, not its transfers.
    assert [(t.position, t.mint, t.amount, t.raw_amount) for t in swap.transfers] == [
        ("swap:in:native", None, Decimal("0.25"), 250_000_000),
        ("swap:out:0", USDC_MINT, Decimal("37.1"), 37_100_000),
    ]
    assert swap.is_event and not transfer.is_event
    assert [(t.position, t.to_account) for t in swap.transfers] == [
        ("swap:in:native", None),
        ("swap:out:0", USER_1),
    ]
    assert transfer.transfers[0].position == "native:0"
    assert (swap.failed, failed.failed) == (False, True)


def test_an_unreadable_item_is_handed_back_with_its_reason():
    delivery = helius_delivery_parse(json.dumps([DELIVERY[1], {"slot": 1}]).encode())

    assert len(delivery.transactions) == 1
    [rejected] = delivery.rejected
    assert (rejected.index, rejected.item) == (1, {"slot": 1})
    assert rejected.delivery_id.startswith("sha256:")
    assert "signature: Field required" in rejected.reason


@pytest.mark.parametrize(
    ("cluster", "chain"),
    [(None, "solana:mainnet"), ("mainnet", "solana:mainnet"), ("devnet", "solana:devnet")],
)
def test_the_cluster_of_a_webhook_is_its_chain(cluster, chain):
    assert helius_cluster_chain(cluster) == chain


def test_a_cluster_helius_does_not_serve_is_refused():
    with pytest.raises(InvalidInput):
        helius_cluster_chain("testnet")
