"""Helius enhanced-transaction webhooks: the payload as Helius documents it, parsed.

The body is a JSON array of enhanced transactions (https://www.helius.dev/docs/webhooks;
the `EnhancedTransaction` schema of Helius' OpenAPI definition; helius-sdk's
`EnrichedTransaction`): `signature`, `timestamp`, `slot`, `feePayer`, `type`, `source`,
`nativeTransfers` (lamports), `tokenTransfers` (UI amounts), `accountData` (with the exact
`rawTokenAmount` of each token balance change), `instructions`, `transactionError` and
`events` (`nft`, `swap`, `compressed`).

Each transaction is validated on its own: one that does not parse is handed back as
rejected, with its reason, and the others are kept (a refused delivery would be retried,
then paused, by Helius). Only a body that is not an array at all is refused.

A transaction is what its event says it is, and each thing it moved is a `HeliusTransfer`
at a position that names it inside the transaction (the row's `transfer_position`):

- `nft`: an NFT sale or mint (`events.nft`), worth its `amount` in lamports, paid by the
  buyer to the seller; the fees, rent and royalties around it are not separate transfers.
- `swap:in:native`, `swap:out:native`, `swap:in:<i>`, `swap:out:<i>`: the legs of a swap
  (`events.swap`: `nativeInput`, `nativeOutput`, `tokenInputs[i]`, `tokenOutputs[i]`);
  when Helius gives only the hops, the swapper's legs of hop `j` (`innerSwaps[j]`) are
  `swap:<j>:in:<k>` and `swap:<j>:out:<k>`.
- Otherwise each transfer: `native:<i>` (`nativeTransfers[i]`), `token:<i>`
  (`tokenTransfers[i]`) and `compressed:<i>` (`events.compressed[i]`, a compressed NFT
  minted or moved).

Rows stored before these positions existed keep `instruction:<i>` (the project's program
at top-level instruction i) and `transaction`, which the ingest still writes for a call of
a project's program that moved nothing to or from it.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import BeforeValidator, Field, RootModel, ValidationError, WithJsonSchema

from fabrknt.api.errors import InvalidInput
from fabrknt.chain.wire import (
    JsonNumber,
    PayloadError,
    SolanaAddress,
    SolanaSignature,
    WireModel,
    json_body_parse,
    payload_errors,
    solana_signature_readable,
)

LAMPORTS_DECIMALS = 9
MAX_TRANSACTIONS = 1000
_MAX_LIST = 1000
# The clusters Helius serves webhooks for, as the CAIP-2 chain ids projects are on. The
# operator tells them apart by the URL given to each webhook (`?cluster=devnet`).
HELIUS_CLUSTERS = {"mainnet": "solana:mainnet", "devnet": "solana:devnet"}
DEFAULT_CLUSTER = "mainnet"
# The NFT events whose `amount` is money that changed hands; a listing's or a bid's is not.
NFT_VALUE_EVENTS = frozenset({"NFT_SALE", "NFT_MINT"})
# A rejected item is kept as evidence down to this depth (a transaction's is about 6).
EVIDENCE_DEPTH = 32
CUT = "..."
NON_FUNGIBLE_STANDARDS = frozenset(
    {
        "NonFungible",
        "NonFungibleEdition",
        "ProgrammableNonFungible",
        "ProgrammableNonFungibleEdition",
    }
)

T = TypeVar("T")


def _none_as_empty(value: Any) -> Any:
    return [] if value is None else value


def _blank_as_none(value: Any) -> Any:
    return None if value == "" else value


def _one_or_many(value: Any) -> Any:
    # Helius' OpenAPI definition shows one compressed event, its API sends an array
    # (helius-sdk issue #68): take either.
    if value is None:
        return []
    return [value] if isinstance(value, dict) else value


def _integer(value: Any) -> Any:
    """Lamports and raw token amounts: a JSON integer, or a string of digits as
    `NativeBalanceChange.amount` and `RawTokenAmount.tokenAmount` are documented."""
    if isinstance(value, str) and value.lstrip("-").isdigit() and len(value) <= 80:
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValueError("Expected an integer or a string of digits.")


# A transaction's or an event's type (NFT_SALE, COMPRESSED_NFT_MINT): stored as it is.
HeliusName = Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z0-9_]*$")]
# A list Helius may send as null (helius-sdk: `NativeTransfer[] | null`).
NullableList = Annotated[list[T], BeforeValidator(_none_as_empty)]
# An account Helius may leave empty ("" for the sender of a mint, a staker of no one).
OptionalAddress = Annotated[SolanaAddress | None, BeforeValidator(_blank_as_none)]
IntegerAmount = Annotated[
    int,
    BeforeValidator(_integer),
    WithJsonSchema({"type": "string", "pattern": "^-?[0-9]+$", "example": "100000000"}),
]


def _list(alias: str | None = None) -> Any:
    return Field(default_factory=list, alias=alias, max_length=_MAX_LIST)


class HeliusNativeTransferModel(WireModel):
    from_user_account: OptionalAddress = Field(default=None, alias="fromUserAccount")
    to_user_account: OptionalAddress = Field(default=None, alias="toUserAccount")
    amount: int = Field(ge=0, le=2**64)


class HeliusTokenTransferModel(WireModel):
    from_user_account: OptionalAddress = Field(default=None, alias="fromUserAccount")
    to_user_account: OptionalAddress = Field(default=None, alias="toUserAccount")
    from_token_account: OptionalAddress = Field(default=None, alias="fromTokenAccount")
    to_token_account: OptionalAddress = Field(default=None, alias="toTokenAccount")
    mint: SolanaAddress
    token_amount: JsonNumber = Field(alias="tokenAmount", ge=0, allow_inf_nan=False)
    token_standard: str | None = Field(default=None, alias="tokenStandard", max_length=64)


class HeliusRawTokenAmountModel(WireModel):
    token_amount: IntegerAmount = Field(alias="tokenAmount", ge=-(2**128), le=2**128)
    decimals: int = Field(ge=0, le=255)


class HeliusTokenBalanceChangeModel(WireModel):
    user_account: OptionalAddress = Field(default=None, alias="userAccount")
    token_account: OptionalAddress = Field(default=None, alias="tokenAccount")
    mint: SolanaAddress
    raw_token_amount: HeliusRawTokenAmountModel = Field(alias="rawTokenAmount")


class HeliusAccountDataModel(WireModel):
    account: SolanaAddress
    token_balance_changes: NullableList[HeliusTokenBalanceChangeModel] = _list(
        "tokenBalanceChanges"
    )


class HeliusInnerInstructionModel(WireModel):
    program_id: SolanaAddress = Field(alias="programId")


class HeliusInstructionModel(WireModel):
    program_id: SolanaAddress = Field(alias="programId")
    inner_instructions: NullableList[HeliusInnerInstructionModel] = _list("innerInstructions")


class HeliusNftEventModel(WireModel):
    type: HeliusName | None = None
    amount: int = Field(default=0, ge=0, le=2**64)
    buyer: OptionalAddress = None
    seller: OptionalAddress = None


class HeliusNativeAmountModel(WireModel):
    account: OptionalAddress = None
    amount: IntegerAmount = Field(ge=0, le=2**64)


class HeliusInnerSwapModel(WireModel):
    token_inputs: NullableList[HeliusTokenTransferModel] = _list("tokenInputs")
    token_outputs: NullableList[HeliusTokenTransferModel] = _list("tokenOutputs")


class HeliusSwapEventModel(WireModel):
    native_input: HeliusNativeAmountModel | None = Field(default=None, alias="nativeInput")
    native_output: HeliusNativeAmountModel | None = Field(default=None, alias="nativeOutput")
    token_inputs: NullableList[HeliusTokenBalanceChangeModel] = _list("tokenInputs")
    token_outputs: NullableList[HeliusTokenBalanceChangeModel] = _list("tokenOutputs")
    inner_swaps: NullableList[HeliusInnerSwapModel] = _list("innerSwaps")


class HeliusCompressedEventModel(WireModel):
    type: HeliusName | None = None
    tree_id: OptionalAddress = Field(default=None, alias="treeId")
    asset_id: OptionalAddress = Field(default=None, alias="assetId")
    new_leaf_owner: OptionalAddress = Field(default=None, alias="newLeafOwner")
    old_leaf_owner: OptionalAddress = Field(default=None, alias="oldLeafOwner")


class HeliusEventsModel(WireModel):
    nft: HeliusNftEventModel | None = None
    swap: HeliusSwapEventModel | None = None
    compressed: Annotated[list[HeliusCompressedEventModel], BeforeValidator(_one_or_many)] = _list()


class HeliusTransactionModel(WireModel):
    signature: SolanaSignature
    timestamp: int = Field(ge=0, le=253402300799)  # up to 9999-12-31
    slot: int = Field(ge=0, le=2**63 - 1)
    fee_payer: SolanaAddress = Field(alias="feePayer")
    type: HeliusName | None = None
    native_transfers: NullableList[HeliusNativeTransferModel] = _list("nativeTransfers")
    token_transfers: NullableList[HeliusTokenTransferModel] = _list("tokenTransfers")
    account_data: NullableList[HeliusAccountDataModel] = _list("accountData")
    instructions: NullableList[HeliusInstructionModel] = _list()
    transaction_error: Any = Field(default=None, alias="transactionError")
    events: Annotated[HeliusEventsModel, BeforeValidator(lambda v: {} if v is None else v)] = Field(
        default_factory=HeliusEventsModel
    )


class HeliusWebhookPayload(RootModel[list[HeliusTransactionModel]]):
    """An enhanced-transaction delivery (the body of `POST /api/v1/webhooks/helius`);
    describes the documented shape in the OpenAPI schema, item by item as it is parsed."""

    root: list[HeliusTransactionModel] = Field(max_length=MAX_TRANSACTIONS)


@dataclasses.dataclass(frozen=True)
class HeliusTransfer:
    """One thing the transaction moved, at its position in it (see the module docstring)."""

    position: str
    from_account: str | None
    to_account: str | None
    mint: str | None  # None for SOL; the mint (or a compressed NFT's asset id) otherwise
    amount: Decimal  # as the payload writes it: SOL, or the token's UI amount
    # Exact, in the asset's smallest unit, when the payload gives it (lamports, a raw
    # token amount), with the decimals the payload gives for it.
    raw_amount: int | None = None
    raw_decimals: int | None = None
    fungible: bool = True
    event_type: str = ""  # the event's own type when it has one (COMPRESSED_NFT_MINT)
    # A watched account that makes the transfer a project's besides its two sides: the
    # token's mint, or a compressed NFT's tree.
    subject: str | None = None
    # Whose the event's leg is (the buyer, the swapper), when a side does not say it.
    actor: str | None = None


@dataclasses.dataclass(frozen=True)
class HeliusTransaction:
    signature: str
    occurred_at: datetime
    slot: int
    fee_payer: str
    type: str
    failed: bool
    # What the transaction moved, as its event says (see the module docstring).
    transfers: list[HeliusTransfer]
    # Whether those are the legs of one event (a sale, a swap) rather than transfers.
    is_event: bool
    # Programs invoked, top-level and inner, in order of appearance.
    programs: list[str]
    # Every account the transaction names, in order of appearance.
    accounts: list[str]


@dataclasses.dataclass(frozen=True)
class HeliusRejected:
    """An item of the delivery that is not a transaction of the documented shape."""

    index: int
    delivery_id: str  # its signature when readable, else the hash of the delivery's body
    reason: str
    item: object  # as received, JSON-ready


@dataclasses.dataclass(frozen=True)
class HeliusDelivery:
    received: int
    transactions: list[HeliusTransaction]
    rejected: list[HeliusRejected]


def helius_cluster_chain(cluster: str | None) -> str:
    """The chain of a webhook's deliveries, from the `cluster` of its URL (mainnet when
    absent); `InvalidInput` for a cluster Helius does not serve."""
    chain = HELIUS_CLUSTERS.get(cluster or DEFAULT_CLUSTER)
    if chain is None:
        choices = ", ".join(HELIUS_CLUSTERS)
        raise InvalidInput(fields={"cluster": [f"Expected one of: {choices}."]})
    return chain


def helius_delivery_parse(body: bytes) -> HeliusDelivery:
    """The delivery's transactions and the items that are not; `PayloadError` when the body
    is not JSON or not an array of at most MAX_TRANSACTIONS items."""
    data = json_body_parse(body)
    if not isinstance(data, list):
        raise PayloadError({"non_field_errors": ["Expected an array of enhanced transactions."]})
    if len(data) > MAX_TRANSACTIONS:
        raise PayloadError(
            {"non_field_errors": [f"At most {MAX_TRANSACTIONS} transactions in a delivery."]}
        )
    body_id = "sha256:" + hashlib.sha256(body).hexdigest()
    transactions, rejected = [], []
    for index, item in enumerate(data):
        try:
            model = HeliusTransactionModel.model_validate(item)
        except ValidationError as error:
            rejected.append(_rejected(index, item, error, body_id))
            continue
        transactions.append(_transaction(model))
    return HeliusDelivery(received=len(data), transactions=transactions, rejected=rejected)


def _rejected(index: int, item: Any, error: ValidationError, body_id: str) -> HeliusRejected:
    signature = item.get("signature") if isinstance(item, dict) else None
    readable = solana_signature_readable(signature)
    reason = "; ".join(
        f"{field}: {' '.join(messages)}" for field, messages in payload_errors(error).items()
    )
    return HeliusRejected(
        index=index,
        delivery_id=str(signature) if readable else body_id,
        reason=_storable_text(reason),
        item=_json_ready(item),
    )


def _json_ready(value: Any, depth: int = 0) -> Any:
    """An item as JSON that PostgreSQL can keep: numbers back as numbers (they were parsed
    as `Decimal`; one beyond a double's range as its text), text without what `jsonb`
    refuses, and nothing nested deeper than EVIDENCE_DEPTH (cut to CUT)."""
    if isinstance(value, str):
        return _storable_text(value)
    if isinstance(value, Decimal):
        return float(value) if abs(value) < Decimal("1e308") else str(value)
    if not isinstance(value, list | dict):
        return value  # an int, a bool or None
    if depth >= EVIDENCE_DEPTH:
        return CUT
    if isinstance(value, list):
        return [_json_ready(item, depth + 1) for item in value]
    return {_storable_text(key): _json_ready(item, depth + 1) for key, item in value.items()}


def _storable_text(text: str) -> str:
    # NUL and unpaired surrogates are valid in JSON strings but not in PostgreSQL text.
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")


def _transaction(item: HeliusTransactionModel) -> HeliusTransaction:
    event_transfers = _nft_sale(item) or _swap_legs(item)
    transfers = event_transfers or [
        *_native_transfers(item),
        *_token_transfers(item),
        *_compressed(item),
    ]
    programs = [
        program
        for ix in item.instructions
        for program in (ix.program_id, *(inner.program_id for inner in ix.inner_instructions))
    ]
    return HeliusTransaction(
        signature=item.signature,
        occurred_at=datetime.fromtimestamp(item.timestamp, tz=UTC),
        slot=item.slot,
        fee_payer=item.fee_payer,
        type=item.type or "UNKNOWN",
        failed=item.transaction_error is not None,
        transfers=transfers,
        is_event=bool(event_transfers),
        programs=list(dict.fromkeys(programs)),
        accounts=_accounts(item, transfers, programs),
    )


def _accounts(
    item: HeliusTransactionModel, transfers: list[HeliusTransfer], programs: list[str]
) -> list[str]:
    named: list[str | None] = [item.fee_payer, *programs]
    named += [data.account for data in item.account_data]
    named += [t.from_user_account for t in item.native_transfers]
    named += [t.to_user_account for t in item.native_transfers]
    for token in item.token_transfers:
        named += [token.from_user_account, token.to_user_account, token.mint]
    for transfer in transfers:
        named += [transfer.from_account, transfer.to_account, transfer.subject]
    return list(dict.fromkeys(a for a in named if a))


def _lamports(
    position: str, source: str | None, target: str | None, lamports: int
) -> HeliusTransfer:
    return HeliusTransfer(
        position=position,
        from_account=source,
        to_account=target,
        mint=None,
        amount=Decimal(lamports).scaleb(-LAMPORTS_DECIMALS),
        raw_amount=lamports,
        raw_decimals=LAMPORTS_DECIMALS,
    )


def _nft_sale(item: HeliusTransactionModel) -> list[HeliusTransfer]:
    """A sale or mint: its price, from the buyer to the seller."""
    event = item.events.nft
    if event is None or (event.type or item.type) not in NFT_VALUE_EVENTS:
        return []
    transfer = _lamports("nft", event.buyer, event.seller, event.amount)
    return [dataclasses.replace(transfer, event_type=event.type or "", actor=event.buyer)]


def _swap_legs(item: HeliusTransactionModel) -> list[HeliusTransfer]:
    """What the swapper gave and got: into the swap from them, out of it to them."""
    swap = item.events.swap
    if swap is None:
        return []
    legs = []
    if swap.native_input is not None:
        native = swap.native_input
        leg = _lamports("swap:in:native", native.account, None, native.amount)
        legs.append(dataclasses.replace(leg, actor=native.account))
    if swap.native_output is not None:
        native = swap.native_output
        leg = _lamports("swap:out:native", None, native.account, native.amount)
        legs.append(dataclasses.replace(leg, actor=native.account))
    legs += [_balance_leg(f"swap:in:{i}", c, gave=True) for i, c in enumerate(swap.token_inputs)]
    legs += [_balance_leg(f"swap:out:{i}", c, gave=False) for i, c in enumerate(swap.token_outputs)]
    return legs or _hop_legs(item.fee_payer, swap.inner_swaps)


def _balance_leg(
    position: str, change: HeliusTokenBalanceChangeModel, *, gave: bool
) -> HeliusTransfer:
    raw = abs(change.raw_token_amount.token_amount)
    decimals = change.raw_token_amount.decimals
    return HeliusTransfer(
        position=position,
        from_account=change.user_account if gave else None,
        to_account=None if gave else change.user_account,
        mint=change.mint,
        amount=Decimal(raw).scaleb(-decimals),
        raw_amount=raw,
        raw_decimals=decimals,
        subject=change.mint,
        actor=change.user_account,
    )


def _hop_legs(swapper: str, hops: list[HeliusInnerSwapModel]) -> list[HeliusTransfer]:
    """A route's hops: the swapper's legs are what they sent into one and got out of one."""
    legs = []
    for j, hop in enumerate(hops):
        legs += [
            dataclasses.replace(_token(f"swap:{j}:in:{k}", t), actor=swapper)
            for k, t in enumerate(hop.token_inputs)
            if t.from_user_account == swapper
        ]
        legs += [
            dataclasses.replace(_token(f"swap:{j}:out:{k}", t), actor=swapper)
            for k, t in enumerate(hop.token_outputs)
            if t.to_user_account == swapper
        ]
    return legs


def _native_transfers(item: HeliusTransactionModel) -> Iterable[HeliusTransfer]:
    for i, t in enumerate(item.native_transfers):
        yield _lamports(f"native:{i}", t.from_user_account, t.to_user_account, t.amount)


def _token_transfers(item: HeliusTransactionModel) -> Iterable[HeliusTransfer]:
    changes = [change for data in item.account_data for change in data.token_balance_changes]
    for i, t in enumerate(item.token_transfers):
        transfer = _token(f"token:{i}", t)
        raw = _exact_raw(t, item.token_transfers, changes)
        if raw is not None:
            transfer = dataclasses.replace(
                transfer, raw_amount=raw.token_amount, raw_decimals=raw.decimals
            )
        yield transfer


def _token(position: str, t: HeliusTokenTransferModel) -> HeliusTransfer:
    return HeliusTransfer(
        position=position,
        from_account=t.from_user_account,
        to_account=t.to_user_account,
        mint=t.mint,
        amount=t.token_amount,
        fungible=t.token_standard not in NON_FUNGIBLE_STANDARDS,
        subject=t.mint,
    )


def _exact_raw(
    transfer: HeliusTokenTransferModel,
    transfers: list[HeliusTokenTransferModel],
    changes: list[HeliusTokenBalanceChangeModel],
) -> HeliusRawTokenAmountModel | None:
    """The transfer's exact raw amount: the balance change of the token account it paid
    into, when that account moved by this transfer alone and the change agrees with the
    UI amount; None when it cannot be told."""
    account = transfer.to_token_account
    if account is None:
        return None
    touching = [t for t in transfers if account in (t.to_token_account, t.from_token_account)]
    matches = [c for c in changes if c.token_account == account and c.mint == transfer.mint]
    if len(touching) != 1 or len(matches) != 1:
        return None
    raw = matches[0].raw_token_amount
    if Decimal(raw.token_amount).scaleb(-raw.decimals) != transfer.token_amount:
        return None
    return raw


def _compressed(item: HeliusTransactionModel) -> Iterable[HeliusTransfer]:
    for i, event in enumerate(item.events.compressed):
        yield HeliusTransfer(
            position=f"compressed:{i}",
            from_account=event.old_leaf_owner,
            to_account=event.new_leaf_owner,
            mint=event.asset_id,
            amount=Decimal(1),
            fungible=False,
            event_type=event.type or "",
            subject=event.tree_id,
        )
