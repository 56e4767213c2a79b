"""Alchemy "Address Activity" webhooks: the payload as Alchemy documents it, parsed.

https://www.alchemy.com/docs/reference/address-activity-webhook — one delivery carries
`event.network` and a list of transfers (`external`, `internal`, `token`, `erc721`,
`erc1155`), each with `fromAddress`, `toAddress`, `blockNum` (hex), `hash`, `value`,
`asset`, `category`, `rawContract {rawValue, address, decimals}` and, for token transfers,
the `log` it came from.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, ValidationError

from fabrknt.chain.wire import (
    EvmAddress,
    Hash32,
    HexQuantity,
    JsonNumber,
    PayloadError,
    WireModel,
    payload_errors,
)

# Alchemy's network names -> CAIP-2. Networks not listed are accepted and ignored.
NETWORK_CHAINS: dict[str, str] = {
    "ETH_MAINNET": "eip155:1",
    "ETH_SEPOLIA": "eip155:11155111",
    "ETH_HOLESKY": "eip155:17000",
    "BASE_MAINNET": "eip155:8453",
    "BASE_SEPOLIA": "eip155:84532",
    "OPT_MAINNET": "eip155:10",
    "OPT_SEPOLIA": "eip155:11155420",
    "ARB_MAINNET": "eip155:42161",
    "ARB_SEPOLIA": "eip155:421614",
    "ARBNOVA_MAINNET": "eip155:42170",
    "MATIC_MAINNET": "eip155:137",
    "MATIC_AMOY": "eip155:80002",
    "POLYGONZKEVM_MAINNET": "eip155:1101",
    "ZKSYNC_MAINNET": "eip155:324",
    "BNB_MAINNET": "eip155:56",
    "AVAX_MAINNET": "eip155:43114",
    "BLAST_MAINNET": "eip155:81457",
    "LINEA_MAINNET": "eip155:59144",
    "SCROLL_MAINNET": "eip155:534352",
    "ZORA_MAINNET": "eip155:7777777",
}

# Upper bound on one delivery's transfers; Alchemy batches far fewer.
MAX_ACTIVITIES = 5000


class AlchemyRawContract(WireModel):
    raw_value: HexQuantity | None = Field(default=None, alias="rawValue")
    address: EvmAddress | None = None
    decimals: int | None = Field(default=None, ge=0, le=36)


class AlchemyLog(WireModel):
    log_index: HexQuantity = Field(alias="logIndex", le=2**31 - 1)
    block_hash: Hash32 | None = Field(default=None, alias="blockHash")
    removed: bool = False


class AlchemyActivityModel(WireModel):
    block_num: HexQuantity = Field(alias="blockNum", le=2**63 - 1)
    hash: Hash32
    from_address: EvmAddress = Field(alias="fromAddress")
    # null for a contract creation
    to_address: EvmAddress | None = Field(default=None, alias="toAddress")
    value: JsonNumber | None = Field(default=None, allow_inf_nan=False)
    asset: str | None = Field(default=None, max_length=32)
    category: str = Field(max_length=32)
    raw_contract: AlchemyRawContract | None = Field(default=None, alias="rawContract")
    log: AlchemyLog | None = None


class AlchemyEventModel(WireModel):
    network: str = Field(max_length=64)
    activity: list[AlchemyActivityModel] = Field(max_length=MAX_ACTIVITIES)


class AlchemyWebhookPayload(WireModel):
    """An Address Activity delivery (the request body of `POST /api/v1/webhooks/alchemy`)."""

    webhook_id: str = Field(alias="webhookId", max_length=128)
    id: str = Field(max_length=128)
    created_at: datetime = Field(alias="createdAt")
    type: Literal["ADDRESS_ACTIVITY"]
    event: AlchemyEventModel


@dataclasses.dataclass(frozen=True)
class AlchemyActivity:
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
    log_index: int  # -1 for a transfer without a log (native ETH)
    block_hash: str
    removed: bool


@dataclasses.dataclass(frozen=True)
class AlchemyEvent:
    webhook_id: str
    event_id: str
    created_at: datetime
    network: str
    chain: str | None  # CAIP-2, None for a network we do not map
    activities: list[AlchemyActivity]


def alchemy_payload_parse(data: Any) -> AlchemyEvent:
    """The delivery as plain values; `PayloadError` when it is not Alchemy's documented shape."""
    try:
        payload = AlchemyWebhookPayload.model_validate(data)
    except ValidationError as error:
        raise PayloadError(payload_errors(error)) from error
    return AlchemyEvent(
        webhook_id=payload.webhook_id,
        event_id=payload.id,
        created_at=payload.created_at,
        network=payload.event.network,
        chain=NETWORK_CHAINS.get(payload.event.network.upper()),
        activities=[_activity(item) for item in payload.event.activity],
    )


def _activity(item: AlchemyActivityModel) -> AlchemyActivity:
    raw = item.raw_contract
    return AlchemyActivity(
        block_number=item.block_num,
        transaction_hash=item.hash,
        from_address=item.from_address,
        to_address=item.to_address,
        asset=(item.asset or "").upper(),
        category=item.category,
        amount=_amount(item),
        raw_amount=raw.raw_value if raw else None,
        decimals=raw.decimals if raw else None,
        token_address=raw.address if raw else None,
        log_index=item.log.log_index if item.log else -1,
        block_hash=(item.log.block_hash or "") if item.log else "",
        removed=item.log.removed if item.log else False,
    )


def _amount(item: AlchemyActivityModel) -> Decimal:
    """Exact amount from the raw integer and decimals; Alchemy's float `value` only as a
    fallback (it is rounded, and absent for NFTs)."""
    raw = item.raw_contract
    if raw is not None and raw.raw_value is not None and raw.decimals is not None:
        return Decimal(raw.raw_value).scaleb(-raw.decimals)
    if item.value is not None:
        return item.value
    return Decimal(0)
