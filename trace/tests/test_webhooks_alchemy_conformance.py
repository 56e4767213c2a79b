"""Conformance: every documented shape of an Alchemy Address Activity delivery, stored
field by field (PostgreSQL).

The fixtures are written here from Alchemy's documentation, not copied:

- the payload and its fields (categories `external`, `internal`, `token`, `erc20`,
  `erc721`, `erc1155`; `erc721TokenId`; `erc1155Metadata` as a list of `{tokenId, value}`
  hex strings; `typeTraceAddress` as "call_0_1"; `rawContract {rawValue, address,
  decimals}`; `value` and `asset` omitted when unknown; `token` also naming ERC-721
  transfers): https://www.alchemy.com/docs/reference/address-activity-webhook
  (alchemyplatform/docs, fern/api-reference/data/webhooks/webhook-types/
  address-activity-webhook.mdx), and the NFT Activity example of an ERC-1155 batch;
- `log.blockTimestamp` (hex seconds), which JSON-RPC log objects carry since
  ethereum/execution-apis#639 (geth 1.16); Alchemy's `log` is such an object;
- the networks: the `network` enum of the Notify API's create-webhook
  (https://www.alchemy.com/docs/reference/create-webhook) with the chain ids of
  alchemy-sdk-js (src/util/const.ts).
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import hmac
import json
from decimal import Decimal

import pytest
from eth_utils import to_checksum_address

from fabrknt.chain.alchemy import NETWORK_CHAINS, TESTNET_CHAINS
from trace.models import NATIVE_ASSET, ContractInteraction
from trace.tests.factories import ProjectFactory, asset_price

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

SIGNING_KEY = "whsec_conformance_9f2c"
DAPP = to_checksum_address("0x5fbdb2315678afecb367f032d93f642f64180aa3")
TREASURY = to_checksum_address("0xbe3f4b43db5eb49d1f48f53443b9abce45da3b79")
USER = to_checksum_address("0x503828976d22510aad0201ac7ec88293211d23da")
USDC = to_checksum_address("0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48")
NFT = to_checksum_address("0x93c46aa4ddfd0413d95d0ef3c478982997ce9861")
MULTI = to_checksum_address("0x88b48f654c30e99bc2e4a1559b4dcf1ad93fa656")
BLOCK_A, BLOCK_B = 0xDF34A3, 0xDF34A4
BLOCK_A_TIME = dt.datetime(2024, 1, 22, 23, 59, 47, tzinfo=dt.UTC)  # the day before
DELIVERED = dt.datetime(2024, 1, 23, 7, 42, 26, 411977, tzinfo=dt.UTC)
TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
SINGLE_TOPIC = "0xc3d58168c5ae7397731d063d5bbf3d657854427343f4c083240f7aacaa2d0f62"
BATCH_TOPIC = "0x4a39dc06d4c0dbc64b70af90fd698a233a518aa5d07e595d983b8c0526c8f7fb"


def tx(n: int) -> str:
    return "0x" + f"{n:02x}" * 32


def word(value: int | str) -> str:
    return (value[2:].lower() if isinstance(value, str) else f"{value:x}").rjust(64, "0")


def log(emitter: str, tx_hash: str, index: int, block: int, topics: list[str], data: str):
    return {
        "address": emitter.lower(),
        "topics": topics,
        "data": data,
        "blockNumber": hex(block),
        "transactionHash": tx_hash,
        "transactionIndex": "0x2",
        "blockHash": "0x" + "ab" * 32,
        "logIndex": hex(index),
        "removed": False,
    }


def activity(category: str, tx_hash: str, sender: str, recipient: str | None, **fields):
    return {
        "blockNum": hex(BLOCK_B),
        "hash": tx_hash,
        "fromAddress": sender.lower(),
        "toAddress": recipient.lower() if recipient else None,
        "value": None,
        "erc721TokenId": None,
        "erc1155Metadata": None,
        "asset": None,
        "category": category,
        "rawContract": {"rawValue": "0x", "address": None, "decimals": None},
        "typeTraceAddress": None,
        **fields,
    }


def usdc_transfer(category: str, tx_hash: str, index: int, block: int, **log_fields):
    amount = 293092129
    data = "0x" + word(amount)
    return activity(
        category, tx_hash, USER, TREASURY, blockNum=hex(block), value=Decimal("293.092129"),
        asset="USDC",
        rawContract={"rawValue": data, "address": USDC.lower(), "decimals": 6},
        log={**log(USDC, tx_hash, index, block, [TRANSFER_TOPIC, "0x" + word(USER),
                                                  "0x" + word(TREASURY)], data), **log_fields},
    )  # fmt: skip


def nft_transfer(category: str, tx_hash: str, token_id: int):
    topics = [TRANSFER_TOPIC, "0x" + word(USER), "0x" + word(TREASURY), "0x" + word(token_id)]
    return activity(
        category, tx_hash, USER, TREASURY, erc721TokenId=hex(token_id),
        rawContract={"rawValue": "0x", "address": NFT.lower()},
        log=log(NFT, tx_hash, 4, BLOCK_B, topics, "0x"),
    )  # fmt: skip


def erc1155_transfer(tx_hash: str, items: list[tuple[int, int]], index: int):
    if len(items) == 1:
        topic = SINGLE_TOPIC
        data = "0x" + word(items[0][0]) + word(items[0][1])
    else:
        topic = BATCH_TOPIC
        ids = [word(0x40), word(0x60 + 0x20 * len(items)), word(len(items))]
        data = "0x" + "".join(
            ids + [word(i) for i, _ in items] + [word(len(items))] + [word(v) for _, v in items]
        )
    topics = [topic, "0x" + word(USER), "0x" + word(USER), "0x" + word(TREASURY)]
    return activity(
        "erc1155", tx_hash, USER, TREASURY,
        erc1155Metadata=[{"tokenId": hex(i), "value": hex(v)} for i, v in items],
        rawContract={"rawValue": data, "address": MULTI.lower()},
        log=log(MULTI, tx_hash, index, BLOCK_B, topics, data),
    )  # fmt: skip


FIXTURES = {
    # a user pays the dapp 1.5 ETH at the top level: no log, no trace address
    "external": activity(
        "external", tx(1), USER, DAPP, blockNum=hex(BLOCK_A), value=Decimal("1.5"), asset="ETH",
        rawContract={"rawValue": hex(15 * 10**17), "address": None, "decimals": 18},
    ),
    # the dapp pays the user 0.25 ETH back from inside the same transaction: a trace
    "internal": activity(
        "internal", tx(1), DAPP, USER, blockNum=hex(BLOCK_A), value=Decimal("0.25"),
        asset="ETH", typeTraceAddress="call_0_2",
        rawContract={"rawValue": hex(25 * 10**16), "address": None, "decimals": 18},
    ),
    # USDC to the treasury, its log carrying the block's time
    "token": usdc_transfer("token", tx(2), 0x6E, BLOCK_A,
                           blockTimestamp=hex(int(BLOCK_A_TIME.timestamp()))),
    "erc20": usdc_transfer("erc20", tx(3), 0x6F, BLOCK_B),
    # an NFT under `token`, as the docs say the category also names ERC-721 transfers
    "token (erc721)": nft_transfer("token", tx(4), 1),
    "erc721": nft_transfer("erc721", tx(5), 0x2A),
    "erc1155 single": erc1155_transfer(tx(6), [(7, 3)], 0x10),
    "erc1155 batch": erc1155_transfer(tx(7), [(7, 2), (8, 5)], 0x11),
    # a contract created by the treasury: no recipient; value and asset omitted
    "creation": {
        key: value
        for key, value in activity("external", tx(8), TREASURY, None).items()
        if key not in ("value", "asset", "rawContract")
    },
}  # fmt: skip

# (fixture, transfer_position, wallet, from, to, contract, amount, asset, asset_address,
#  value_usd, unpriced_reason, block, occurred_at, occurred_at_source)
EXPECTED = [
    ("external", "external", USER, USER, DAPP, DAPP, "1.5", "ETH", NATIVE_ASSET, "3750.00", "",
     BLOCK_A, BLOCK_A_TIME, "block"),
    ("internal", "internal:call_0_2", USER, DAPP, USER, DAPP, "0.25", "ETH", NATIVE_ASSET,
     "625.00", "", BLOCK_A, BLOCK_A_TIME, "block"),
    ("token", "log:110", USER, USER, TREASURY, TREASURY, "293.092129", "USDC", USDC, "293.09",
     "", BLOCK_A, BLOCK_A_TIME, "block"),
    ("erc20", "log:111", USER, USER, TREASURY, TREASURY, "293.092129", "USDC", USDC, "293.09",
     "", BLOCK_B, DELIVERED, "delivery"),
    ("token (erc721)", "log:4", USER, USER, TREASURY, TREASURY, "0", "", "", "0.00",
     "not_fungible", BLOCK_B, DELIVERED, "delivery"),
    ("erc721", "log:4", USER, USER, TREASURY, TREASURY, "0", "", "", "0.00", "not_fungible",
     BLOCK_B, DELIVERED, "delivery"),
    ("erc1155 single", "log:16", USER, USER, TREASURY, TREASURY, "3", "", "", "0.00",
     "not_fungible", BLOCK_B, DELIVERED, "delivery"),
    ("erc1155 batch", "log:17:0", USER, USER, TREASURY, TREASURY, "2", "", "", "0.00",
     "not_fungible", BLOCK_B, DELIVERED, "delivery"),
    ("erc1155 batch", "log:17:1", USER, USER, TREASURY, TREASURY, "5", "", "", "0.00",
     "not_fungible", BLOCK_B, DELIVERED, "delivery"),
]  # fmt: skip


def delivery(activities: list[dict], network: str = "ETH_MAINNET") -> dict:
    return {
        "webhookId": "wh_conformance01",
        "id": "whevt_conformance01",
        "createdAt": "2024-01-23T07:42:26.411977228Z",
        "type": "ADDRESS_ACTIVITY",
        "event": {"network": network, "activity": activities},
    }


def post(client, payload: dict):
    body = json.dumps(payload, default=str).encode()
    signature = hmac.new(SIGNING_KEY.encode(), body, hashlib.sha256).hexdigest()
    return client.post(
        "/api/v1/webhooks/alchemy",
        data=body,
        content_type="application/json",
        headers={"X-Alchemy-Signature": signature},
    )


@pytest.fixture(autouse=True)
def _configured(settings):
    settings.ALCHEMY_WEBHOOK_SIGNING_KEY = SIGNING_KEY
    settings.CHAIN_RPC_URLS = {}  # no node: blocks without a timestamp take the delivery's
    asset_price("eip155:1", NATIVE_ASSET, dt.date(2024, 1, 22), "2500.00")
    asset_price("eip155:1", NATIVE_ASSET, dt.date(2024, 1, 23), "9999.00")
    asset_price("eip155:1", USDC, dt.date(2024, 1, 22), "1.00")


@pytest.mark.parametrize("expected", EXPECTED, ids=[f"{e[0]} {e[1]}" for e in EXPECTED])
def test_each_documented_shape_is_stored_field_by_field(client, expected):
    (name, position, wallet, sender, recipient, contract, amount, asset, asset_address,
     value_usd, unpriced_reason, block, occurred_at, occurred_at_source) = expected  # fmt: skip
    project = ProjectFactory(
        chain="eip155:1", contract_addresses=[DAPP], treasury_addresses=[TREASURY]
    )
    fixture = copy.deepcopy(FIXTURES[name])
    if block == BLOCK_A and name != "token":  # the block's time comes with the token's log
        payload = delivery([fixture, copy.deepcopy(FIXTURES["token"])])
    else:
        payload = delivery([fixture])

    response = post(client, payload)

    assert response.status_code == 200
    assert response.json()["rejected"] == 0
    row = ContractInteraction.objects.get(
        transaction_hash=fixture["hash"], transfer_position=position
    )
    assert (
        row.project_id, row.chain, row.event_type, row.wallet_address, row.from_address,
        row.to_address, row.contract_address, row.amount, row.asset, row.asset_address,
        row.value_usd, row.unpriced_reason, row.block_number, row.occurred_at,
        row.occurred_at_source, row.source,
    ) == (
        project.id, "eip155:1", fixture["category"], wallet, sender, recipient, contract,
        Decimal(amount), asset, asset_address, Decimal(value_usd), unpriced_reason, block,
        occurred_at, occurred_at_source, "alchemy",
    )  # fmt: skip


def test_a_contract_creation_has_no_recipient_and_no_amount(client):
    ProjectFactory(chain="eip155:1", treasury_addresses=[TREASURY])

    assert post(client, delivery([FIXTURES["creation"]])).json() == {
        "received": 1,
        "stored": 0,  # the treasury deploying is not a user's activity
        "rejected": 0,
    }


def test_a_whole_delivery_of_every_shape_stores_each_transfer_once(client):
    ProjectFactory(chain="eip155:1", contract_addresses=[DAPP], treasury_addresses=[TREASURY])
    payload = delivery([copy.deepcopy(item) for item in FIXTURES.values()])

    first, again = post(client, payload).json(), post(client, payload).json()

    assert first == {"received": 9, "stored": 9, "rejected": 0}
    assert again == {"received": 9, "stored": 0, "rejected": 0}
    stored = ContractInteraction.objects.values_list("transaction_hash", "transfer_position")
    assert sorted(stored) == sorted(
        (FIXTURES[name]["hash"], position) for name, position, *_ in EXPECTED
    )


@pytest.mark.parametrize(("network", "chain"), sorted(NETWORK_CHAINS.items()))
def test_every_alchemy_network_maps_to_its_caip2_chain(client, network, chain):
    project = ProjectFactory(chain=chain, contract_addresses=[DAPP])
    transfer = copy.deepcopy(FIXTURES["external"])

    assert post(client, delivery([transfer], network=network)).json()["stored"] == 1

    row = ContractInteraction.objects.get()
    assert (row.project_id, row.chain, row.asset_address, row.amount) == (
        project.id, chain, NATIVE_ASSET, Decimal("1.5"),
    )  # fmt: skip
    if network in TESTNET_CHAINS:
        assert (row.value_usd, row.unpriced_reason) == (Decimal("0.00"), "")


def test_a_sepolia_eth_transfer_is_worth_nothing(client):
    ProjectFactory(chain="eip155:11155111", contract_addresses=[DAPP])
    asset_price("eip155:11155111", NATIVE_ASSET, dt.date(2024, 1, 23), "2500.00")

    post(client, delivery([copy.deepcopy(FIXTURES["external"])], network="ETH_SEPOLIA"))

    row = ContractInteraction.objects.get()
    assert (row.chain, row.amount, row.value_usd) == ("eip155:11155111", Decimal("1.5"), 0)
