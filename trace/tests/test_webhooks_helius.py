"""POST /api/v1/webhooks/helius with enhanced-transaction arrays shaped as Helius documents
them (https://www.helius.dev/docs/webhooks)."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal

import base58
import pytest

from trace.models import ContractInteraction
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
             tokens=(), error=None, timestamp: int = 1757425150) -> dict:  # fmt: skip
    return {
        "accountData": [
            {"account": fee_payer, "nativeBalanceChange": -80000, "tokenBalanceChanges": []}
        ],
        "description": "",
        "events": {},
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
                "mint": USDC_MINT,
                "tokenStandard": "Fungible",
            }
            for src, dst, amount in tokens
        ],
        "transactionError": error,
        "type": type_,
    }


DELIVERY = [
    # USER_1 swaps through the project's program (its second instruction), paying the pool.
    enhanced(
        1, USER_1, type_="SWAP", source="UNKNOWN",
        instructions=[(COMPUTE_BUDGET, []), (PROGRAM, [USER_1, POOL])],
        native=[(USER_1, POOL, 250_000_000)],
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


def test_authorized_delivery_stores_the_project_transactions(client, project):
    response = post(client, DELIVERY)

    assert response.status_code == 200
    assert response.json() == {"received": 4, "stored": 2}
    at = dt.datetime(2025, 9, 9, 13, 39, 10, tzinfo=dt.UTC)
    assert list(
        ContractInteraction.objects.order_by("block_number").values_list(
            "project_id", "chain", "transaction_hash", "log_index", "block_number",
            "wallet_address", "from_address", "to_address", "contract_address", "event_type",
            "asset", "asset_address", "amount", "value_usd", "occurred_at", "source",
        )
    ) == [
        (project.id, "solana:mainnet", signature(1), 1, 406694202, USER_1, USER_1, PROGRAM,
         PROGRAM, "SWAP", "SOL", "native", Decimal("0.25"), Decimal("37.50"), at, "helius"),
        (project.id, "solana:mainnet", signature(2), -1, 406694203, USER_2, USER_2, TREASURY,
         TREASURY, "TRANSFER", "SOL", "native", Decimal("1"), Decimal("150.00"), at, "helius"),
    ]  # fmt: skip


def test_a_redelivery_stores_nothing_twice(client, project):
    assert post(client, DELIVERY).json() == {"received": 4, "stored": 2}

    response = post(client, DELIVERY)

    assert response.json() == {"received": 4, "stored": 0}
    assert ContractInteraction.objects.count() == 2


def test_an_inner_instruction_of_the_program_counts(client, project):
    payload = copy.deepcopy(DELIVERY[2:3])
    payload[0]["instructions"][0]["innerInstructions"] = [
        {"accounts": [STRANGER], "data": "4S1aZQ", "programId": PROGRAM}
    ]

    assert post(client, payload).json() == {"received": 1, "stored": 1}
    row = ContractInteraction.objects.get()
    assert (row.log_index, row.wallet_address, row.amount) == (0, STRANGER, Decimal("5E-9"))


def test_unpriced_sol_is_stored_with_zero_value(client, project):
    payload = copy.deepcopy(DELIVERY[:1])
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
    ("payload", "field"),
    [
        (DELIVERY[0], "non_field_errors"),  # an object, not the documented array
        (_broken(0, "signature", "not-a-signature"), "0.signature"),
        (_broken(1, "feePayer", "0xabc"), "1.feePayer"),
        (_broken(0, "timestamp", "yesterday"), "0.timestamp"),
        (_broken(0, "timestamp", 2**40), "0.timestamp"),
        (_broken(0, "slot", 2**64), "0.slot"),
        (_broken(0, "nativeTransfers", [{"amount": -1, "fromUserAccount": USER_1}]),
         "0.nativeTransfers.0.amount"),
        (_broken(0, "instructions", [{"programId": "0OIl"}]), "0.instructions.0.programId"),
        (_broken(0, "slot", KeyError), "0.slot"),
    ],
)  # fmt: skip
def test_a_payload_not_shaped_as_documented_is_400_and_stores_nothing(
    client, project, payload, field
):
    response = post(client, payload)

    assert response.status_code == 400
    assert field in response.json()
    assert ContractInteraction.objects.count() == 0


@pytest.mark.parametrize("raw", [b"", b"[{", b"\x00\x01", b"[" * 4000 + b"]" * 4000])
def test_malformed_json_is_400_and_stores_nothing(client, project, raw):
    response = post(client, None, raw=raw)

    assert response.status_code == 400
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
