"""Alchemy "Address Activity" webhooks: the payload as Alchemy documents it, parsed.

https://www.alchemy.com/docs/reference/address-activity-webhook — one delivery carries
`event.network` and a list of transfers (`external`, `internal`, `token`, `erc20`,
`erc721`, `erc1155`), each with `fromAddress`, `toAddress`, `blockNum` (hex), `hash`,
`value`, `asset`, `category`, `rawContract {rawValue, address, decimals}`, for token
transfers the `log` it came from, `erc721TokenId` for an NFT, `erc1155Metadata` (a list of
`{tokenId, value}`, several for a batch) for an ERC-1155 transfer, and `typeTraceAddress`
(`call_0_1`) for an internal one.

Each activity is validated on its own: one that is not of the documented shape is handed
back as an `UnparsedItem` while the others are parsed, so it cannot get the whole delivery
refused (Alchemy retries a refused delivery, then pauses the webhook). Only an envelope that
is not Alchemy's is a `PayloadError`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator

from fabrknt.chain.wire import (
    EvmAddress,
    Hash32,
    HexData,
    HexQuantity,
    JsonNumber,
    PayloadError,
    Text,
    UnparsedItem,
    WireModel,
    payload_errors,
    unparsed_item,
)

# Alchemy's network names (the `network` enum of its Notify API, create-webhook, and the
# SDK's Network list) -> CAIP-2. Networks not listed (Starknet, Solana: other payloads) are
# accepted and ignored.
MAINNET_CHAINS: dict[str, str] = {
    "ETH_MAINNET": "eip155:1",
    "OPT_MAINNET": "eip155:10",
    "ROOTSTOCK_MAINNET": "eip155:30",
    "BNB_MAINNET": "eip155:56",
    "GNOSIS_MAINNET": "eip155:100",
    "UNICHAIN_MAINNET": "eip155:130",
    "MATIC_MAINNET": "eip155:137",
    "SONIC_MAINNET": "eip155:146",
    "FANTOM_MAINNET": "eip155:250",
    "ZKSYNC_MAINNET": "eip155:324",
    "SHAPE_MAINNET": "eip155:360",
    "WORLDCHAIN_MAINNET": "eip155:480",
    "METIS_MAINNET": "eip155:1088",
    "POLYGONZKEVM_MAINNET": "eip155:1101",
    "SONEIUM_MAINNET": "eip155:1868",
    "ABSTRACT_MAINNET": "eip155:2741",
    "MANTLE_MAINNET": "eip155:5000",
    "ZETACHAIN_MAINNET": "eip155:7000",
    "BASE_MAINNET": "eip155:8453",
    "APECHAIN_MAINNET": "eip155:33139",
    "ARB_MAINNET": "eip155:42161",
    "ARBNOVA_MAINNET": "eip155:42170",
    "CELO_MAINNET": "eip155:42220",
    "AVAX_MAINNET": "eip155:43114",
    "INK_MAINNET": "eip155:57073",
    "LINEA_MAINNET": "eip155:59144",
    "GEIST_MAINNET": "eip155:63157",
    "BERACHAIN_MAINNET": "eip155:80094",
    "BLAST_MAINNET": "eip155:81457",
    "SCROLL_MAINNET": "eip155:534352",
    "ZORA_MAINNET": "eip155:7777777",
}
TESTNET_CHAINS: dict[str, str] = {
    "ETH_GOERLI": "eip155:5",
    "ROOTSTOCK_TESTNET": "eip155:31",
    "BNB_TESTNET": "eip155:97",
    "OPT_GOERLI": "eip155:420",
    "ZKSYNC_SEPOLIA": "eip155:300",
    "SONEIUM_MINATO": "eip155:1946",
    "FANTOM_TESTNET": "eip155:4002",
    "WORLDCHAIN_SEPOLIA": "eip155:4801",
    "MANTLE_SEPOLIA": "eip155:5003",
    "SETTLUS_SEPTESTNET": "eip155:5373",
    "ZETACHAIN_TESTNET": "eip155:7001",
    "MONAD_TESTNET": "eip155:10143",
    "GNOSIS_CHIADO": "eip155:10200",
    "SHAPE_SEPOLIA": "eip155:11011",
    "ABSTRACT_TESTNET": "eip155:11124",
    "ETH_HOLESKY": "eip155:17000",
    "APECHAIN_CURTIS": "eip155:33111",
    "AVAX_FUJI": "eip155:43113",
    "CELO_ALFAJORES": "eip155:44787",
    # Alchemy's Sonic testnet is Blaze (its RPC host is sonic-blaze).
    "SONIC_TESTNET": "eip155:57054",
    "SONIC_BLAZE": "eip155:57054",
    "LINEA_SEPOLIA": "eip155:59141",
    "MATIC_MUMBAI": "eip155:80001",
    "MATIC_AMOY": "eip155:80002",
    "BERACHAIN_BEPOLIA": "eip155:80069",
    "BASE_GOERLI": "eip155:84531",
    "BASE_SEPOLIA": "eip155:84532",
    "ARB_GOERLI": "eip155:421613",
    "ARB_SEPOLIA": "eip155:421614",
    "ETH_HOODI": "eip155:560048",
    "GEIST_POLTER": "eip155:631571",
    "INK_SEPOLIA": "eip155:763373",
    "UNICHAIN_SEPOLIA": "eip155:1301",
    "SCROLL_SEPOLIA": "eip155:534351",
    "ETH_SEPOLIA": "eip155:11155111",
    "OPT_SEPOLIA": "eip155:11155420",
    "BLAST_SEPOLIA": "eip155:168587773",
    "ZORA_SEPOLIA": "eip155:999999999",
}
NETWORK_CHAINS: dict[str, str] = {**MAINNET_CHAINS, **TESTNET_CHAINS}

# Upper bounds on one delivery's transfers and one ERC-1155 batch; Alchemy sends far fewer.
MAX_ACTIVITIES = 5000
MAX_BATCH_ITEMS = 1000
# A 256-bit quantity: 64 hex digits after "0x".
QUANTITY_DIGITS = 64
# Seconds since the epoch, below the year 10000 (what a datetime can hold).
MAX_TIMESTAMP = 253_402_300_799
# `typeTraceAddress`: the call type and the trace address, "call_0_1".
TRACE_ADDRESS = re.compile(r"^[A-Za-z]+(_[0-9]+)*$")
# The category whose rawValue is the log's ABI-encoded data, not an amount.
ERC1155 = "erc1155"


class AlchemyRawContract(WireModel):
    # The raw amount (a quantity; "0x" for an NFT), or for an ERC-1155 transfer the log's
    # ABI-encoded data: its amounts are in `erc1155Metadata`.
    raw_value: HexData | None = Field(default=None, alias="rawValue")
    address: EvmAddress | None = None
    decimals: int | None = Field(default=None, ge=0, le=36)


class AlchemyLog(WireModel):
    log_index: HexQuantity = Field(alias="logIndex", le=2**31 - 1)
    block_hash: Hash32 | None = Field(default=None, alias="blockHash")
    # The block's time, which JSON-RPC log objects carry since ethereum/execution-apis#639
    # (geth 1.16); older payloads have none.
    block_timestamp: HexQuantity | None = Field(
        default=None, alias="blockTimestamp", le=MAX_TIMESTAMP
    )
    removed: bool = False


class AlchemyErc1155Item(WireModel):
    token_id: HexQuantity = Field(alias="tokenId")
    value: HexQuantity


class AlchemyActivityModel(WireModel):
    block_num: HexQuantity = Field(alias="blockNum", le=2**63 - 1)
    hash: Hash32
    from_address: EvmAddress = Field(alias="fromAddress")
    # null for a contract creation
    to_address: EvmAddress | None = Field(default=None, alias="toAddress")
    value: JsonNumber | None = Field(default=None, allow_inf_nan=False)
    asset: Text | None = Field(default=None, max_length=32)
    category: Text = Field(max_length=32)
    raw_contract: AlchemyRawContract | None = Field(default=None, alias="rawContract")
    erc721_token_id: HexQuantity | None = Field(default=None, alias="erc721TokenId")
    erc1155_metadata: list[AlchemyErc1155Item] | None = Field(
        default=None, alias="erc1155Metadata", max_length=MAX_BATCH_ITEMS
    )
    type_trace_address: str | None = Field(
        default=None, alias="typeTraceAddress", max_length=80, pattern=TRACE_ADDRESS
    )
    log: AlchemyLog | None = None

    @field_validator("raw_contract")
    @classmethod
    def _raw_value_is_an_amount(
        cls, raw: AlchemyRawContract | None, info: ValidationInfo
    ) -> AlchemyRawContract | None:
        # `category` is declared (so validated) before `rawContract`.
        amount = raw.raw_value if raw is not None else None
        if info.data.get("category") != ERC1155 and amount and len(amount) > QUANTITY_DIGITS + 2:
            raise ValueError("rawValue: expected a 0x-prefixed 256-bit quantity.")
        return raw


class AlchemyEnvelopeEvent(WireModel):
    network: Text = Field(max_length=64)
    # Each activity is validated on its own, in `alchemy_payload_parse`.
    activity: list[Any] = Field(max_length=MAX_ACTIVITIES)


class AlchemyEnvelope(WireModel):
    """What a delivery must be to be taken at all: Alchemy's envelope."""

    webhook_id: Text = Field(alias="webhookId", max_length=128)
    id: Text = Field(max_length=128)
    created_at: dt.datetime = Field(alias="createdAt")
    type: Literal["ADDRESS_ACTIVITY"]
    event: AlchemyEnvelopeEvent


class AlchemyEventModel(AlchemyEnvelopeEvent):
    activity: list[AlchemyActivityModel] = Field(max_length=MAX_ACTIVITIES)


class AlchemyWebhookPayload(AlchemyEnvelope):
    """An Address Activity delivery (the request body of `POST /api/v1/webhooks/alchemy`),
    as documented: the OpenAPI schema. Parsed as an `AlchemyEnvelope` and its activities."""

    event: AlchemyEventModel


@dataclasses.dataclass(frozen=True)
class AlchemyActivity:
    """One transfer: an activity, or one item of an ERC-1155 batch."""

    block_number: int
    transaction_hash: str
    from_address: str
    to_address: str | None
    asset: str
    category: str
    amount: Decimal
    # The integer amount in the asset's smallest unit, and the decimals Alchemy gave for
    # it; a registry that knows the asset prices by its own decimals instead.
    raw_amount: int | None
    decimals: int | None
    token_address: str | None
    token_id: int | None  # an NFT's (ERC-721) or an ERC-1155 item's
    log_index: int  # -1 for a transfer without a log (the chain's coin)
    batch_item: int | None  # the item's index in an ERC-1155 batch of several
    trace_address: str  # an internal transfer's call type and trace address, "call_0_1"
    block_hash: str
    block_time: dt.datetime | None  # when the payload says
    removed: bool


@dataclasses.dataclass(frozen=True)
class AlchemyEvent:
    webhook_id: str
    event_id: str
    created_at: dt.datetime
    network: str
    chain: str | None  # CAIP-2, None for a network we do not map
    received: int  # activities in the delivery, parsed or not
    activities: list[AlchemyActivity]
    unparsed: list[UnparsedItem]


def alchemy_payload_parse(data: Any) -> AlchemyEvent:
    """The delivery as plain values, its unparseable activities set aside; `PayloadError`
    when the envelope is not Alchemy's documented shape."""
    try:
        payload = AlchemyEnvelope.model_validate(data)
    except ValidationError as error:
        raise PayloadError(payload_errors(error)) from error
    activities: list[AlchemyActivity] = []
    unparsed: list[UnparsedItem] = []
    for index, item in enumerate(payload.event.activity):
        try:
            activity = AlchemyActivityModel.model_validate(item)
        except ValidationError as error:
            unparsed.append(unparsed_item(index, item, error))
        else:
            activities.extend(_transfers(activity))
    return AlchemyEvent(
        webhook_id=payload.webhook_id,
        event_id=payload.id,
        created_at=payload.created_at,
        network=payload.event.network,
        chain=NETWORK_CHAINS.get(payload.event.network.upper()),
        received=len(payload.event.activity),
        activities=activities,
        unparsed=unparsed,
    )


def _transfers(item: AlchemyActivityModel) -> list[AlchemyActivity]:
    """An activity's transfers: itself, or each item of an ERC-1155 transfer (a batch is
    one log moving several token ids)."""
    transfer = _activity(item)
    if item.category != ERC1155 or not item.erc1155_metadata:
        return [transfer]
    batch = item.erc1155_metadata
    return [
        dataclasses.replace(
            transfer,
            amount=Decimal(part.value),
            raw_amount=part.value,
            token_id=part.token_id,
            batch_item=index if len(batch) > 1 else None,
        )
        for index, part in enumerate(batch)
    ]


def _activity(item: AlchemyActivityModel) -> AlchemyActivity:
    raw, log = item.raw_contract, item.log
    return AlchemyActivity(
        block_number=item.block_num,
        transaction_hash=item.hash,
        from_address=item.from_address,
        to_address=item.to_address,
        asset=(item.asset or "").upper(),
        category=item.category,
        amount=_amount(item),
        raw_amount=_raw_amount(item),
        decimals=raw.decimals if raw else None,
        token_address=raw.address if raw else None,
        token_id=item.erc721_token_id,
        log_index=log.log_index if log else -1,
        batch_item=None,
        trace_address=(item.type_trace_address or "").lower(),
        block_hash=(log.block_hash or "") if log else "",
        block_time=(
            dt.datetime.fromtimestamp(log.block_timestamp, tz=dt.UTC)
            if log is not None and log.block_timestamp is not None
            else None
        ),
        removed=log.removed if log else False,
    )


def _raw_amount(item: AlchemyActivityModel) -> int | None:
    raw = item.raw_contract
    if raw is None or raw.raw_value is None or item.category == ERC1155:
        return None
    return int(raw.raw_value[2:] or "0", 16)


def _amount(item: AlchemyActivityModel) -> Decimal:
    """Exact amount from the raw integer and decimals; Alchemy's float `value` only as a
    fallback (it is rounded, and absent for NFTs)."""
    raw_amount, raw = _raw_amount(item), item.raw_contract
    if raw_amount is not None and raw is not None and raw.decimals is not None:
        return Decimal(raw_amount).scaleb(-raw.decimals)
    if item.value is not None:
        return item.value
    return Decimal(0)
