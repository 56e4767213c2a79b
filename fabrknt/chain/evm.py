"""web3.py clients per CAIP-2 chain, from `settings.CHAIN_RPC_URLS`.

Tests (and the demo) inject an in-process chain with `evm_client_override`, so the code
that reads the chain is the same code that runs against a real JSON-RPC endpoint.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

from django.conf import settings
from eth_abi import encode as abi_encode
from eth_tester.exceptions import TransactionFailed
from eth_typing import HexStr
from eth_utils import (
    event_abi_to_log_topic,
    function_signature_to_4byte_selector,
    to_checksum_address,
)
from web3 import Web3
from web3.exceptions import (
    BlockNotFound,
    ContractLogicError,
    Web3Exception,
    Web3RPCError,
    Web3TypeError,
)
from web3.types import BlockData, BlockIdentifier, TxData

from fabrknt.chain.addresses import address_key, chain_namespace

RPC_TIMEOUT_SECONDS = 15
CONTRACTS_DIR = Path(settings.BASE_DIR) / "contracts"

# The native coin priced for a transaction's value; ETH unless the chain says otherwise.
NATIVE_ASSETS: dict[int, str] = {137: "POL", 80002: "POL", 56: "BNB", 43114: "AVAX"}

_overrides: dict[str, Web3] = {}
T = TypeVar("T")

_OWNER_SELECTOR = function_signature_to_4byte_selector("owner()")
_IS_VALID_SIGNATURE_SELECTOR = function_signature_to_4byte_selector(
    "isValidSignature(bytes32,bytes)"
)
EIP1271_MAGIC_VALUE = bytes.fromhex("1626ba7e")
ZERO_ADDRESS = "0x" + "0" * 40
# A call that reverts: a node answers an error web3 raises as ContractLogicError; the
# in-process chain (eth-tester: tests, the local demo) raises its TransactionFailed.
REVERTED = (ContractLogicError, TransactionFailed)


class ChainNotConfigured(Exception):
    """No (usable) JSON-RPC endpoint for this chain in CHAIN_RPC_URLS."""

    def __init__(self, chain: str, reason: str = "chain not configured"):
        super().__init__(f"{reason}: {chain}")
        self.chain = chain


class HistoricalStateUnavailable(Web3Exception):
    """The endpoint answered a read of past state with an error: it is not an archive node
    (geth prunes state older than 128 blocks: "missing trie node")."""


class ChainMismatch(ChainNotConfigured):
    """The RPC endpoint configured for a chain serves another chain."""

    def __init__(self, chain: str, served: int):
        super().__init__(chain, reason=f"the RPC endpoint serves chain id {served}, not")
        self.served = served


def evm_chain_id(chain: str) -> int:
    """The numeric chain id of an EVM CAIP-2 chain ("eip155:8453" -> 8453)."""
    if chain_namespace(chain) != "eip155":
        raise ValueError(f"{chain} is not an EVM chain")
    return int(chain.split(":", 1)[1])


def is_evm_chain(chain: str) -> bool:
    try:
        evm_chain_id(chain)
    except ValueError:
        return False
    return True


def native_asset(chain: str) -> str:
    return NATIVE_ASSETS.get(evm_chain_id(chain), "ETH")


def evm_client(chain: str) -> Web3:
    """The Web3 client for a chain; `ChainNotConfigured` when there is no RPC URL for it."""
    if chain in _overrides:
        return _overrides[chain]
    url = settings.CHAIN_RPC_URLS.get(chain, "")
    if not url:
        raise ChainNotConfigured(chain)
    return _http_client(url)


def evm_client_serving(chain: str) -> Web3:
    """`evm_client`, checked with one `eth_chainId`: `ChainMismatch` when the endpoint
    serves another chain. Failures of the endpoint raise what web3 or requests raise."""
    client = evm_client(chain)
    served = client.eth.chain_id
    if served != evm_chain_id(chain):
        raise ChainMismatch(chain, served)
    return client


@functools.lru_cache(maxsize=32)
def _http_client(url: str) -> Web3:
    # One client (and its connection pool) per endpoint for the life of the process.
    return Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": RPC_TIMEOUT_SECONDS}))


@contextlib.contextmanager
def evm_client_override(chain: str, client: Web3) -> Iterator[Web3]:
    """Use `client` for `chain` inside the block (tests, local demo chains)."""
    previous = _overrides.get(chain)
    _overrides[chain] = client
    try:
        yield client
    finally:
        if previous is None:
            _overrides.pop(chain, None)
        else:
            _overrides[chain] = previous


def rpc_batch(client: Web3, requests: Sequence[Callable[[], T]], *, size: int) -> list[T]:
    """The results of `requests` (each a call such as `lambda: client.eth.get_block(n)`),
    in order, sent as JSON-RPC batches of at most `size` calls: one round trip a batch.

    A provider that cannot batch (the in-process eth-tester of the tests and the demo)
    makes one call a request instead. A failing call raises what it raises on its own.
    """
    step = max(1, size)
    results: list[T] = []
    for start in range(0, len(requests), step):
        try:
            batch = client.batch_requests()
        except Web3TypeError:  # the provider's kind decides: this is the first chunk
            return [request() for request in requests]
        with batch:
            for request in requests[start : start + step]:
                batch.add(request())
            results.extend(cast(list[T], batch.execute()))
    return results


@functools.cache
def known_event_names() -> dict[str, str]:
    """topic0 (0x hex) -> event name, for our committed contracts and the token standards."""
    names: dict[str, str] = {}
    for abi_path in sorted(CONTRACTS_DIR.glob("*/build/*.abi")):
        for entry in json.loads(abi_path.read_text()):
            if entry.get("type") == "event" and not entry.get("anonymous"):
                names["0x" + event_abi_to_log_topic(entry).hex()] = entry["name"]
    for signature in (
        "Transfer(address,address,uint256)",
        "Approval(address,address,uint256)",
        "TransferSingle(address,address,address,uint256,uint256)",
        "TransferBatch(address,address,address,uint256[],uint256[])",
    ):
        names.setdefault(Web3.keccak(text=signature).to_0x_hex(), signature.split("(")[0])
    return names


def contract_artifact(name: str) -> tuple[list[dict[str, Any]], str]:
    """(ABI, bytecode hex) of a committed contract, e.g. "trace/DemoDapp"."""
    folder, contract = name.rsplit("/", 1)
    build = CONTRACTS_DIR / folder / "build"
    stem = f"{contract}_sol_{contract}"
    abi = json.loads((build / f"{stem}.abi").read_text())
    bytecode = "0x" + (build / f"{stem}.bin").read_text().strip()
    return abi, bytecode


def block_timestamps(client: Web3, numbers: Sequence[int]) -> dict[int, int]:
    """The timestamps of these blocks, in one JSON-RPC batch (one round trip); a block the
    node does not have yet is left out. Raises what the client raises (see below)."""
    if not numbers:
        return {}
    try:
        with client.batch_requests() as batch:
            for number in numbers:
                batch.add(client.eth.get_block(number))
            blocks = cast(list[BlockData], batch.execute())
    except BlockNotFound:
        # A node behind the chain's head fails the whole batch: ask block by block.
        return {
            number: timestamp
            for number in numbers
            if (timestamp := _block_timestamp(client, number)) is not None
        }
    return {number: block["timestamp"] for number, block in zip(numbers, blocks, strict=True)}


def _block_timestamp(client: Web3, number: int) -> int | None:
    try:
        return client.eth.get_block(number)["timestamp"]
    except BlockNotFound:
        return None


# --- who controls a contract ------------------------------------------------------------
# Chain reads for proving control of a contract. They raise what the client raises when
# the endpoint fails (web3's Web3Exception, requests' OSError); a contract that does not
# answer as asked is a None or False, not an error.


def contract_owner(client: Web3, address: str) -> str | None:
    """What the contract's `owner()` returns (EIP-55), or None: no such function (the call
    reverts or answers something that is not an address), or the zero address."""
    try:
        raw = bytes(client.eth.call({"to": address, "data": HexStr("0x" + _OWNER_SELECTOR.hex())}))
    except REVERTED:
        return None
    if len(raw) != 32 or any(raw[:12]):
        return None
    owner = to_checksum_address(raw[12:])
    return None if owner == to_checksum_address(ZERO_ADDRESS) else owner


def has_code(client: Web3, address: str, block: BlockIdentifier = "latest") -> bool:
    return bool(client.eth.get_code(to_checksum_address(address), block))


def contract_creation_block(client: Web3, address: str) -> int | None:
    """The first block at which the address has code (the contract's creation), or None
    when it has none at the head.

    A binary search over `eth_getCode` at historical blocks: an archive node's reads. An
    endpoint that answers them with an error raises `HistoricalStateUnavailable`.
    """
    address = to_checksum_address(address)
    head: int = client.eth.block_number
    if not has_code(client, address, head):
        return None
    low, high = 0, head
    while low < high:
        middle = (low + high) // 2
        try:
            found = has_code(client, address, middle)
        except Web3RPCError as error:
            raise HistoricalStateUnavailable(f"block {middle}: {error}") from error
        if found:
            high = middle
        else:
            low = middle + 1
    return low


def contract_deployer(client: Web3, address: str) -> str | None:
    """The sender of the transaction that created the contract (EIP-55), or None.

    In the creation block (`contract_creation_block`), the deployer is the sender of the
    contract-creating transaction whose receipt names the address as `contractAddress`. A
    contract created by another contract (a factory) has no such receipt: None, and only
    `owner()` can prove control of it.
    """
    creation = contract_creation_block(client, address)
    if creation is None:
        return None
    block = client.eth.get_block(creation, full_transactions=True)
    # With full_transactions the block lists transactions, not their hashes.
    for transaction in cast(Sequence[TxData], block["transactions"]):
        if transaction.get("to"):
            continue  # a call, not a creation
        receipt = client.eth.get_transaction_receipt(transaction["hash"])
        created = receipt.get("contractAddress")
        if created and address_key(created) == address_key(address):
            return to_checksum_address(receipt["from"])
    return None


def eip1271_signature_valid(
    client: Web3, contract: str, *, message_hash: bytes, signature: bytes
) -> bool:
    """Whether the contract wallet's `isValidSignature(hash, signature)` (EIP-1271)
    answers the magic value; False when it answers anything else or reverts."""
    data = _IS_VALID_SIGNATURE_SELECTOR + abi_encode(
        ["bytes32", "bytes"], [message_hash, signature]
    )
    try:
        raw = bytes(
            client.eth.call(
                {"to": to_checksum_address(contract), "data": HexStr("0x" + data.hex())}
            )
        )
    except REVERTED:
        return False
    return raw[:4] == EIP1271_MAGIC_VALUE
