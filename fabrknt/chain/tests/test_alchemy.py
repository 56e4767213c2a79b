"""fabrknt.chain.alchemy: Address Activity deliveries into values."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from fabrknt.chain.alchemy import NETWORK_CHAINS, alchemy_payload_parse
from fabrknt.chain.wire import PayloadError, json_body_parse
from trace.tests.test_webhooks_alchemy import DELIVERY


def test_alchemy_delivery_into_values():
    event = alchemy_payload_parse(json_body_parse(_json(DELIVERY)))

    assert (event.webhook_id, event.event_id, event.network, event.chain) == (
        "wh_k63lg72rxda78gce",
        "whevt_vq499kv7elmlbp2v",
        "ETH_MAINNET",
        "eip155:1",
    )
    eth, usdc, nft = event.activities
    assert (eth.amount, eth.asset, eth.log_index, eth.token_address) == (
        Decimal("1.5"), "ETH", -1, None,
    )  # fmt: skip
    assert (usdc.amount, usdc.log_index, usdc.block_number) == (
        Decimal("293.092129"), 110, 14628004,
    )  # fmt: skip
    # no decimals and no value: an NFT moves, no fungible amount
    assert (nft.amount, nft.asset, nft.log_index) == (Decimal(0), "", 3)


def test_alchemy_value_is_the_fallback_when_raw_amounts_are_missing():
    payload = _json_copy(DELIVERY)
    del payload["event"]["activity"][0]["rawContract"]
    event = alchemy_payload_parse(json_body_parse(_json(payload)))
    # parsed from the JSON text as a Decimal, never through a float
    assert event.activities[0].amount == Decimal("1.5")


def test_alchemy_created_at_may_be_epoch_milliseconds():
    payload = _json_copy(DELIVERY)
    payload["createdAt"] = 1701388800000
    assert alchemy_payload_parse(payload).created_at.isoformat() == "2023-12-01T00:00:00+00:00"


def test_alchemy_networks_map_to_caip2():
    assert NETWORK_CHAINS["BASE_MAINNET"] == "eip155:8453"
    assert NETWORK_CHAINS["ETH_SEPOLIA"] == "eip155:11155111"
    assert NETWORK_CHAINS["ARB_MAINNET"] == "eip155:42161"
    assert NETWORK_CHAINS["OPT_MAINNET"] == "eip155:10"
    assert NETWORK_CHAINS["MATIC_MAINNET"] == "eip155:137"
    assert NETWORK_CHAINS["BASE_SEPOLIA"] == "eip155:84532"


def test_payload_errors_have_drf_shape():
    with pytest.raises(PayloadError) as raised:
        alchemy_payload_parse({"type": "ADDRESS_ACTIVITY"})
    assert raised.value.errors == {
        "webhookId": ["Field required"],
        "id": ["Field required"],
        "createdAt": ["Field required"],
        "event": ["Field required"],
    }


def _json(payload) -> bytes:
    return json.dumps(payload).encode()


def _json_copy(payload):
    return json.loads(json.dumps(payload))


def test_an_erc1155_batch_is_one_transfer_per_item():
    payload = _json_copy(DELIVERY)
    nft = payload["event"]["activity"][2]
    nft.update(category="erc1155", erc721TokenId=None)
    nft["erc1155Metadata"] = [
        {"tokenId": "0x7", "value": "0x3"},
        {"tokenId": "0x9", "value": "0x1"},
    ]
    nft["rawContract"]["rawValue"] = "0x" + "0" * 640  # the log's data, not an amount

    event = alchemy_payload_parse(payload)

    assert (event.received, event.unparsed) == (3, [])
    batch = event.activities[2:]
    assert [(t.token_id, t.amount, t.raw_amount, t.log_index, t.batch_item) for t in batch] == [
        (7, Decimal(3), 3, 3, 0),
        (9, Decimal(1), 1, 3, 1),
    ]


def test_an_activity_of_another_shape_is_set_aside_with_its_reason():
    payload = _json_copy(DELIVERY)
    payload["event"]["activity"][0]["typeTraceAddress"] = "call_0_1"
    payload["event"]["activity"][1]["log"]["blockTimestamp"] = "0x65af6fff"
    payload["event"]["activity"][2]["blockNum"] = "12"

    event = alchemy_payload_parse(json_body_parse(_json(payload)))

    eth, usdc = event.activities
    assert (eth.trace_address, usdc.block_time.isoformat()) == (
        "call_0_1",
        "2024-01-23T07:51:27+00:00",
    )
    (unparsed,) = event.unparsed
    assert (unparsed.index, unparsed.reason) == (
        2,
        "blockNum: Value error, Expected a 0x-prefixed hex quantity.",
    )
