"""Conformance of the Helius webhook with each shape of enhanced transaction Helius
documents: the rows stored on PostgreSQL, field by field.

The fixtures are written here from Helius' documentation, with our own addresses:
- the enhanced-transaction example of https://www.helius.dev/docs/webhooks (helius-labs/docs
  `webhooks.mdx`: a Magic Eden NFT_SALE with `events.nft`, `nativeTransfers`,
  `tokenTransfers` and `accountData[].tokenBalanceChanges[].rawTokenAmount`);
- the `EnhancedTransaction` schema of Helius' OpenAPI definition (helius-labs/docs
  `openapi/openapi-definition.yaml`): `NativeTransfer` (lamports), `TokenTransfer`
  (`tokenAmount`, a number), `TokenBalanceChange`/`RawTokenAmount` (`tokenAmount` a
  string), `NFTEvent` (`amount` in lamports, `buyer`, `seller`, `saleType`, `nfts[]`),
  `SwapEvent` (`nativeInput`/`nativeOutput` with amounts as strings, `tokenInputs`,
  `tokenOutputs`, `innerSwaps` of `TokenSwap`s), `CompressedNFTEvent` and
  `transactionError: {error}`;
- helius-sdk's `EnrichedTransaction` type (`src/types/types.ts`): `nativeTransfers` and
  `tokenTransfers` may be null, `tokenBalanceChanges` too;
- helius-sdk issue #68 / pull request #69: `events.compressed` is an array (the OpenAPI
  definition shows one object; both are read), and the compressed-NFT guide
  (`webhooks/guides/cnft-event-listening.mdx`) for its COMPRESSED_NFT_MINT shape.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal

import base58
import pytest

from trace.models import ContractInteraction, RejectedActivity
from trace.tests.factories import ProjectFactory, asset_price
from trace.tests.test_webhooks_helius import AUTH, URL, USDC_MINT, address, signature

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

PROGRAM, TREASURY, TREE = address(7), address(8), address(10)
USER_1, USER_2, STRANGER = address(21), address(22), address(23)
MARKETPLACE, ESCROW, ROYALTY, RENT = address(50), address(51), address(52), address(53)
POOL_A, POOL_B, NFT, CNFT = address(54), address(55), address(56), address(57)
OTHER_MINT, ODD_MINT, DUST_MINT = address(60), address(61), address(62)
USDT_MINT = "Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB"
SYSTEM = "11111111111111111111111111111111"
TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
BUBBLEGUM = "BGUMAp9Gq7iTEuizy4pqaxsTyUCBK68MDfK752saRPUY"
TIMESTAMP = 1757425150
AT = dt.datetime(2025, 9, 9, 13, 39, 10, tzinfo=dt.UTC)
FIELDS = (
    "chain", "transfer_position", "block_number", "occurred_at", "wallet_address",
    "from_address", "to_address", "contract_address", "event_type", "asset", "asset_address",
    "amount", "value_usd", "unpriced_reason", "log_index", "source",
)  # fmt: skip


@pytest.fixture(autouse=True)
def _configured(settings):
    settings.HELIUS_WEBHOOK_AUTH = AUTH
    day = dt.date(2025, 9, 1)
    asset_price("solana:mainnet", "native", day, "150.00")
    asset_price("solana:mainnet", USDC_MINT, day, "1.00")
    asset_price("solana:mainnet", USDT_MINT, day, "1.00")
    # Registered with 2 decimals: a payload saying 3 does not scale its value.
    asset_price("solana:mainnet", ODD_MINT, day, "2.00", symbol="ODD", decimals=2)


@pytest.fixture(autouse=True)
def project():
    return ProjectFactory(
        chain="solana:mainnet",
        contract_addresses=[PROGRAM, TREE],
        treasury_addresses=[TREASURY],
    )


def transaction(sig: int, fee_payer: str, type_: str, source: str, **fields) -> dict:
    """An enhanced transaction as the webhook delivers it; `fields` by their wire names."""
    return {
        "description": "",
        "type": type_,
        "source": source,
        "fee": 5000,
        "feePayer": fee_payer,
        "signature": signature(sig),
        "slot": 171942700 + sig,
        "timestamp": TIMESTAMP,
        "nativeTransfers": [],
        "tokenTransfers": [],
        "accountData": [
            {"account": fee_payer, "nativeBalanceChange": -5000, "tokenBalanceChanges": []}
        ],
        "transactionError": None,
        "instructions": [],
        "events": {},
        **fields,
    }  # fmt: skip


def native(source: str | None, target: str | None, lamports: int) -> dict:
    return {"fromUserAccount": source or "", "toUserAccount": target or "", "amount": lamports}


def token(source: str, target: str, amount, mint: str, standard: str = "Fungible") -> dict:
    return {
        "fromUserAccount": source,
        "toUserAccount": target,
        "fromTokenAccount": token_account(source, mint) if source else "",
        "toTokenAccount": token_account(target, mint),
        "tokenAmount": amount,
        "mint": mint,
        "tokenStandard": standard,
    }


def token_account(owner: str, mint: str) -> str:
    """The owner's (associated) account of the mint: one per owner and mint."""
    return base58.b58encode(hashlib.sha256((owner + mint).encode()).digest()).decode()


def balance_change(owner: str, mint: str, raw: str, decimals: int) -> dict:
    return {
        "account": token_account(owner, mint),
        "nativeBalanceChange": 0,
        "tokenBalanceChanges": [
            {
                "userAccount": owner,
                "tokenAccount": token_account(owner, mint),
                "mint": mint,
                "rawTokenAmount": {"tokenAmount": raw, "decimals": decimals},
            }
        ],
    }


def instruction(program: str, *accounts: str) -> dict:
    return {
        "programId": program,
        "accounts": list(accounts),
        "data": "3Bxs",
        "innerInstructions": [],
    }


def deliver(client, payload, *, query: str = "") -> dict:
    response = client.post(
        URL + query,
        data=json.dumps(payload).encode(),
        content_type="application/json",
        headers={"Authorization": AUTH},
    )
    assert response.status_code == 200
    return response.json()


def stored() -> list[dict]:
    return list(ContractInteraction.objects.order_by("id").values(*FIELDS))


def row(sig: int, position: str, **fields) -> dict:
    """The expected row: a Helius row of mainnet's transaction `sig` unless told."""
    return {
        "chain": "solana:mainnet",
        "transfer_position": position,
        "block_number": 171942700 + sig,
        "occurred_at": AT,
        "log_index": -1,
        "source": "helius",
        "unpriced_reason": "",
        **fields,
    }


def test_a_native_transfer(client):
    """TRANSFER of SOL by the system program (OpenAPI `NativeTransfer`, in lamports)."""
    payment = transaction(
        1, USER_1, "TRANSFER", "SYSTEM_PROGRAM",
        nativeTransfers=[native(USER_1, TREASURY, 1_500_000_000)],
        instructions=[instruction(SYSTEM, USER_1, TREASURY)],
    )  # fmt: skip

    assert deliver(client, [payment]) == {"received": 1, "stored": 1}
    assert stored() == [
        row(1, "native:0", wallet_address=USER_1, from_address=USER_1, to_address=TREASURY,
            contract_address=TREASURY, event_type="TRANSFER", asset="SOL",
            asset_address="native", amount=Decimal("1.5"), value_usd=Decimal("225.00")),
    ]  # fmt: skip


def test_token_transfers_each_a_row_exact_from_their_raw_amounts(client):
    """Token transfers (OpenAPI `TokenTransfer`, UI amounts) with the exact raw amounts of
    `accountData[].tokenBalanceChanges[].rawTokenAmount` (webhooks.mdx's example): USDC,
    a mint the registry does not list, a registered mint whose payload claims other
    decimals, one without a balance change, and one between strangers."""
    payment = transaction(
        2, USER_1, "TRANSFER", "SOLANA_PROGRAM_LIBRARY",
        tokenTransfers=[
            token(USER_1, TREASURY, 250.75, USDC_MINT),
            token(USER_2, STRANGER, 3, USDC_MINT),
        ],
        accountData=[balance_change(TREASURY, USDC_MINT, "250750000", 6)],
        instructions=[instruction(TOKEN_PROGRAM, USER_1, TREASURY)],
    )  # fmt: skip
    others = transaction(
        3, USER_2, "TRANSFER", "SOLANA_PROGRAM_LIBRARY",
        tokenTransfers=[
            token(USER_2, TREASURY, 1000, OTHER_MINT),
            token(TREASURY, USER_2, 12.345, ODD_MINT),
            token(USER_2, TREASURY, 0.5, USDT_MINT),
        ],
        accountData=[
            balance_change(TREASURY, OTHER_MINT, "1000000000", 6),
            balance_change(USER_2, ODD_MINT, "12345", 3),
        ],
    )  # fmt: skip

    assert deliver(client, [payment, others]) == {"received": 2, "stored": 4}
    common = {"event_type": "TRANSFER", "contract_address": TREASURY}
    assert stored() == [
        row(2, "token:0", wallet_address=USER_1, from_address=USER_1, to_address=TREASURY,
            asset="USDC", asset_address=USDC_MINT, amount=Decimal("250.75"),
            value_usd=Decimal("250.75"), **common),
        row(3, "token:0", wallet_address=USER_2, from_address=USER_2, to_address=TREASURY,
            asset="", asset_address=OTHER_MINT, amount=Decimal("1000"),
            value_usd=Decimal("0.00"), unpriced_reason="unknown_asset", **common),
        # The treasury pays USER_2: the registry's 2 decimals make 12345 units 123.45.
        row(3, "token:1", wallet_address=USER_2, from_address=TREASURY, to_address=USER_2,
            asset="ODD", asset_address=ODD_MINT, amount=Decimal("123.45"),
            value_usd=Decimal("246.90"), **common),
        row(3, "token:2", wallet_address=USER_2, from_address=USER_2, to_address=TREASURY,
            asset="USDT", asset_address=USDT_MINT, amount=Decimal("0.5"),
            value_usd=Decimal("0.50"), **common),
    ]  # fmt: skip


def nft_sale(sig: int, **nft) -> dict:
    """webhooks.mdx's example, the project's treasury selling: the buyer pays price and
    fee into the marketplace's escrow and rent for a token account; the escrow pays the
    seller and the royalty; the NFT moves to the buyer."""
    return transaction(
        sig, USER_1, "NFT_SALE", "MAGIC_EDEN",
        nativeTransfers=[
            native(USER_1, ESCROW, 72_936_000_000),
            native(USER_1, RENT, 2_011_440),
            native(ESCROW, TREASURY, 71_856_000_000),
            native(ESCROW, ROYALTY, 1_080_000_000),
        ],
        tokenTransfers=[token(TREASURY, USER_1, 1, NFT, "NonFungible")],
        accountData=[
            {"account": USER_1, "nativeBalanceChange": -72_938_049_280, "tokenBalanceChanges": []},
            balance_change(USER_1, NFT, "1", 0),
        ],
        instructions=[instruction(MARKETPLACE, USER_1, ESCROW, TREASURY)],
        events={"nft": {
            "description": "", "type": "NFT_SALE", "source": "MAGIC_EDEN",
            "amount": 72_000_000_000, "fee": 10000, "feePayer": USER_1,
            "signature": signature(sig), "slot": 171942700 + sig, "timestamp": TIMESTAMP,
            "saleType": "INSTANT_SALE", "buyer": USER_1, "seller": TREASURY, "staker": "",
            "nfts": [{"mint": NFT, "tokenStandard": "NonFungible"}], **nft,
        }},
    )  # fmt: skip


def test_an_nft_sale_is_its_price_from_buyer_to_seller(client):
    """NFT_SALE (`events.nft.amount` in lamports): one row, not its fees, rent, royalty or
    the NFT's own transfer."""
    assert deliver(client, [nft_sale(4)]) == {"received": 1, "stored": 1}
    assert stored() == [
        row(4, "nft", wallet_address=USER_1, from_address=USER_1, to_address=TREASURY,
            contract_address=TREASURY, event_type="NFT_SALE", asset="SOL",
            asset_address="native", amount=Decimal("72"), value_usd=Decimal("10800.00")),
    ]  # fmt: skip


def test_an_nft_mint_is_its_mint_price(client):
    """NFT_MINT through the project's program (`NFTEvent` with `saleType: MINT`, no
    seller): the mint price, whatever else the minter paid."""
    mint = transaction(
        5, USER_2, "NFT_MINT", "CANDY_MACHINE_V3",
        nativeTransfers=[native(USER_2, TREASURY, 1_500_000_000), native(USER_2, RENT, 5_616_720)],
        tokenTransfers=[token("", USER_2, 1, NFT, "NonFungible")],
        instructions=[instruction(PROGRAM, USER_2, TREASURY)],
        events={"nft": {
            "type": "NFT_MINT", "source": "CANDY_MACHINE_V3", "amount": 1_500_000_000,
            "fee": 5000, "feePayer": USER_2, "signature": signature(5), "slot": 171942705,
            "timestamp": TIMESTAMP, "saleType": "MINT", "buyer": USER_2, "seller": "",
            "staker": "", "nfts": [{"mint": NFT, "tokenStandard": "NonFungible"}],
        }},
    )  # fmt: skip

    assert deliver(client, [mint]) == {"received": 1, "stored": 1}
    assert stored() == [
        row(5, "nft", wallet_address=USER_2, from_address=USER_2, to_address="",
            contract_address=PROGRAM, event_type="NFT_MINT", asset="SOL",
            asset_address="native", amount=Decimal("1.5"), value_usd=Decimal("225.00")),
    ]  # fmt: skip


def test_a_listing_is_not_a_sale(client):
    """An NFT event that moves no money (NFT_LISTING: its `amount` is the asking price)
    is its transfers: the NFT into escrow, not fungible, and no price."""
    listing = nft_sale(6, type="NFT_LISTING", buyer="", saleType="UNKNOWN")
    listing.update(
        type="NFT_LISTING",
        nativeTransfers=[],
        tokenTransfers=[token(TREASURY, ESCROW, 1, NFT, "NonFungible")],
    )

    assert deliver(client, [listing]) == {"received": 1, "stored": 1}
    assert stored() == [
        row(6, "token:0", wallet_address=ESCROW, from_address=TREASURY, to_address=ESCROW,
            contract_address=TREASURY, event_type="NFT_LISTING", asset="NFT",
            asset_address="", amount=Decimal("1"), value_usd=Decimal("0.00"),
            unpriced_reason="not_fungible"),
    ]  # fmt: skip


def test_a_swap_is_its_legs(client):
    """SWAP through the project's program (`SwapEvent`: 100 USDC in from `tokenInputs`
    with its `rawTokenAmount`, 0.66 SOL out as `nativeOutput`, amounts as strings); the
    transfers around it are not rows."""
    swap = transaction(
        7, USER_1, "SWAP", "RAYDIUM",
        nativeTransfers=[native(POOL_A, USER_1, 660_000_000)],
        tokenTransfers=[token(USER_1, POOL_A, 100, USDC_MINT)],
        instructions=[instruction(PROGRAM, USER_1, POOL_A)],
        events={"swap": {
            "nativeInput": None,
            "nativeOutput": {"account": USER_1, "amount": "660000000"},
            "tokenInputs": [{
                "userAccount": USER_1, "tokenAccount": token_account(USER_1, USDC_MINT),
                "mint": USDC_MINT,
                "rawTokenAmount": {"tokenAmount": "100000000", "decimals": 6},
            }],
            "tokenOutputs": [], "tokenFees": [], "nativeFees": [], "innerSwaps": [],
        }},
    )  # fmt: skip

    assert deliver(client, [swap]) == {"received": 1, "stored": 2}
    common = {"wallet_address": USER_1, "contract_address": PROGRAM, "event_type": "SWAP"}
    assert stored() == [
        row(7, "swap:out:native", from_address="", to_address=USER_1, asset="SOL",
            asset_address="native", amount=Decimal("0.66"), value_usd=Decimal("99.00"),
            **common),
        row(7, "swap:in:0", from_address=USER_1, to_address="", asset="USDC",
            asset_address=USDC_MINT, amount=Decimal("100"), value_usd=Decimal("100.00"),
            **common),
    ]  # fmt: skip


def test_a_routed_swap_is_the_swappers_legs_of_its_hops(client):
    """SWAP whose legs Helius gives only as `innerSwaps` (`TokenSwap` hops, "a swap of
    wSOL <-> USDC may be made of multiple swaps"): USDC into the first hop, USDT out of
    the second; the intermediate token is nobody's leg."""
    program_info = {
        "source": "ORCA",
        "account": POOL_A,
        "programName": "ORCA_WHIRLPOOLS",
        "instructionName": "swap",
    }
    hop = {"tokenFees": [], "nativeFees": [], "programInfo": program_info}
    swap = transaction(
        8, USER_1, "SWAP", "JUPITER",
        instructions=[instruction(PROGRAM, USER_1, POOL_A, POOL_B)],
        events={"swap": {
            "nativeInput": None, "nativeOutput": None, "tokenInputs": [], "tokenOutputs": [],
            "tokenFees": [], "nativeFees": [],
            "innerSwaps": [
                {"tokenInputs": [token(USER_1, POOL_A, 50, USDC_MINT)],
                 "tokenOutputs": [token(POOL_A, POOL_B, 7, DUST_MINT)], **hop},
                {"tokenInputs": [token(POOL_A, POOL_B, 7, DUST_MINT)],
                 "tokenOutputs": [token(POOL_B, USER_1, 49.9, USDT_MINT)], **hop},
            ],
        }},
    )  # fmt: skip

    assert deliver(client, [swap]) == {"received": 1, "stored": 2}
    common = {"wallet_address": USER_1, "contract_address": PROGRAM, "event_type": "SWAP"}
    assert stored() == [
        row(8, "swap:0:in:0", from_address=USER_1, to_address=POOL_A, asset="USDC",
            asset_address=USDC_MINT, amount=Decimal("50"), value_usd=Decimal("50.00"),
            **common),
        row(8, "swap:1:out:0", from_address=POOL_B, to_address=USER_1, asset="USDT",
            asset_address=USDT_MINT, amount=Decimal("49.9"), value_usd=Decimal("49.90"),
            **common),
    ]  # fmt: skip


@pytest.mark.parametrize("as_array", [True, False], ids=["array", "object"])
def test_a_compressed_nft_minted_in_the_projects_tree(client, as_array):
    """COMPRESSED_NFT_MINT by Bubblegum in the project's Merkle tree (`events.compressed`,
    an array as helius-sdk #68 says, or one object as the OpenAPI definition shows): not
    fungible, the new leaf owner is the user."""
    event = {
        "type": "COMPRESSED_NFT_MINT", "treeId": TREE, "assetId": CNFT, "leafIndex": 12,
        "seq": 13, "instructionIndex": 0, "innerInstructionIndex": None,
        "newLeafOwner": USER_2, "oldLeafOwner": None, "newLeafDelegate": USER_2,
        "oldLeafDelegate": None, "treeDelegate": TREASURY,
    }  # fmt: skip
    mint = transaction(
        9, TREASURY, "COMPRESSED_NFT_MINT", "BUBBLEGUM",
        instructions=[instruction(BUBBLEGUM, TREE, USER_2)],
        events={"compressed": [event] if as_array else event},
    )  # fmt: skip

    assert deliver(client, [mint]) == {"received": 1, "stored": 1}
    assert stored() == [
        row(9, "compressed:0", wallet_address=USER_2, from_address="", to_address=USER_2,
            contract_address=TREE, event_type="COMPRESSED_NFT_MINT", asset="NFT",
            asset_address="", amount=Decimal("1"), value_usd=Decimal("0.00"),
            unpriced_reason="not_fungible"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    "error",
    [{"error": "custom program error: 0x1771"}, {"InstructionError": [0, {"Custom": 6001}]}],
    ids=["openapi", "instruction-error"],
)
def test_a_failed_transaction_stores_nothing(client, error):
    """`transactionError` set (OpenAPI: `{error}`; web3.js' `TransactionError`): it moved
    nothing but its fee; not a rejected item either."""
    failed = transaction(
        10, USER_1, "TRANSFER", "SYSTEM_PROGRAM", transactionError=error,
        nativeTransfers=[native(USER_1, TREASURY, 1_000_000_000)],
    )  # fmt: skip

    assert deliver(client, [failed]) == {"received": 1, "stored": 0}
    assert ContractInteraction.objects.count() == RejectedActivity.objects.count() == 0


def test_optional_fields_missing_or_null(client):
    """Only what every enhanced transaction has (signature, timestamp, slot, feePayer),
    with null lists (helius-sdk: `tokenTransfers: TokenTransfer[] | null`) and a mint's
    empty sender (`fromUserAccount: ""`): the transfers are still stored."""
    bare = {
        "signature": signature(11), "timestamp": TIMESTAMP, "slot": 171942711,
        "feePayer": USER_1, "nativeTransfers": [native(USER_1, TREASURY, 2_000_000)],
    }  # fmt: skip
    nulls = transaction(
        12, USER_1, "TOKEN_MINT", "UNKNOWN", nativeTransfers=None, accountData=None,
        events=None, instructions=None, tokenTransfers=[token("", TREASURY, 5, USDC_MINT)],
    )  # fmt: skip
    nulls.update(type=None, source=None)

    assert deliver(client, [bare, nulls]) == {"received": 2, "stored": 2}
    assert stored() == [
        row(11, "native:0", wallet_address=USER_1, from_address=USER_1, to_address=TREASURY,
            contract_address=TREASURY, event_type="UNKNOWN", asset="SOL",
            asset_address="native", amount=Decimal("0.002"), value_usd=Decimal("0.30")),
        # Minted to the treasury: the user is who paid for the transaction.
        row(12, "token:0", wallet_address=USER_1, from_address="", to_address=TREASURY,
            contract_address=TREASURY, event_type="UNKNOWN", asset="USDC",
            asset_address=USDC_MINT, amount=Decimal("5"), value_usd=Decimal("5.00")),
    ]  # fmt: skip


def test_empty_events_and_a_program_call_moving_nothing_of_the_project(client):
    """`events: {}` on a call of the project's program whose transfers are others' (a
    priority tip, rent): one `transaction` row worth 0, the caller as the user."""
    call = transaction(
        13, USER_2, "UNKNOWN", "UNKNOWN", events={},
        nativeTransfers=[native(USER_2, STRANGER, 1_000_000), native(USER_2, RENT, 2_039_280)],
        instructions=[instruction(SYSTEM, USER_2, STRANGER), instruction(PROGRAM, USER_2)],
    )  # fmt: skip

    assert deliver(client, [call]) == {"received": 1, "stored": 1}
    assert stored() == [
        row(13, "transaction", wallet_address=USER_2, from_address=USER_2, to_address=PROGRAM,
            contract_address=PROGRAM, event_type="UNKNOWN", asset="SOL",
            asset_address="native", amount=Decimal("0"), value_usd=Decimal("0.00")),
    ]  # fmt: skip


def test_a_devnet_delivery_is_stored_on_devnet_worth_nothing(client, project):
    """A webhook created with `webhookType: enhancedDevnet` (Webhooks FAQ) and our URL
    given `?cluster=devnet`: devnet's coins and tokens have no value."""
    devnet = ProjectFactory(chain="solana:devnet", treasury_addresses=[TREASURY])
    payment = transaction(
        14, USER_1, "TRANSFER", "SYSTEM_PROGRAM",
        nativeTransfers=[native(USER_1, TREASURY, 3_000_000_000)],
        tokenTransfers=[token(USER_1, TREASURY, 10, USDC_MINT)],
    )  # fmt: skip

    assert deliver(client, [payment], query="?cluster=devnet") == {"received": 1, "stored": 2}
    assert set(ContractInteraction.objects.values_list("project", flat=True)) == {devnet.id}
    common = {"chain": "solana:devnet", "wallet_address": USER_1, "from_address": USER_1,
              "to_address": TREASURY, "contract_address": TREASURY, "event_type": "TRANSFER",
              "value_usd": Decimal("0.00")}  # fmt: skip
    assert stored() == [
        row(14, "native:0", asset="SOL", asset_address="native", amount=Decimal("3"), **common),
        row(14, "token:0", asset="", asset_address=USDC_MINT, amount=Decimal("10"), **common),
    ]  # fmt: skip
