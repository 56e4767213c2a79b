"""FABRIC's escrow contract (contracts/fabric/FabrkntEscrow.sol) from Python: the
transactions of each step of a deal, for the parties' wallets to sign, and the contract's
events decoded from receipts or `eth_getLogs` into plain dataclasses.

Nothing here signs or sends: `POST /api/v1/escrow/init` returns these transactions and
`monitor_escrows` decodes the logs it reads. The steps of a deal:

1. the buyer opens the deal and deposits its payment at once
   (`buyer_opening_transactions`: the ERC-20 `approve` first when the payment is a token);
   or either party creates it (`create_deal_transaction`) and the buyer deposits later
   (`payment_deposit_transactions`);
2. for a swap, the seller hands the asset over (`asset_deposit_transactions`, in order);
3. both parties approve (`approve_transaction`), then anyone settles
   (`settle_transaction`) — or the arbiter settles or refunds on its own (both parties
   may also call the deal off: `refund_approve_transaction`, then `refund_transaction`);
4. either party may `dispute`; after the deadline, each party may `withdraw`.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
from collections.abc import Iterable, Mapping
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from eth_typing import ABIEvent, ChecksumAddress
from eth_utils import event_abi_to_log_topic
from web3 import Web3
from web3.contract import Contract
from web3.types import EventData, LogReceipt

from fabrknt.chain.deployments import Deployable
from fabrknt.chain.evm import ZERO_ADDRESS, contract_artifact
from fabrknt.chain.signer import receipt_wait, signer_address, signer_send

ESCROW_CONTRACT = "fabric/FabrkntEscrow"
BPS = 10_000

# The two calls of the token standards a deal needs, from the seller's or buyer's wallet.
_TOKEN_ABI: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": "approve",
        "stateMutability": "nonpayable",
        "inputs": [{"name": "spender", "type": "address"}, {"name": "value", "type": "uint256"}],
        "outputs": [{"name": "", "type": "bool"}],
    },
    {
        "type": "function",
        "name": "transferOwnership",
        "stateMutability": "nonpayable",
        "inputs": [{"name": "newOwner", "type": "address"}],
        "outputs": [],
    },
]


class AssetKind(enum.IntEnum):
    """FabrkntEscrow.AssetKind."""

    NONE = 0
    ERC721 = 1
    OWNABLE = 2
    OWNABLE2STEP = 3


class DealState(enum.IntEnum):
    """FabrkntEscrow.State."""

    PENDING = 0
    FUNDED = 1
    RELEASED = 2
    REFUNDED = 3


@dataclasses.dataclass(frozen=True)
class DealTerms:
    ref: bytes  # 32 bytes: the platform's reference (`deal_ref`)
    buyer: str
    seller: str
    payment_token: str | None  # None: the native coin
    amount: int  # wei, or the token's smallest unit
    deadline: int  # unix seconds
    asset_kind: AssetKind = AssetKind.NONE
    asset_contract: str | None = None
    token_id: int = 0


@dataclasses.dataclass(frozen=True)
class TransactionRequest:
    """One transaction for a wallet to sign: API.md's `{to, data, value}`, with who must
    send it and which step it is."""

    step: str
    sender: ChecksumAddress
    to: ChecksumAddress
    data: str
    value: int = 0

    def as_params(self) -> dict[str, Any]:
        """eth_sendTransaction's parameters."""
        return {"from": self.sender, "to": self.to, "data": self.data, "value": self.value}


@dataclasses.dataclass(frozen=True)
class Deal:
    """A deal as the contract holds it (`deal(dealId)`)."""

    buyer: ChecksumAddress
    seller: ChecksumAddress
    payment_token: ChecksumAddress | None
    amount: int
    asset_contract: ChecksumAddress | None
    token_id: int
    arbiter: ChecksumAddress | None
    fee_recipient: ChecksumAddress | None
    deadline: int
    fee_bps: int
    asset_kind: AssetKind
    state: DealState
    payment_held: bool
    asset_held: bool
    buyer_approved: bool
    seller_approved: bool
    buyer_refund_approved: bool
    seller_refund_approved: bool
    disputed: bool


# ---- events ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class EscrowEvent:
    """Where a log of the escrow was: enough for the monitor's cursor and reorg checks."""

    deal_id: int
    escrow: ChecksumAddress
    block_number: int
    block_hash: str
    transaction_hash: str
    log_index: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class DealCreated(EscrowEvent):
    ref: bytes
    buyer: ChecksumAddress
    seller: ChecksumAddress
    payment_token: ChecksumAddress | None
    amount: int
    asset_kind: AssetKind
    asset_contract: ChecksumAddress | None
    token_id: int
    deadline: int
    arbiter: ChecksumAddress | None
    fee_bps: int
    fee_recipient: ChecksumAddress | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class PaymentDeposited(EscrowEvent):
    buyer: ChecksumAddress
    payment_token: ChecksumAddress | None
    amount: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class AssetReserved(EscrowEvent):
    seller: ChecksumAddress
    asset_contract: ChecksumAddress
    token_id: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class AssetDeposited(EscrowEvent):
    seller: ChecksumAddress
    asset_kind: AssetKind
    asset_contract: ChecksumAddress
    token_id: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class Funded(EscrowEvent):
    pass


@dataclasses.dataclass(frozen=True, kw_only=True)
class Approved(EscrowEvent):
    party: ChecksumAddress


@dataclasses.dataclass(frozen=True, kw_only=True)
class RefundApproved(EscrowEvent):
    party: ChecksumAddress


@dataclasses.dataclass(frozen=True, kw_only=True)
class Disputed(EscrowEvent):
    party: ChecksumAddress


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settled(EscrowEvent):
    by: ChecksumAddress
    seller: ChecksumAddress
    seller_amount: int
    buyer: ChecksumAddress
    fee_recipient: ChecksumAddress | None
    fee: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class Refunded(EscrowEvent):
    by: ChecksumAddress
    payment: int
    asset: bool


@dataclasses.dataclass(frozen=True, kw_only=True)
class Withdrawn(EscrowEvent):
    party: ChecksumAddress
    payment: int
    asset: bool


# Solidity's argument names -> the dataclass's fields, where they differ.
_RENAMED = {
    "dealId": "deal_id",
    "paymentToken": "payment_token",
    "assetKind": "asset_kind",
    "assetContract": "asset_contract",
    "tokenId": "token_id",
    "feeBps": "fee_bps",
    "feeRecipient": "fee_recipient",
    "sellerAmount": "seller_amount",
}
_EVENT_TYPES: dict[str, type[EscrowEvent]] = {
    cls.__name__: cls
    for cls in (
        DealCreated,
        PaymentDeposited,
        AssetReserved,
        AssetDeposited,
        Funded,
        Approved,
        RefundApproved,
        Disputed,
        Settled,
        Refunded,
        Withdrawn,
    )
}


# ---- the contract ----------------------------------------------------------------------


@functools.cache
def escrow_abi() -> list[dict[str, Any]]:
    abi, _ = contract_artifact(ESCROW_CONTRACT)
    return abi


@functools.cache
def _encoder() -> type[Contract]:
    # A provider-less client: encoding and decoding need the ABI, not a node.
    return Web3().eth.contract(abi=escrow_abi())


@functools.cache
def _token_encoder() -> type[Contract]:
    return Web3().eth.contract(abi=_TOKEN_ABI)


def escrow_contract(client: Web3, address: str) -> Contract:
    return client.eth.contract(address=Web3.to_checksum_address(address), abi=escrow_abi())


# ---- deployment (`deploy_contracts`) ----------------------------------------------------


def escrow_arbiter() -> ChecksumAddress:
    """ESCROW_ARBITER_ADDRESS, or the zero address (no arbiter). Never the signer's: the
    platform's hot key must not be able to decide where escrowed funds go."""
    arbiter = settings.ESCROW_ARBITER_ADDRESS
    if not arbiter:
        return Web3.to_checksum_address(ZERO_ADDRESS)
    if arbiter.lower() == signer_address().lower():
        raise ImproperlyConfigured(
            "ESCROW_ARBITER_ADDRESS is the CHAIN_SIGNER_KEY's address: the arbiter must be "
            "another account (a multisig in production)"
        )
    return Web3.to_checksum_address(arbiter)


def escrow_fee() -> tuple[int, ChecksumAddress]:
    """(ESCROW_FEE_BPS, ESCROW_FEE_RECIPIENT or the signer's address)."""
    recipient = settings.ESCROW_FEE_RECIPIENT or signer_address()
    return settings.ESCROW_FEE_BPS, Web3.to_checksum_address(recipient)


def _constructor_args(chain: str) -> list[Any]:
    fee_bps, fee_recipient = escrow_fee()
    return [signer_address(), escrow_arbiter(), fee_recipient, fee_bps]


def _configure(chain: str, client: Web3, address: str) -> None:
    """Brings the fee of new deals up to the settings; refuses an arbiter that differs
    from ESCROW_ARBITER_ADDRESS (it is fixed: only a new deployment changes it)."""
    contract = escrow_contract(client, address)
    deployed_arbiter = Web3.to_checksum_address(contract.functions.arbiter().call())
    if deployed_arbiter != escrow_arbiter():
        raise ImproperlyConfigured(
            f"the escrow at {address} on {chain} has the arbiter {deployed_arbiter}, not "
            f"ESCROW_ARBITER_ADDRESS's: deploy a new one with --force"
        )
    wanted = escrow_fee()
    current = (
        contract.functions.feeBps().call(),
        Web3.to_checksum_address(contract.functions.feeRecipient().call()),
    )
    if current == wanted:
        return
    data = contract.encode_abi("setFee", args=list(wanted))
    sent = signer_send(chain=chain, client=client, transaction_params={"to": address, "data": data})
    receipt_wait(client=client, transaction_hash=sent)


# Registered by `fabric.apps`: `deploy_contracts` deploys it beside PULSE's token.
ESCROW_DEPLOYABLE = Deployable(
    name=ESCROW_CONTRACT, constructor_args=_constructor_args, configure=_configure
)


def deal_ref(reference: str) -> bytes:
    """The 32-byte `ref` of a deal from the platform's own id (e.g. the EscrowTransaction's)."""
    return bytes(Web3.keccak(text=reference))


def fee_split(amount: int, fee_bps: int) -> tuple[int, int]:
    """(seller's amount, fee) exactly as `settle` computes them: the fee rounds down."""
    fee = amount * fee_bps // BPS
    return amount - fee, fee


def deal_read(client: Web3, *, escrow: str, deal_id: int) -> Deal:
    """The deal's current state on chain (reverts with UnknownDeal for an unknown id)."""
    contract = escrow_contract(client, escrow)
    raw = contract.functions.deal(deal_id).call()
    buyer, deadline, fee_bps, kind, state, seller, *flags = raw[:13]
    token, amount, asset_contract, token_id, fee_recipient = raw[13:]
    return Deal(
        buyer=Web3.to_checksum_address(buyer),
        seller=Web3.to_checksum_address(seller),
        payment_token=_address_or_none(token),
        amount=amount,
        asset_contract=_address_or_none(asset_contract),
        token_id=token_id,
        # Fixed for the contract: every deal of this escrow has its arbiter.
        arbiter=_address_or_none(contract.functions.arbiter().call()),
        fee_recipient=_address_or_none(fee_recipient),
        deadline=deadline,
        fee_bps=fee_bps,
        asset_kind=AssetKind(kind),
        state=DealState(state),
        payment_held=flags[0],
        asset_held=flags[1],
        buyer_approved=flags[2],
        seller_approved=flags[3],
        buyer_refund_approved=flags[4],
        seller_refund_approved=flags[5],
        disputed=flags[6],
    )


# ---- transactions ----------------------------------------------------------------------


def _escrow_call(
    step: str, *, escrow: str, sender: str, function: str, args: list[Any], value: int = 0
) -> TransactionRequest:
    return TransactionRequest(
        step=step,
        sender=Web3.to_checksum_address(sender),
        to=Web3.to_checksum_address(escrow),
        data=_encoder().encode_abi(function, args=args),
        value=value,
    )


def _token_call(
    step: str, *, token: str, sender: str, function: str, args: list[Any]
) -> TransactionRequest:
    return TransactionRequest(
        step=step,
        sender=Web3.to_checksum_address(sender),
        to=Web3.to_checksum_address(token),
        data=_token_encoder().encode_abi(function, args=args),
    )


def _terms_tuple(terms: DealTerms) -> tuple[Any, ...]:
    if len(terms.ref) != 32:
        raise ValueError("a deal's ref is 32 bytes")
    return (
        terms.ref,
        Web3.to_checksum_address(terms.buyer),
        Web3.to_checksum_address(terms.seller),
        Web3.to_checksum_address(terms.payment_token or ZERO_ADDRESS),
        terms.amount,
        int(terms.asset_kind),
        Web3.to_checksum_address(terms.asset_contract or ZERO_ADDRESS),
        terms.token_id,
        terms.deadline,
    )


def create_deal_transaction(
    *, escrow: str, terms: DealTerms, sender: str, deposit: bool = False
) -> TransactionRequest:
    """`createDeal` from the buyer or the seller; with `deposit`, the buyer's
    `createDealAndDeposit`, which takes the payment in the same transaction (the value of a
    native payment; an ERC-20 needs the allowance first: `buyer_opening_transactions`)."""
    if deposit and sender.lower() != terms.buyer.lower():
        raise ValueError("only the buyer deposits the payment with the deal's creation")
    native = terms.payment_token is None
    return _escrow_call(
        "create_and_deposit" if deposit else "create",
        escrow=escrow,
        sender=sender,
        function="createDealAndDeposit" if deposit else "createDeal",
        args=[_terms_tuple(terms)],
        value=terms.amount if deposit and native else 0,
    )


def buyer_opening_transactions(*, escrow: str, terms: DealTerms) -> list[TransactionRequest]:
    """What the buyer's wallet sends to open a funded deal: the ERC-20 allowance when the
    payment is a token, then the deal's creation with its deposit."""
    opening = create_deal_transaction(escrow=escrow, terms=terms, sender=terms.buyer, deposit=True)
    if terms.payment_token is None:
        return [opening]
    allowance = _token_call(
        "approve_payment",
        token=terms.payment_token,
        sender=terms.buyer,
        function="approve",
        args=[Web3.to_checksum_address(escrow), terms.amount],
    )
    return [allowance, opening]


def payment_deposit_transactions(
    *, escrow: str, deal_id: int, buyer: str, payment_token: str | None, amount: int
) -> list[TransactionRequest]:
    """The buyer's deposit: the value itself, or the token allowance then the pull."""
    if payment_token is None:
        return [
            _escrow_call(
                "deposit_payment",
                escrow=escrow,
                sender=buyer,
                function="depositPayment",
                args=[deal_id],
                value=amount,
            )
        ]
    allowance = _token_call(
        "approve_payment",
        token=payment_token,
        sender=buyer,
        function="approve",
        args=[Web3.to_checksum_address(escrow), amount],
    )
    deposit = _escrow_call(
        "deposit_payment", escrow=escrow, sender=buyer, function="depositPayment", args=[deal_id]
    )
    return [allowance, deposit]


def asset_deposit_transactions(
    *,
    escrow: str,
    deal_id: int,
    seller: str,
    asset_kind: AssetKind,
    asset_contract: str,
    token_id: int = 0,
) -> list[TransactionRequest]:
    """The seller's hand-over, in the order it must be sent. ERC-721: approve the escrow,
    deposit. Ownable: reserve the asset for the deal while still its owner, hand the
    ownership over, deposit (so no one else can claim it in between). Ownable2Step: name
    the escrow pending owner, deposit (the escrow accepts)."""
    escrow_address = Web3.to_checksum_address(escrow)
    deposit = _escrow_call(
        "deposit_asset", escrow=escrow, sender=seller, function="depositAsset", args=[deal_id]
    )
    if asset_kind is AssetKind.ERC721:
        allowance = _token_call(
            "approve_asset",
            token=asset_contract,
            sender=seller,
            function="approve",
            args=[escrow_address, token_id],
        )
        return [allowance, deposit]
    handover = _token_call(
        "transfer_ownership",
        token=asset_contract,
        sender=seller,
        function="transferOwnership",
        args=[escrow_address],
    )
    if asset_kind is AssetKind.OWNABLE:
        reserve = _escrow_call(
            "reserve_asset", escrow=escrow, sender=seller, function="reserveAsset", args=[deal_id]
        )
        return [reserve, handover, deposit]
    if asset_kind is AssetKind.OWNABLE2STEP:
        return [handover, deposit]
    raise ValueError("this deal escrows the payment alone: there is no asset to deposit")


def approve_transaction(*, escrow: str, deal_id: int, party: str) -> TransactionRequest:
    return _escrow_call("approve", escrow=escrow, sender=party, function="approve", args=[deal_id])


def refund_approve_transaction(*, escrow: str, deal_id: int, party: str) -> TransactionRequest:
    return _escrow_call(
        "approve_refund", escrow=escrow, sender=party, function="approveRefund", args=[deal_id]
    )


def dispute_transaction(*, escrow: str, deal_id: int, party: str) -> TransactionRequest:
    return _escrow_call("dispute", escrow=escrow, sender=party, function="dispute", args=[deal_id])


def settle_transaction(*, escrow: str, deal_id: int, sender: str) -> TransactionRequest:
    return _escrow_call("settle", escrow=escrow, sender=sender, function="settle", args=[deal_id])


def refund_transaction(*, escrow: str, deal_id: int, sender: str) -> TransactionRequest:
    return _escrow_call("refund", escrow=escrow, sender=sender, function="refund", args=[deal_id])


def withdraw_transaction(*, escrow: str, deal_id: int, party: str) -> TransactionRequest:
    return _escrow_call(
        "withdraw", escrow=escrow, sender=party, function="withdraw", args=[deal_id]
    )


# ---- decoding --------------------------------------------------------------------------


@functools.cache
def _events_by_topic() -> dict[bytes, str]:
    return {
        event_abi_to_log_topic(cast(ABIEvent, entry)): entry["name"]
        for entry in escrow_abi()
        if entry.get("type") == "event" and entry["name"] in _EVENT_TYPES
    }


def escrow_topics() -> list[str]:
    """topic0 of every deal event, for an `eth_getLogs` filter."""
    return ["0x" + topic.hex() for topic in _events_by_topic()]


def escrow_events_decode(logs: Iterable[LogReceipt], *, escrow: str) -> list[EscrowEvent]:
    """The deal events among `logs` (a receipt's, or `eth_getLogs`'), in their order;
    logs of other contracts, the fee settings' events and removed (reorged) logs are
    left out."""
    address = Web3.to_checksum_address(escrow)
    events: list[EscrowEvent] = []
    for log in logs:
        if log.get("removed") or Web3.to_checksum_address(log["address"]) != address:
            continue
        topics = log["topics"]
        name = _events_by_topic().get(bytes(topics[0])) if topics else None
        if name is None:
            continue
        events.append(_event_from(getattr(_encoder().events, name)().process_log(log)))
    return events


def receipt_events(receipt: Mapping[str, Any], *, escrow: str) -> list[EscrowEvent]:
    return escrow_events_decode(cast(list[LogReceipt], receipt["logs"]), escrow=escrow)


def _event_from(data: EventData) -> EscrowEvent:
    fields: dict[str, Any] = {
        "escrow": Web3.to_checksum_address(data["address"]),
        "block_number": data["blockNumber"],
        "block_hash": data["blockHash"].to_0x_hex(),
        "transaction_hash": data["transactionHash"].to_0x_hex(),
        "log_index": data["logIndex"],
    }
    for name, value in data["args"].items():
        fields[_RENAMED.get(name, name)] = _plain(name, value)
    return _EVENT_TYPES[data["event"]](**fields)


def _plain(name: str, value: Any) -> Any:
    if name == "assetKind":
        return AssetKind(value)
    if name in {"paymentToken", "feeRecipient", "arbiter"} or (
        name == "assetContract" and value == ZERO_ADDRESS
    ):
        return _address_or_none(value)
    if isinstance(value, str) and Web3.is_address(value):
        return Web3.to_checksum_address(value)
    return value


def _address_or_none(value: str) -> ChecksumAddress | None:
    return None if int(value, 16) == 0 else Web3.to_checksum_address(value)
