"""POST /api/v1/webhooks/helius with enhanced-transaction arrays shaped as Helius documents
them (https://www.helius.dev/docs/webhooks)."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from decimal import Decimal

import base58
import pytest

from trace.models import ContractInteraction, RejectedActivity
from trace.tests.factories import ProjectFactory, asset_price

pytestmark = pytest.mark.django_db

AUTH = "helius-7b1f4c0e9d2a"
URL = "/api/v1/webhooks/helius"
SYSTEM = "11111111111111111111111111111111"
COMPUTE_BUDGET = "ComputeBudget111111111111111111111111111111"


def address(n: int) -> str:
    return base58.b58encode(bytes([n]) * 32).decode()


def signature(n: int) -> str:
    return base58.b58encode(bytes([n]) * 64).decode()


PROGRAM = address(7)  # the project's program
TREASURY = address(8)
POOL = address(9)
USER_1, USER_2, STRANGER = address(21), address(22), address(23)
USDC_MINT = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"


def enhanced(sig: int, fee_payer: str, *, type_: str, source: str, instructions, native=(),
             tokens=(), error=None, timestamp: int = 1757425150, events=None) -> dict:  # fmt: skip
    """An enhanced transaction; `tokens` are (from, to, UI amount[, mint]), USDC by default."""
    return {
        "accountData": [
            {"account": fee_payer, "nativeBalanceChange": -80000, "tokenBalanceChanges": []}
        ],
        "description": "",
        "events": events or {},
        "fee": 80000,
        "feePayer": fee_payer,
        "instructions": [
            {
                "accounts": accounts,
                "data": "3Bxs3zzLZLuLQEYX",
                "innerInstructions": [],
                "programId": program,
            }
            for program, accounts in instructions
        ],  # fmt: skip
        "nativeTransfers": [
            {"amount": lamports, "fromUserAccount": src, "toUserAccount": dst}
            for src, dst, lamports in native
        ],
        "signature": signature(sig),
        "slot": 406694201 + sig,
        "source": source,
        "timestamp": timestamp,
        "tokenTransfers": [
            {
                "fromTokenAccount": address(40),
                "toTokenAccount": address(41),
                "fromUserAccount": src,
                "toUserAccount": dst,
                "tokenAmount": amount,
                "mint": mint[0] if mint else USDC_MINT,
                "tokenStandard": "Fungible",
            }
            for src, dst, amount, *mint in tokens
        ],
        "transactionError": error,
        "type": type_,
    }


DELIVERY = [
    # USER_1 swaps 0.25 SOL for 37.1 USDC through the project's program (its second
    # instruction), paying the pool.
    enhanced(
        1, USER_1, type_="SWAP", source="UNKNOWN",
        instructions=[(COMPUTE_BUDGET, []), (PROGRAM, [USER_1, POOL])],
        native=[(USER_1, POOL, 250_000_000)], tokens=[(POOL, USER_1, 37.1)],
        events={"swap": {
            "nativeInput": {"account": USER_1, "amount": "250000000"}, "nativeOutput": None,
            "tokenInputs": [], "tokenFees": [], "nativeFees": [], "innerSwaps": [],
            "tokenOutputs": [{
                "userAccount": USER_1, "tokenAccount": address(41), "mint": USDC_MINT,
                "rawTokenAmount": {"tokenAmount": "37100000", "decimals": 6},
            }],
        }},
    ),
    # USER_2 sends 1 SOL to the project's treasury with the system program.
    enhanced(
        2, USER_2, type_="TRANSFER", source="SYSTEM_PROGRAM",
        instructions=[(SYSTEM, [USER_2, TREASURY])],
        native=[(USER_2, TREASURY, 1_000_000_000)],
    ),
    # Nothing to do with the project.
    enhanced(
        3, STRANGER, type_="TRANSFER", source="SYSTEM_PROGRAM",
        instructions=[(SYSTEM, [STRANGER, POOL])], native=[(STRANGER, POOL, 5)],
        tokens=[(STRANGER, POOL, 12.5)],
    ),
    # A failed call of the program: no interaction.
    enhanced(
        4, USER_2, type_="UNKNOWN", source="UNKNOWN", instructions=[(PROGRAM, [USER_2])],
        error={"InstructionError": [0, {"Custom": 6001}]},
    ),
]  # fmt: skip


def post(client, payload, *, auth: str | None = AUTH, raw: bytes | None = None):
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = {"Authorization": auth} if auth is not None else {}
    return client.post(URL, data=body, content_type="application/json", headers=headers)


@pytest.fixture(autouse=True)
def _configured(settings):
    settings.HELIUS_WEBHOOK_AUTH = AUTH
    asset_price("solana:mainnet", "native", dt.date(2025, 9, 1), "150.00")


@pytest.fixture
def project():
    return ProjectFactory(
        chain="solana:mainnet", contract_addresses=[PROGRAM], treasury_addresses=[TREASURY]
    )


def test_authorized_delivery_stores_the_project_transfers(client, project):
    response = post(client, DELIVERY)

    assert response.status_code == 200
    assert response.json() == {"received": 4, "stored": 3}
    at = dt.datetime(2025, 9, 9, 13, 39, 10, tzinfo=dt.UTC)
    assert list(
        ContractInteraction.objects.order_by("block_number", "transfer_position").values_list(
            "project_id", "chain", "transaction_hash", "transfer_position", "block_number",
            "wallet_address", "from_address", "to_address", "contract_address", "event_type",
            "asset", "asset_address", "amount", "value_usd", "unpriced_reason", "occurred_at",
            "source",
        )
    ) == [
        # The swap's legs (USDC has no price yet).
        (project.id, "solana:mainnet", signature(1), "swap:in:native", 406694202, USER_1,
         USER_1, "", PROGRAM, "SWAP", "SOL", "native", Decimal("0.25"), Decimal("37.50"), "",
         at, "helius"),
        (project.id, "solana:mainnet", signature(1), "swap:out:0", 406694202, USER_1,
         "", USER_1, PROGRAM, "SWAP", "USDC", USDC_MINT, Decimal("37.1"), Decimal("0.00"),
         "no_price", at, "helius"),
        (project.id, "solana:mainnet", signature(2), "native:0", 406694203, USER_2, USER_2,
         TREASURY, TREASURY, "TRANSFER", "SOL", "native", Decimal("1"), Decimal("150.00"), "",
         at, "helius"),
    ]  # fmt: skip


def test_a_redelivery_stores_nothing_twice(client, project):
    assert post(client, DELIVERY).json() == {"received": 4, "stored": 3}

    response = post(client, DELIVERY)

    assert response.json() == {"received": 4, "stored": 0}
    assert ContractInteraction.objects.count() == 3


def test_a_call_of_the_program_moving_nothing_of_the_project_is_worth_nothing(client, project):
    """The program ran as an inner instruction; what the caller paid others (here the
    pool) is not the project's."""
    payload = copy.deepcopy(DELIVERY[2:3])
    payload[0]["instructions"][0]["innerInstructions"] = [
        {"accounts": [STRANGER], "data": "4S1aZQ", "programId": PROGRAM}
    ]

    assert post(client, payload).json() == {"received": 1, "stored": 1}
    row = ContractInteraction.objects.get()
    assert (
        row.transfer_position, row.wallet_address, row.from_address, row.to_address,
        row.contract_address, row.amount, row.value_usd, row.unpriced_reason,
    ) == (
        "transaction", STRANGER, STRANGER, PROGRAM, PROGRAM, Decimal(0), Decimal("0.00"), ""
    )  # fmt: skip


def test_unpriced_sol_is_stored_with_zero_value(client, project):
    payload = copy.deepcopy(DELIVERY[1:2])
    payload[0]["timestamp"] = 1735689600  # 2025-01-01, before any SOL quote

    assert post(client, payload).json() == {"received": 1, "stored": 1}
    row = ContractInteraction.objects.get()
    assert (row.value_usd, row.unpriced_reason) == (Decimal("0.00"), "no_price")


@pytest.mark.parametrize("auth", [None, "", "Bearer " + AUTH, AUTH + " ", AUTH.upper(), "ünï"])
def test_a_wrong_or_missing_authorization_is_401_and_stores_nothing(client, project, auth):
    response = post(client, DELIVERY, auth=auth)

    assert response.status_code == 401
    assert response.json() == {
        "detail": "Invalid or missing Authorization header.",
        "code": "bad_signature",
    }
    assert ContractInteraction.objects.count() == 0


def test_not_configured_is_503_and_stores_nothing(client, project, settings):
    settings.HELIUS_WEBHOOK_AUTH = ""

    response = post(client, DELIVERY, auth="")

    assert response.status_code == 503
    assert response.json() == {"detail": "Helius webhook not configured.", "code": "not_configured"}
    assert ContractInteraction.objects.count() == 0


def _broken(index: int, key: str, value) -> list:
    payload = copy.deepcopy(DELIVERY)
    if value is KeyError:
        del payload[index][key]
    else:
        payload[index][key] = value
    return payload


@pytest.mark.parametrize(
    ("payload", "index", "field", "stored"),
    [
        (_broken(0, "signature", "not-a-signature"), 0, "signature", 1),
        (_broken(1, "feePayer", "0xabc"), 1, "feePayer", 2),
        (_broken(0, "timestamp", "yesterday"), 0, "timestamp", 1),
        (_broken(0, "timestamp", 2**40), 0, "timestamp", 1),
        (_broken(0, "slot", 2**64), 0, "slot", 1),
        (_broken(0, "nativeTransfers", [{"amount": -1, "fromUserAccount": USER_1}]), 0,
         "nativeTransfers.0.amount", 1),
        (_broken(0, "instructions", [{"programId": "0OIl"}]), 0, "instructions.0.programId", 1),
        (_broken(0, "slot", KeyError), 0, "slot", 1),
        (_broken(1, "tokenTransfers", [{"mint": USDC_MINT, "tokenAmount": "lots"}]), 1,
         "tokenTransfers.0.tokenAmount", 2),
        (_broken(0, "events", {"swap": {"nativeInput": {"amount": "-5"}}}), 0,
         "events.swap.nativeInput.amount", 1),
        (_broken(1, "accountData", [{"account": TREASURY, "tokenBalanceChanges": [
            {"mint": USDC_MINT, "rawTokenAmount": {"tokenAmount": "1.5", "decimals": 6}}]}]), 1,
         "accountData.0.tokenBalanceChanges.0.rawTokenAmount.tokenAmount", 2),
        (DELIVERY[:1] + [None], 1, "non_field_errors", 2),
        (_broken(1, "type", "TRANSFER\u0000"), 1, "type", 2),
        (_broken(0, "events", {"nft": {"type": "NFT SALE"}}), 0, "events.nft.type", 1),
    ],
)  # fmt: skip
def test_a_transaction_not_shaped_as_documented_is_rejected_and_the_rest_stored(
    client, project, payload, index, field, stored
):
    response = post(client, payload)

    assert response.status_code == 200
    assert response.json() == {"received": len(payload), "stored": stored}
    rejected = RejectedActivity.objects.get()
    assert (rejected.source, rejected.item_index, rejected.chain) == (
        "helius",
        index,
        "solana:mainnet",
    )
    assert rejected.reason.startswith(f"{field}: ")
    # As received, but for a NUL, which PostgreSQL cannot keep.
    assert rejected.item == json.loads(json.dumps(payload[index]).replace("\\u0000", "\\ufffd"))
    assert signature(index + 1) not in ContractInteraction.objects.values_list(
        "transaction_hash", flat=True
    )


@pytest.mark.parametrize("body", [DELIVERY[0], {}, 42, "[]", None, [DELIVERY[1]] * 1001])
def test_a_body_that_is_not_an_array_of_transactions_is_400_and_stores_nothing(
    client, project, body
):
    response = post(client, body)

    assert response.status_code == 400
    assert "non_field_errors" in response.json()
    assert ContractInteraction.objects.count() == 0
    assert RejectedActivity.objects.count() == 0


@pytest.mark.parametrize("raw", [b"", b"[{", b"\x00\x01", b"[1e400, NaN]"])
def test_malformed_json_is_400_and_stores_nothing(client, project, raw):
    response = post(client, None, raw=raw)

    assert response.status_code == 400
    assert ContractInteraction.objects.count() == 0
    assert RejectedActivity.objects.count() == 0


def test_what_postgresql_cannot_keep_of_a_rejected_item_is_replaced(client, project):
    depth = 900  # within the interpreter's default recursion limit, so the body parses
    nested = b"[" * depth + b"]" * depth
    raw = b"[" + nested + b', 1e400, {"signature": "\\u0000", "\\udc00": ["\\ud800"]}]'

    response = post(client, None, raw=raw)

    assert response.json() == {"received": 3, "stored": 0}
    items = list(RejectedActivity.objects.order_by("item_index").values_list("item", flat=True))
    cut = items[0]
    for _ in range(31):
        [cut] = cut
    assert cut == ["..."]
    assert items[1:] == ["1E+400", {"signature": "\ufffd", "?": ["?"]}]


@pytest.mark.parametrize("cluster", ["testnet", "Mainnet", "mainnet-beta", "devnet2"])
def test_an_unknown_cluster_is_400_and_stores_nothing(client, project, cluster):
    response = client.post(
        f"{URL}?cluster={cluster}", data=json.dumps(DELIVERY).encode(),
        content_type="application/json", headers={"Authorization": AUTH},
    )  # fmt: skip

    assert response.status_code == 400
    assert response.json() == {"cluster": ["Expected one of: mainnet, devnet."], "code": "invalid"}
    assert ContractInteraction.objects.count() == 0


def test_transactions_of_unrelated_accounts_store_nothing(client):
    ProjectFactory(chain="solana:mainnet", contract_addresses=[address(99)])
    ProjectFactory(chain="solana:devnet", contract_addresses=[PROGRAM])

    response = post(client, DELIVERY)

    assert response.json() == {"received": 4, "stored": 0}
    assert ContractInteraction.objects.count() == 0


def test_both_webhooks_are_described_in_the_openapi_schema():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)

    for path, body in [
        ("/api/v1/webhooks/alchemy", "AlchemyWebhookPayloadRequest"),
        ("/api/v1/webhooks/helius", "HeliusWebhookPayloadRequest"),
    ]:
        operation = schema["paths"][path]["post"]
        content = operation["requestBody"]["content"]["application/json"]
        assert content["schema"]["$ref"] == f"#/components/schemas/{body}"
        assert set(operation["responses"]) == {"200", "400", "401", "413", "415", "503"}
    activity = schema["components"]["schemas"]["AlchemyActivityModel"]["properties"]
    assert activity["blockNum"]["type"] == "string"  # hex on the wire


# Defects seen with real deliveries.

ESCROW, SELLER, ROYALTY, RENT = address(30), address(31), address(32), address(33)
NFT_MINT = address(34)
OTHER_MINT = address(35)


def nft_sale(sig: int) -> dict:
    """USER_1 buys an NFT for 72 SOL through the project's marketplace program: the price
    and the buyer's fee go to an escrow, rent to a new token account; the escrow pays the
    seller and the royalty (webhooks.mdx's Magic Eden example, with our addresses)."""
    return enhanced(
        sig, USER_1, type_="NFT_SALE", source="MAGIC_EDEN",
        instructions=[(PROGRAM, [USER_1, ESCROW, SELLER])],
        native=[
            (USER_1, ESCROW, 72_936_000_000),
            (USER_1, RENT, 2_039_280),
            (ESCROW, SELLER, 71_856_000_000),
            (ESCROW, ROYALTY, 1_080_000_000),
        ],
        events={"nft": {
            "amount": 72_000_000_000, "buyer": USER_1, "seller": SELLER, "fee": 10000,
            "feePayer": USER_1, "nfts": [{"mint": NFT_MINT, "tokenStandard": "NonFungible"}],
            "saleType": "INSTANT_SALE", "signature": signature(sig), "slot": 406694201 + sig,
            "source": "MAGIC_EDEN", "staker": "", "timestamp": 1757425150, "type": "NFT_SALE",
            "description": "",
        }},
    )  # fmt: skip


def test_an_nft_sale_is_worth_its_sale_price_not_all_the_buyer_paid(client, project):
    assert post(client, [nft_sale(5)]).json() == {"received": 1, "stored": 1}

    row = ContractInteraction.objects.get()
    assert (row.wallet_address, row.from_address, row.to_address) == (USER_1, USER_1, SELLER)
    assert (row.amount, row.value_usd, row.transfer_position) == (
        Decimal("72"),
        Decimal("10800.00"),
        "nft",
    )


def test_a_treasury_payout_records_the_recipient_as_the_user(client, project):
    payout = enhanced(
        6, TREASURY, type_="TRANSFER", source="SYSTEM_PROGRAM",
        instructions=[(SYSTEM, [TREASURY, USER_2])], native=[(TREASURY, USER_2, 2_000_000_000)],
    )  # fmt: skip

    assert post(client, [payout]).json() == {"received": 1, "stored": 1}

    row = ContractInteraction.objects.get()
    assert (row.wallet_address, row.from_address, row.to_address, row.contract_address) == (
        USER_2,
        TREASURY,
        USER_2,
        TREASURY,
    )
    assert (row.amount, row.value_usd) == (Decimal("2"), Decimal("300.00"))


def test_each_transfer_is_its_own_row_priced_by_its_mint(client, project):
    asset_price("solana:mainnet", USDC_MINT, dt.date(2025, 9, 1), "1.00")
    payment = enhanced(
        7, USER_1, type_="TRANSFER", source="SOLANA_PROGRAM_LIBRARY",
        instructions=[(SYSTEM, [USER_1, TREASURY])],
        native=[(USER_1, TREASURY, 10_000_000)],
        tokens=[(USER_1, TREASURY, 12.5), (USER_1, TREASURY, 1000, OTHER_MINT)],
    )  # fmt: skip

    assert post(client, [payment]).json() == {"received": 1, "stored": 3}

    assert list(
        ContractInteraction.objects.order_by("transfer_position").values_list(
            "transfer_position", "wallet_address", "asset_address", "amount", "value_usd",
            "unpriced_reason",
        )
    ) == [
        ("native:0", USER_1, "native", Decimal("0.01"), Decimal("1.50"), ""),
        ("token:0", USER_1, USDC_MINT, Decimal("12.5"), Decimal("12.50"), ""),
        ("token:1", USER_1, OTHER_MINT, Decimal("1000"), Decimal("0.00"), "unknown_asset"),
    ]  # fmt: skip


def test_one_unreadable_transaction_does_not_refuse_the_delivery(client, project):
    broken = copy.deepcopy(DELIVERY[1])
    broken["slot"] = "yesterday"
    payload = [DELIVERY[0], broken, {"signature": 12}]
    body = json.dumps(payload).encode()

    response = post(client, None, raw=body)

    assert response.status_code == 200
    assert response.json() == {"received": 3, "stored": 2}
    assert set(ContractInteraction.objects.values_list("transaction_hash", flat=True)) == {
        signature(1)
    }
    assert sorted(
        RejectedActivity.objects.values_list("source", "delivery_id", "item_index", "chain")
    ) == [
        ("helius", signature(2), 1, "solana:mainnet"),
        ("helius", "sha256:" + hashlib.sha256(body).hexdigest(), 2, "solana:mainnet"),
    ]
    assert RejectedActivity.objects.get(item_index=1).reason.startswith("slot: ")


def test_a_devnet_webhook_stores_devnet_transfers_worth_nothing(client):
    devnet = ProjectFactory(chain="solana:devnet", treasury_addresses=[TREASURY])

    response = client.post(
        URL + "?cluster=devnet", data=json.dumps(DELIVERY[1:2]).encode(),
        content_type="application/json", headers={"Authorization": AUTH},
    )  # fmt: skip

    assert response.json() == {"received": 1, "stored": 1}
    row = ContractInteraction.objects.get()
    assert (row.project, row.chain, row.amount, row.value_usd, row.unpriced_reason) == (
        devnet,
        "solana:devnet",
        Decimal("1"),
        Decimal("0.00"),
        "",
    )
