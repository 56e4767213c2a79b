"""fabrknt.chain.helius: enhanced-transaction deliveries into values."""

from __future__ import annotations

import json
from decimal import Decimal

from fabrknt.chain.helius import helius_payload_parse
from fabrknt.chain.wire import json_body_parse
from trace.tests.test_webhooks_helius import DELIVERY


def test_helius_delivery_into_values():
    swap, transfer, _, failed = helius_payload_parse(json_body_parse(json.dumps(DELIVERY).encode()))

    assert swap.type == "SWAP"
    assert swap.occurred_at.isoformat() == "2025-09-09T13:39:10+00:00"
    assert [t.amount for t in swap.native_transfers] == [Decimal("0.25")]
    assert transfer.native_transfers[0].asset == "SOL"
    assert (swap.failed, failed.failed) == (False, True)
