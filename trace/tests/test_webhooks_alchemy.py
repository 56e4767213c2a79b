"""POST /api/v1/webhooks/alchemy with deliveries shaped as Alchemy documents them
(https://www.alchemy.com/docs/reference/address-activity-webhook), signed for real."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import hmac
import json
from decimal import Decimal

import pytest
from django.urls import reverse
from eth_utils import to_checksum_address

from trace import tasks
from trace.models import NATIVE_ASSET, ContractInteraction, RejectedActivity
from trace.tests.callers import key_caller
from trace.tests.chain_support import evm_rpc_fixture  # noqa: F401  (the evm_rpc fixture)
from trace.tests.factories import ContractInteractionFactory, ProjectFactory, asset_price

pytestmark = pytest.mark.django_db

SIGNING_KEY = "whsec_3cGF8LrRh5ymTuhaKjmOL2Vp"
URL = "/api/v1/webhooks/alchemy"
DAPP = to_checksum_address("0x5fbdb2315678afecb367f032d93f642f64180aa3")
TREASURY = to_checksum_address("0xbe3f4b43db5eb49d1f48f53443b9abce45da3b79")
WALLET = to_checksum_address("0x503828976d22510aad0201ac7ec88293211d23da")
WALLET_2 = to_checksum_address("0x1635d18f20c9a6e302931faf61643fed57fbcce3")
# DAPP with the case of its checksum letters flipped: a typo, not a style
BAD_CHECKSUM = "0x" + DAPP[2:].swapcase()
STRANGER = "0x59479de9d374bdbcba6c791e5d036591976fe422"
USDC = "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"  # Circle's, in the seeded registry
ETH_TX = "0x" + "7a4a39da2a3fa1fc2ef88fd1eaea070286ed2aba21e0419dcfb6d5c5d9f02a72"
USDC_TX = "0x" + "8a179038d909c1906fddf0a2d5d5e2b5d0a5ff6e6c8ef5b8e7f4c1b2a3d4e5f6"
OTHER_TX = "0x" + "1" * 64
BLOCK_HASH = "0xa99ec54413bd3db3f9bdb0c1ad3ab1400ee0ecefb47803e17f9d33bc4d0a1e91"

DELIVERY = {
    "webhookId": "wh_k63lg72rxda78gce",
    "id": "whevt_vq499kv7elmlbp2v",
    "createdAt": "2024-01-23T07:42:26.411977228Z",
    "type": "ADDRESS_ACTIVITY",
    "event": {
        "network": "ETH_MAINNET",
        "activity": [
            {  # a user pays the dapp 1.5 ETH: an external transfer has no log
                "fromAddress": WALLET.lower(),
                "toAddress": DAPP.lower(),
                "blockNum": "0xdf34a3",
                "hash": ETH_TX,
                "value": 1.5,
                "erc721TokenId": None,
                "erc1155Metadata": None,
                "asset": "ETH",
                "category": "external",
                "rawContract": {"rawValue": "0x14d1120d7b160000", "address": None, "decimals": 18},
                "typeTraceAddress": None,
            },
            {  # another pays the treasury 293.092129 USDC: a token transfer, from its log
                "fromAddress": WALLET_2.lower(),
                "toAddress": TREASURY.lower(),
                "blockNum": "0xdf34a4",
                "hash": USDC_TX,
                "value": 293.092129,
                "erc721TokenId": None,
                "erc1155Metadata": None,
                "asset": "USDC",
                "category": "token",
                "rawContract": {
                    "rawValue": "0x" + "0" * 56 + "11783b21",
                    "address": USDC,
                    "decimals": 6,
                },
                "typeTraceAddress": None,
                "log": {
                    "address": USDC,
                    "topics": [
                        "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef",
                        "0x0000000000000000000000001635d18f20c9a6e302931faf61643fed57fbcce3",
                        "0x000000000000000000000000be3f4b43db5eb49d1f48f53443b9abce45da3b79",
                    ],
                    "data": "0x0000000000000000000000000000000000000000000000000000000011783b21",
                    "blockNumber": "0xdf34a4",
                    "transactionHash": USDC_TX,
                    "transactionIndex": "0x46",
                    "blockHash": BLOCK_HASH,
                    "logIndex": "0x6e",
                    "removed": False,
                },
            },
            {  # an NFT moving between two wallets nobody here watches
                "fromAddress": STRANGER,
                "toAddress": "0x59479de9d374bdbcba6c791e5d036591976fe425",
                "blockNum": "0xdf34a4",
                "hash": OTHER_TX,
                "value": None,
                "erc721TokenId": "0x1",
                "erc1155Metadata": None,
                "asset": None,
                "category": "erc721",
                "rawContract": {
                    "rawValue": "0x",
                    "address": "0x93C46aA4DdfD0413d95D0eF3c478982997cE9861",
                },
                "log": {"logIndex": "0x3", "removed": False},
            },
        ],
    },
}


def sign(body: bytes, key: str = SIGNING_KEY) -> str:
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def post(client, payload, *, signature: str | None = "sign", raw: bytes | None = None):
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = {}
    if signature == "sign":
        headers["X-Alchemy-Signature"] = sign(body)
    elif signature is not None:
        headers["X-Alchemy-Signature"] = signature
    return client.post(URL, data=body, content_type="application/json", headers=headers)


@pytest.fixture(autouse=True)
def _configured(settings):
    settings.ALCHEMY_WEBHOOK_SIGNING_KEY = SIGNING_KEY
    asset_price("eip155:1", NATIVE_ASSET, dt.date(2024, 1, 20), "2500.00")
    asset_price("eip155:1", NATIVE_ASSET, dt.date(2024, 1, 24), "9999.00")
    asset_price("eip155:1", to_checksum_address(USDC), dt.date(2024, 1, 20), "1.00")


@pytest.fixture
def project():
    return ProjectFactory(
        chain="eip155:1", contract_addresses=[DAPP], treasury_addresses=[TREASURY]
    )


def stored() -> list[tuple]:
    return list(
        ContractInteraction.objects.order_by("block_number").values_list(
            "project_id", "chain", "transaction_hash", "log_index", "block_number",
            "block_hash", "wallet_address", "from_address", "to_address", "contract_address",
            "event_type", "asset", "asset_address", "amount", "value_usd", "unpriced_reason",
            "occurred_at", "source",
        )
    )  # fmt: skip


def test_url_is_the_api_md_path():
    assert reverse("webhook-alchemy") == URL


def test_signed_delivery_stores_the_project_activity(client, project):
    response = post(client, DELIVERY)

    assert response.status_code == 200
    assert response.json() == {"received": 3, "stored": 2, "rejected": 0}
    created = dt.datetime(2024, 1, 23, 7, 42, 26, 411977, tzinfo=dt.UTC)
    assert stored() == [
        (
            project.id, "eip155:1", ETH_TX, -1, 0xDF34A3, "", WALLET, WALLET, DAPP, DAPP,
            "external", "ETH", "native", Decimal("1.5"), Decimal("3750.00"), "", created,
            "alchemy",
        ),
        (
            project.id, "eip155:1", USDC_TX, 0x6E, 0xDF34A4, BLOCK_HASH, WALLET_2, WALLET_2,
            TREASURY, TREASURY, "token", "USDC", to_checksum_address(USDC),
            Decimal("293.092129"), Decimal("293.09"), "", created, "alchemy",
        ),
    ]  # fmt: skip


def test_a_redelivery_stores_nothing_twice(client, project):
    assert post(client, DELIVERY).json() == {"received": 3, "stored": 2, "rejected": 0}

    response = post(client, DELIVERY)

    assert response.status_code == 200
    assert response.json() == {"received": 3, "stored": 0, "rejected": 0}
    assert ContractInteraction.objects.count() == 2


def test_the_project_side_can_be_the_sender(client, project):
    payload = copy.deepcopy(DELIVERY)
    refund = payload["event"]["activity"][0]
    refund["fromAddress"], refund["toAddress"] = DAPP.lower(), WALLET.lower()

    assert post(client, payload).json() == {"received": 3, "stored": 2, "rejected": 0}
    row = ContractInteraction.objects.get(transaction_hash=ETH_TX)
    assert (row.wallet_address, row.contract_address, row.from_address, row.to_address) == (
        WALLET,
        DAPP,
        DAPP,
        WALLET,
    )


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "0" * 64,
        sign(json.dumps(DELIVERY).encode(), key="another-key"),
        sign(json.dumps(DELIVERY).encode()) + "00",
        "sha256=" + sign(json.dumps(DELIVERY).encode()),
        "ünïcode",
    ],
)
def test_a_bad_or_missing_signature_is_401_and_stores_nothing(client, project, signature):
    response = post(client, DELIVERY, signature=signature)

    assert response.status_code == 401
    assert response.json() == {
        "detail": "Invalid or missing X-Alchemy-Signature.",
        "code": "bad_signature",
    }
    assert ContractInteraction.objects.count() == 0


def test_a_tampered_body_fails_the_signature(client, project):
    signature = sign(json.dumps(DELIVERY).encode())
    tampered = copy.deepcopy(DELIVERY)
    tampered["event"]["activity"][0]["value"] = 1500

    assert post(client, tampered, signature=signature).status_code == 401
    assert ContractInteraction.objects.count() == 0


def test_the_signature_is_checked_before_the_body_is_parsed(client, project):
    response = post(client, None, raw=b"{not json", signature="00")

    assert response.status_code == 401


def test_not_configured_is_503_and_stores_nothing(client, project, settings):
    settings.ALCHEMY_WEBHOOK_SIGNING_KEY = ""

    response = post(client, DELIVERY)

    assert response.status_code == 503
    assert response.json() == {
        "detail": "Alchemy webhook not configured.",
        "code": "not_configured",
    }
    assert ContractInteraction.objects.count() == 0


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"", b"\xff\xfe", b"null", b"[]", b'"text"', b"[" * 5000 + b"]" * 5000,
     b'{"value": NaN}'],
)  # fmt: skip
def test_malformed_json_is_400_and_stores_nothing(client, project, raw):
    response = post(client, None, raw=raw)

    assert response.status_code == 400
    assert ContractInteraction.objects.count() == 0


def _broken(path: list, value) -> dict:
    payload = copy.deepcopy(DELIVERY)
    target = payload
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return payload


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (_broken(["type"], "GRAPHQL"), "type"),
        (_broken(["event"], KeyError), "event"),
        (_broken(["event"], []), "event"),
        (_broken(["event", "activity"], {"not": "a list"}), "event.activity"),
        (_broken(["event", "network"], KeyError), "event.network"),
        (_broken(["createdAt"], "yesterday"), "createdAt"),
        (_broken(["id"], None), "id"),
        (_broken(["id"], "whevt_\u0000"), "id"),  # fuzzing found these two
        (_broken(["event", "network"], "ETH_\ud800"), "event.network"),
    ],
)  # fmt: skip
def test_an_envelope_not_shaped_as_documented_is_400_and_stores_nothing(
    client, project, payload, field
):
    response = post(client, payload)

    assert response.status_code == 400
    assert field in response.json()
    assert ContractInteraction.objects.count() == 0
    assert RejectedActivity.objects.count() == 0


@pytest.mark.parametrize(
    ("payload", "index", "reason"),
    [
        (_broken(["event", "activity", 0, "hash"], KeyError), 0, "hash: Field required"),
        (_broken(["event", "activity", 0, "hash"], "0x1234"), 0, "hash: Value error"),
        (_broken(["event", "activity", 1, "fromAddress"], "0xnope"), 1, "fromAddress:"),
        (_broken(["event", "activity", 0, "toAddress"], BAD_CHECKSUM), 0, "toAddress:"),
        (_broken(["event", "activity", 0, "blockNum"], "12345"), 0, "blockNum:"),
        (_broken(["event", "activity", 0, "blockNum"], "0x" + "f" * 64), 0, "blockNum:"),
        (_broken(["event", "activity", 1, "log", "logIndex"], "0x80000000"), 1,
         "log.logIndex:"),
        (_broken(["event", "activity", 1, "log", "logIndex"], "0xzz"), 1, "log.logIndex:"),
        (_broken(["event", "activity", 1, "rawContract", "decimals"], -1), 1,
         "rawContract.decimals:"),
        (_broken(["event", "activity", 1, "rawContract", "rawValue"], "0x" + "1" * 65), 1,
         "rawContract: Value error, rawValue: expected a 0x-prefixed 256-bit quantity."),
        (_broken(["event", "activity", 0, "typeTraceAddress"], "call 0; drop"), 0,
         "typeTraceAddress:"),
        (_broken(["event", "activity", 2, "erc1155Metadata"], [{"tokenId": "1"}]), 2,
         "erc1155Metadata.0.tokenId:"),
        (_broken(["event", "activity", 0], "not an object"), 0, "Input should be"),
        (_broken(["event", "activity", 0], None), 0, "Input should be"),  # fuzzing found it
        (_broken(["event", "activity", 0, "category"], "external\u0000"), 0, "category:"),
        (_broken(["event", "activity", 0, "asset"], "\udc00\u0000"), 0, "asset:"),
    ],
)  # fmt: skip
def test_an_activity_not_shaped_as_documented_is_recorded_and_the_rest_stored(
    client, project, payload, index, reason
):
    response = post(client, payload)

    assert response.status_code == 200
    assert response.json()["rejected"] == 1
    stored_hashes = set(ContractInteraction.objects.values_list("transaction_hash", flat=True))
    assert stored_hashes == {ETH_TX, USDC_TX} - {DELIVERY["event"]["activity"][index]["hash"]}
    rejected = RejectedActivity.objects.get()
    assert (rejected.item_index, rejected.reason.startswith(reason)) == (index, True)


def test_a_redelivered_bad_activity_is_recorded_once(client, project):
    payload = _broken(["event", "activity", 0, "hash"], "0x1234")

    assert post(client, payload).json() == {"received": 3, "stored": 1, "rejected": 1}
    assert post(client, payload).json() == {"received": 3, "stored": 0, "rejected": 1}
    assert RejectedActivity.objects.count() == 1


def test_activity_of_unrelated_addresses_stores_nothing(client):
    ProjectFactory(chain="eip155:1")  # watches some other contract
    ProjectFactory(chain="eip155:8453", contract_addresses=[DAPP])  # same address, other chain

    response = post(client, DELIVERY)

    assert response.status_code == 200
    assert response.json() == {"received": 3, "stored": 0, "rejected": 0}
    assert ContractInteraction.objects.count() == 0


def test_base_network_maps_to_its_chain(client):
    base_project = ProjectFactory(chain="eip155:8453", contract_addresses=[DAPP])
    payload = _broken(["event", "network"], "BASE_MAINNET")

    assert post(client, payload).json() == {"received": 3, "stored": 1, "rejected": 0}
    assert ContractInteraction.objects.get().project_id == base_project.id


def test_a_network_we_do_not_map_is_accepted_and_ignored(client, project):
    payload = _broken(["event", "network"], "MONAD_TESTNET")

    assert post(client, payload).json() == {"received": 3, "stored": 0, "rejected": 0}


def test_a_removed_log_forgets_the_interaction(client, project):
    post(client, DELIVERY)
    payload = copy.deepcopy(DELIVERY)
    payload["event"]["activity"] = [payload["event"]["activity"][1]]
    payload["event"]["activity"][0]["log"]["removed"] = True

    assert post(client, payload).json() == {"received": 1, "stored": 0, "rejected": 0}
    assert list(ContractInteraction.objects.values_list("transaction_hash", flat=True)) == [ETH_TX]


def test_a_transaction_the_indexer_stored_is_not_stored_again(client, project):
    ContractInteractionFactory(
        project=project, chain="eip155:1", transaction_hash=USDC_TX, log_index=0x6E
    )

    assert post(client, DELIVERY).json() == {"received": 3, "stored": 1, "rejected": 0}
    assert ContractInteraction.objects.count() == 2


# --- priced by asset identity -----------------------------------------------------------

FORGED_USDC = "0x9d1b33a7c5a41c3e8f4d40a2a7a7e4d5a1f0c0de"  # a contract nobody registered
TOKEN_TX = "0x" + "2" * 64
CREATED = dt.date(2024, 1, 23)


def token_delivery(token: str, raw_value: int, *, decimals: int = 6, symbol: str = "USDC"):
    payload = copy.deepcopy(DELIVERY)
    activity = copy.deepcopy(payload["event"]["activity"][1])
    activity.update(hash=TOKEN_TX, asset=symbol, value=raw_value / 10**decimals)
    activity["rawContract"] = {"rawValue": hex(raw_value), "address": token, "decimals": decimals}
    activity["log"] = {**activity["log"], "address": token, "transactionHash": TOKEN_TX}
    payload["event"]["activity"] = [activity]
    return payload


def test_a_token_calling_itself_usdc_is_evidence_worth_nothing(client, project):
    """Regression (issue 7): a forged "USDC" sent to a watched address counted $1 a unit."""
    delivery = token_delivery(FORGED_USDC, 10**12 * 10**6)  # "a trillion dollars"

    assert post(client, delivery).json() == {"received": 1, "stored": 1, "rejected": 0}

    row = ContractInteraction.objects.get()
    assert (row.asset, row.asset_address, row.amount, row.value_usd, row.unpriced_reason) == (
        "USDC",
        to_checksum_address(FORGED_USDC),
        Decimal(10**12),
        Decimal("0.00"),
        "unknown_asset",
    )
    reader = key_caller(project.organization, "read")
    tasks.aggregate_metrics.delay(str(project.id), str(CREATED), str(CREATED)).get()
    day = reader.get(f"/api/v1/metrics/{project.id}?from={CREATED}&to={CREATED}").json()
    assert [
        (r["transaction_count"], r["transaction_volume_usd"], r["unpriced_transfers"])
        for r in day["results"]
    ] == [(1, "0.00", 1)]
    issued = reader.get(f"/api/v1/growth-certificate/{project.id}?from={CREATED}&to={CREATED}")
    metrics = issued.json()["certificate"]["metrics"]
    assert (metrics["transaction_volume_usd"], metrics["unpriced_transfers"]) == ("0.00", 1)


def test_a_sepolia_transfer_of_one_eth_is_worth_nothing(client):
    """Regression (issue 8, item 3): testnets were priced as mainnet."""
    sepolia = ProjectFactory(chain="eip155:11155111", contract_addresses=[DAPP])
    asset_price("eip155:11155111", NATIVE_ASSET, CREATED, "2500.00")  # even if someone adds one
    payload = _broken(["event", "network"], "ETH_SEPOLIA")
    payload["event"]["activity"][0]["rawContract"]["rawValue"] = hex(10**18)

    assert post(client, payload).json() == {"received": 3, "stored": 1, "rejected": 0}

    row = ContractInteraction.objects.get(project=sepolia)
    assert (row.chain, row.asset_address, row.amount, row.value_usd, row.unpriced_reason) == (
        "eip155:11155111",
        "native",
        Decimal(1),
        Decimal("0.00"),
        "",
    )


def test_token_decimals_come_from_the_registry_not_the_payload(client, project):
    # Circle's USDC has 6 decimals, whatever a delivery says.
    assert post(client, token_delivery(USDC, 293092129, decimals=18)).status_code == 200

    row = ContractInteraction.objects.get()
    assert (row.asset_address, row.amount, row.value_usd, row.unpriced_reason) == (
        to_checksum_address(USDC),
        Decimal("293.092129"),
        Decimal("293.09"),
        "",
    )


def test_an_unknown_token_keeps_the_payload_decimals_for_its_amount(client, project):
    post(client, token_delivery(FORGED_USDC, 5 * 10**17, decimals=18, symbol="PEPE"))

    row = ContractInteraction.objects.get()
    assert (row.asset, row.amount, row.value_usd, row.unpriced_reason) == (
        "PEPE",
        Decimal("0.5"),
        Decimal("0.00"),
        "unknown_asset",
    )


def test_nfts_are_stored_unpriced(client, project):
    payload = copy.deepcopy(DELIVERY)
    nft = payload["event"]["activity"][2]
    nft["toAddress"] = TREASURY.lower()
    payload["event"]["activity"] = [nft]

    assert post(client, payload).json() == {"received": 1, "stored": 1, "rejected": 0}

    row = ContractInteraction.objects.get()
    assert (row.event_type, row.asset_address, row.value_usd, row.unpriced_reason) == (
        "erc721",
        "",
        Decimal("0.00"),
        "not_fungible",
    )


def test_a_transfer_above_the_cap_is_unpriced_with_its_reason(client, project, settings):
    settings.TRANSFER_VALUE_CAP_USD = 10**9
    big = token_delivery(USDC, (10**9 + 1) * 10**6)

    assert post(client, big).json() == {"received": 1, "stored": 1, "rejected": 0}

    row = ContractInteraction.objects.get()
    assert (row.amount, row.value_usd, row.unpriced_reason) == (
        Decimal(10**9 + 1),
        Decimal("0.00"),
        "over_cap",
    )


# --- issue 8: real deliveries ------------------------------------------------------------

ERC1155_CONTRACT = to_checksum_address("0x88b48f654c30e99bc2e4a1559b4dcf1ad93fa656")
TRANSFER_BATCH = "0x4a39dc06d4c0dbc64b70af90fd698a233a518aa5d07e595d983b8c0526c8f7fb"


def _word(value: int) -> str:
    return f"{value:064x}"


def erc1155_activity(items: list[tuple[int, int]], *, log_index: int = 0x12) -> dict:
    """An ERC-1155 transfer to the treasury as Alchemy documents it: rawValue is the log's
    ABI-encoded data (two dynamic uint256 arrays for a batch), the amounts are in
    erc1155Metadata."""
    ids, values = [token for token, _ in items], [value for _, value in items]
    data = "0x" + "".join(
        [_word(0x40), _word(0x60 + 0x20 * len(ids)), _word(len(ids))]
        + [_word(i) for i in ids]
        + [_word(len(values))]
        + [_word(v) for v in values]
    )
    return {
        "blockNum": "0xdf34a4",
        "hash": OTHER_TX,
        "fromAddress": WALLET.lower(),
        "toAddress": TREASURY.lower(),
        "value": None,
        "erc721TokenId": None,
        "erc1155Metadata": [{"tokenId": hex(t), "value": hex(v)} for t, v in items],
        "asset": None,
        "category": "erc1155",
        "rawContract": {"rawValue": data, "address": ERC1155_CONTRACT.lower(), "decimals": None},
        "typeTraceAddress": None,
        "log": {
            "address": ERC1155_CONTRACT.lower(),
            "topics": [TRANSFER_BATCH, "0x" + _word(0), "0x" + _word(1), "0x" + _word(2)],
            "data": data,
            "blockNumber": "0xdf34a4",
            "transactionHash": OTHER_TX,
            "transactionIndex": "0x1",
            "blockHash": BLOCK_HASH,
            "logIndex": hex(log_index),
            "removed": False,
        },
    }


def delivery_of(*activities: dict, network: str = "ETH_MAINNET") -> dict:
    payload = copy.deepcopy(DELIVERY)
    payload["event"] = {"network": network, "activity": list(activities)}
    return payload


def test_an_erc1155_batch_is_stored_item_by_item(client, project):
    """Regression (issue 8, defect 1): rawValue carries the log's data, hundreds of hex
    digits, and the whole delivery was refused (400)."""
    response = post(client, delivery_of(erc1155_activity([(7, 3), (9, 1)])))

    assert response.status_code == 200
    assert response.json() == {"received": 1, "stored": 2, "rejected": 0}
    rows = ContractInteraction.objects.order_by("transfer_position")
    assert [
        (r.transfer_position, r.amount, r.asset_address, r.unpriced_reason, r.wallet_address)
        for r in rows
    ] == [
        ("log:18:0", Decimal(3), "", "not_fungible", WALLET),
        ("log:18:1", Decimal(1), "", "not_fungible", WALLET),
    ]


def internal_transfer(trace_address: str, wei: int) -> dict:
    return {
        "blockNum": "0xdf34a3",
        "hash": ETH_TX,
        "fromAddress": DAPP.lower(),
        "toAddress": WALLET.lower(),
        "value": wei / 10**18,
        "erc721TokenId": None,
        "erc1155Metadata": None,
        "asset": "ETH",
        "category": "internal",
        "rawContract": {"rawValue": hex(wei), "address": None, "decimals": 18},
        "typeTraceAddress": trace_address,
    }


def test_internal_transfers_of_one_transaction_are_each_a_row(client, project):
    """Regression (issue 8, defect 2): log-less transfers all had one key, so the second
    internal transfer of a transaction was dropped as a duplicate."""
    payload = delivery_of(
        internal_transfer("call_0", 10**18), internal_transfer("call_0_1", 2 * 10**18)
    )

    assert post(client, payload).json() == {"received": 2, "stored": 2, "rejected": 0}
    assert sorted(
        ContractInteraction.objects.values_list("transfer_position", "amount", "wallet_address")
    ) == [
        ("internal:call_0", Decimal(1), WALLET),
        ("internal:call_0_1", Decimal(2), WALLET),
    ]


def test_every_alchemy_testnet_is_a_testnet_chain_worth_nothing():
    """Regression (issue 8, defect 3): Alchemy's testnets must map to testnet chains, which
    the registry values at 0."""
    from fabrknt.chain.alchemy import TESTNET_CHAINS as ALCHEMY_TESTNETS
    from trace.services.pricing import TESTNET_CHAINS

    assert ALCHEMY_TESTNETS["ZKSYNC_SEPOLIA"] == "eip155:300"
    assert set(ALCHEMY_TESTNETS.values()) <= TESTNET_CHAINS


TOKEN = to_checksum_address("0x6b175474e89094c44da98b954eedeac495271d0f")  # DAI, seeded


def token_transfer(sender: str, recipient: str, raw: int) -> dict:
    activity = copy.deepcopy(DELIVERY["event"]["activity"][1])
    activity.update(fromAddress=sender.lower(), toAddress=recipient.lower(), asset="DAI")
    activity["rawContract"] = {"rawValue": hex(raw), "address": TOKEN.lower(), "decimals": 18}
    activity["log"] = {**activity["log"], "address": TOKEN.lower()}
    return activity


def test_a_project_watching_its_token_sees_transfers_between_users(client):
    """Regression (issue 8, defect 4): only sender and recipient were matched, so the
    project that watches its token contract saw none of its transfers."""
    token_project = ProjectFactory(chain="eip155:1", contract_addresses=[TOKEN])

    response = post(client, delivery_of(token_transfer(WALLET, WALLET_2, 5 * 10**18)))

    assert response.json() == {"received": 1, "stored": 1, "rejected": 0}
    row = ContractInteraction.objects.get()
    assert (
        row.project_id, row.wallet_address, row.from_address, row.to_address,
        row.contract_address, row.asset_address, row.amount,
    ) == (token_project.id, WALLET, WALLET, WALLET_2, TOKEN, TOKEN, Decimal(5))  # fmt: skip


def test_the_block_timestamp_of_the_log_is_the_time(client, project):
    """Regression (issue 8, defect 5): occurred_at was the delivery's createdAt, a day late
    for a block mined before midnight."""
    payload = delivery_of(copy.deepcopy(DELIVERY["event"]["activity"][1]))
    block_time = dt.datetime(2024, 1, 22, 23, 59, 59, tzinfo=dt.UTC)
    payload["event"]["activity"][0]["log"]["blockTimestamp"] = hex(int(block_time.timestamp()))

    assert post(client, payload).json() == {"received": 1, "stored": 1, "rejected": 0}
    row = ContractInteraction.objects.get()
    assert (row.occurred_at, row.occurred_at_source) == (block_time, "block")


def test_one_unparseable_activity_is_recorded_and_the_rest_stored(client, project):
    """Regression (issue 8): one bad activity got the whole delivery refused, and Alchemy
    retries then pauses a refused webhook."""
    payload = copy.deepcopy(DELIVERY)
    payload["event"]["activity"][0]["hash"] = "0x1234"

    response = post(client, payload)

    assert response.status_code == 200
    assert response.json() == {"received": 3, "stored": 1, "rejected": 1}
    assert list(ContractInteraction.objects.values_list("transaction_hash", flat=True)) == [USDC_TX]
    rejected = RejectedActivity.objects.get()
    assert (rejected.source, rejected.delivery_id, rejected.item_index, rejected.chain) == (
        "alchemy", "whevt_vq499kv7elmlbp2v", 0, "eip155:1",
    )  # fmt: skip
    assert rejected.reason == "hash: Value error, Expected a 0x-prefixed 32-byte hex hash."
    assert rejected.item["hash"] == "0x1234"
    assert rejected.item["value"] == "1.5"  # the exact text of the amount


def test_block_times_come_from_the_chain_in_one_batch_and_set_the_metrics_day(
    client, project, settings, evm_rpc
):
    """Regression (issue 8, defect 5): without a timestamp in the payload, the blocks'
    times are read from the chain (one JSON-RPC batch, then the cache), and the metrics
    count the transfer on its block's day, not the delivery's."""
    day = dt.date.today() + dt.timedelta(days=2)
    midnight = int(dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.UTC).timestamp())
    before, after = evm_rpc.mine_at(midnight - 60), evm_rpc.mine_at(midnight + 600)
    settings.CHAIN_RPC_URLS = {"eip155:1": evm_rpc.url}
    asset_price("eip155:1", NATIVE_ASSET, day, "2000.00")
    late, next_day = (
        copy.deepcopy(DELIVERY["event"]["activity"][0]),
        internal_transfer("call_0", 10**18),
    )
    late["blockNum"], next_day["blockNum"] = hex(before), hex(after)
    payload = delivery_of(late, next_day)
    payload["createdAt"] = dt.datetime.fromtimestamp(midnight + 900, dt.UTC).isoformat()

    assert post(client, payload).json() == {"received": 2, "stored": 2, "rejected": 0}
    assert evm_rpc.http_requests == 1 and evm_rpc.calls["eth_getBlockByNumber"] == 2  # a batch
    assert list(
        ContractInteraction.objects.order_by("block_number").values_list(
            "block_number", "occurred_at", "occurred_at_source", "value_usd"
        )
    ) == [
        (before, dt.datetime.fromtimestamp(midnight - 60, dt.UTC), "rpc", Decimal("3000.00")),
        (after, dt.datetime.fromtimestamp(midnight + 600, dt.UTC), "rpc", Decimal("2000.00")),
    ]
    reader = key_caller(project.organization, "read")
    tasks.aggregate_metrics.delay(str(project.id), str(day), str(day)).get()
    metrics = reader.get(f"/api/v1/metrics/{project.id}?from={day}&to={day}").json()
    assert [
        (r["date"], r["transaction_count"], r["transaction_volume_usd"]) for r in metrics["results"]
    ] == [(str(day), 1, "3000.00")]

    ContractInteraction.objects.all().delete()
    assert post(client, payload).json()["stored"] == 2
    assert evm_rpc.http_requests == 1  # the block times were cached


def test_without_a_node_the_delivery_time_stands_in_flagged(client, project, settings):
    settings.CHAIN_RPC_URLS = {}

    post(client, delivery_of(copy.deepcopy(DELIVERY["event"]["activity"][0])))

    row = ContractInteraction.objects.get()
    created = dt.datetime(2024, 1, 23, 7, 42, 26, 411977, tzinfo=dt.UTC)
    assert (row.occurred_at, row.occurred_at_source) == (created, "delivery")
