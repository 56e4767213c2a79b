"""Helius enhanced-transaction webhooks: the payload as Helius documents it, parsed.

https://www.helius.dev/docs/webhooks — the body is a JSON array of enhanced transactions:
`signature`, `timestamp`, `slot`, `feePayer`, `type`, `source`, `nativeTransfers` (lamports),
`tokenTransfers` (UI amounts), `accountData`, `instructions` (with `innerInstructions`)
and `transactionError`.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import Field, RootModel, ValidationError

from fabrknt.chain.wire import (
    JsonNumber,
    PayloadError,
    SolanaAddress,
    SolanaSignature,
    WireModel,
    payload_errors,
)

LAMPORTS_PER_SOL = 10**9
MAX_TRANSACTIONS = 1000
_MAX_LIST = 1000


class HeliusNativeTransferModel(WireModel):
    from_user_account: SolanaAddress | None = Field(default=None, alias="fromUserAccount")
    to_user_account: SolanaAddress | None = Field(default=None, alias="toUserAccount")
    amount: int = Field(ge=0, le=2**64)


class HeliusTokenTransferModel(WireModel):
    from_user_account: SolanaAddress | None = Field(default=None, alias="fromUserAccount")
    to_user_account: SolanaAddress | None = Field(default=None, alias="toUserAccount")
    mint: SolanaAddress
    token_amount: JsonNumber = Field(alias="tokenAmount", ge=0, allow_inf_nan=False)


class HeliusInnerInstructionModel(WireModel):
    program_id: SolanaAddress = Field(alias="programId")
    accounts: list[str] = Field(default_factory=list, max_length=256)


class HeliusInstructionModel(WireModel):
    program_id: SolanaAddress = Field(alias="programId")
    accounts: list[str] = Field(default_factory=list, max_length=256)
    inner_instructions: list[HeliusInnerInstructionModel] = Field(
        default_factory=list, alias="innerInstructions", max_length=_MAX_LIST
    )


class HeliusAccountDataModel(WireModel):
    account: SolanaAddress
    native_balance_change: int = Field(default=0, alias="nativeBalanceChange")


class HeliusTransactionModel(WireModel):
    signature: SolanaSignature
    timestamp: int = Field(ge=0, le=253402300799)  # up to 9999-12-31
    slot: int = Field(ge=0, le=2**63 - 1)
    fee_payer: SolanaAddress = Field(alias="feePayer")
    type: str = Field(default="UNKNOWN", max_length=64)
    source: str = Field(default="", max_length=64)
    native_transfers: list[HeliusNativeTransferModel] = Field(
        default_factory=list, alias="nativeTransfers", max_length=_MAX_LIST
    )
    token_transfers: list[HeliusTokenTransferModel] = Field(
        default_factory=list, alias="tokenTransfers", max_length=_MAX_LIST
    )
    account_data: list[HeliusAccountDataModel] = Field(
        default_factory=list, alias="accountData", max_length=_MAX_LIST
    )
    instructions: list[HeliusInstructionModel] = Field(default_factory=list, max_length=_MAX_LIST)
    transaction_error: Any = Field(default=None, alias="transactionError")


class HeliusWebhookPayload(RootModel[list[HeliusTransactionModel]]):
    """An enhanced-transaction delivery (the body of `POST /api/v1/webhooks/helius`)."""

    root: list[HeliusTransactionModel] = Field(max_length=MAX_TRANSACTIONS)


@dataclasses.dataclass(frozen=True)
class HeliusTransfer:
    from_account: str | None
    to_account: str | None
    asset: str  # "SOL" for native transfers, else the token's mint
    amount: Decimal


@dataclasses.dataclass(frozen=True)
class HeliusTransaction:
    signature: str
    occurred_at: datetime
    slot: int
    fee_payer: str
    type: str
    source: str
    failed: bool
    native_transfers: list[HeliusTransfer]
    token_transfers: list[HeliusTransfer]
    # Top-level instructions' program ids, in order, with the programs they invoked.
    instruction_programs: list[set[str]]
    accounts: set[str]


def helius_payload_parse(data: Any) -> list[HeliusTransaction]:
    """The delivery as plain values; `PayloadError` when it is not Helius' documented shape."""
    try:
        payload = HeliusWebhookPayload.model_validate(data)
    except ValidationError as error:
        raise PayloadError(payload_errors(error)) from error
    return [_transaction(item) for item in payload.root]


def _transaction(item: HeliusTransactionModel) -> HeliusTransaction:
    native = [
        HeliusTransfer(
            from_account=t.from_user_account,
            to_account=t.to_user_account,
            asset="SOL",
            amount=Decimal(t.amount).scaleb(-9),
        )
        for t in item.native_transfers
    ]
    tokens = [
        HeliusTransfer(
            from_account=t.from_user_account,
            to_account=t.to_user_account,
            asset=t.mint,
            amount=t.token_amount,
        )
        for t in item.token_transfers
    ]
    programs = [
        {ix.program_id} | {inner.program_id for inner in ix.inner_instructions}
        for ix in item.instructions
    ]
    accounts = {a.account for a in item.account_data}
    for transfer in native + tokens:
        accounts.update(a for a in (transfer.from_account, transfer.to_account) if a)
    return HeliusTransaction(
        signature=item.signature,
        occurred_at=datetime.fromtimestamp(item.timestamp, tz=UTC),
        slot=item.slot,
        fee_payer=item.fee_payer,
        type=item.type,
        source=item.source,
        failed=item.transaction_error is not None,
        native_transfers=native,
        token_transfers=tokens,
        instruction_programs=programs,
        accounts=accounts,
    )
