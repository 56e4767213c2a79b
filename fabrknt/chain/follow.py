"""Following an EVM chain's head with a cursor: how far is safe to read (confirmations),
in which block ranges, and whether blocks read before are still on the chain (reorgs).

Shared by TRACE's indexer (`trace.services.indexer`, a project's contract logs) and
FABRIC's escrow monitor (`fabric.services.escrow_monitor`, our escrow's events): each keeps
its own cursor and its own record of the block hashes it read, and asks these functions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping

from web3 import Web3
from web3.exceptions import BlockNotFound
from web3.types import BlockData, LogReceipt


def confirmed_head(client: Web3, *, confirmations: int) -> int:
    """The newest block a reader takes as final: `confirmations` below the head."""
    head: int = client.eth.block_number
    return head - max(0, confirmations)


def block_ranges(start: int, end: int, *, size: int) -> Iterator[tuple[int, int]]:
    """start..end (inclusive) in consecutive ranges of at most `size` blocks (providers cap
    the range of one `eth_getLogs`)."""
    step = max(1, size)
    while start <= end:
        yield start, min(start + step - 1, end)
        start += step


def block_hash(client: Web3, number: int) -> str | None:
    """The 0x hash of the chain's block `number`, or None when the node has no such block
    (the chain is shorter now)."""
    try:
        return client.eth.get_block(number)["hash"].to_0x_hex()
    except BlockNotFound:
        return None


@dataclasses.dataclass(frozen=True)
class Fork:
    """What a reorg check found: the highest block read before that is still on the chain
    (None: none of those checked is), and the oldest checked one that is not."""

    common: int | None
    oldest_dropped: int


def fork_find(client: Web3, seen: Iterable[tuple[int, str]]) -> Fork | None:
    """Compares blocks read before, `(number, hash)` newest first, with the chain, down to
    the first that still matches. None when the newest still matches: no reorg."""
    dropped: int | None = None
    for number, stored_hash in seen:
        if block_hash(client, number) == stored_hash:
            return None if dropped is None else Fork(common=number, oldest_dropped=dropped)
        dropped = number
    return None if dropped is None else Fork(common=None, oldest_dropped=dropped)


def live_logs(logs: Iterable[LogReceipt]) -> list[LogReceipt]:
    """`eth_getLogs`' answer in chain order, without logs a node flags as removed."""
    return sorted(
        (log for log in logs if not log.get("removed")),
        key=lambda log: (log["blockNumber"], log["logIndex"]),
    )


def changed_block(logs: Iterable[LogReceipt], blocks: Mapping[int, BlockData]) -> int | None:
    """A block whose hash differs between a log and the block read after it (the chain
    reorganised during the read), or None. The reader then gives up this run."""
    for log in logs:
        if log["blockHash"] != blocks[log["blockNumber"]]["hash"]:
            return int(log["blockNumber"])
    return None
