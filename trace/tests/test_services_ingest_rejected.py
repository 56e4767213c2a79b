"""Items of a delivery that cannot be stored are kept with their reason, once."""

from __future__ import annotations

import pytest

from trace.models import InteractionSource, RejectedActivity
from trace.services.ingest import RejectedItem, rejected_activities_record

pytestmark = pytest.mark.django_db


def test_rejected_items_are_recorded_once_per_delivery_item():
    rejected = [
        RejectedItem(index=2, reason="blockNum: not a hex quantity", item={"blockNum": "x"}),
        RejectedItem(index=5, reason="r" * 900, item={"hash": None}),
    ]
    kwargs = {"source": InteractionSource.ALCHEMY, "delivery_id": "whevt_1", "chain": "eip155:1"}

    rejected_activities_record(rejected=rejected, **kwargs)
    rejected_activities_record(rejected=rejected, **kwargs)  # the provider's retry

    rows = list(RejectedActivity.objects.order_by("item_index"))
    assert [(r.item_index, r.item) for r in rows] == [(2, {"blockNum": "x"}), (5, {"hash": None})]
    assert rows[0].reason == "blockNum: not a hex quantity"
    assert len(rows[1].reason) == 500
    assert {r.chain for r in rows} == {"eip155:1"}


def test_rejected_items_admin_lists_them(admin_client):
    rejected_activities_record(
        source=InteractionSource.HELIUS,
        delivery_id="5sig",
        chain="solana:mainnet",
        rejected=[RejectedItem(index=0, reason="feePayer: not a Solana address", item={})],
    )
    response = admin_client.get("/admin/trace/rejectedactivity/")
    assert response.status_code == 200
    assert b"feePayer: not a Solana address" in response.content
