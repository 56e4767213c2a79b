"""The EVM chain indexer: each project's contract logs, read from JSON-RPC, into
`ContractInteraction`.

A run, per project:

1. Reorg check. The hashes of blocks read before (`IndexedBlock`: the blocks holding our
   interactions and each run's last block) are compared with the chain, newest first, down
   to the highest one that still matches: the fork point. Indexer interactions above it
   (and the conversions derived from them) are deleted and the cursor goes back to it, so
   the blocks are read again from the chain that won.
2. From the cursor (`Project.last_indexed_block`) + 1 up to head - INDEXER_CONFIRMATIONS,
   in ranges of at most INDEXER_MAX_BLOCK_RANGE blocks: `eth_getLogs` by address, then the
   transactions of those logs (sender, value) and their blocks (time, hash), together in
   JSON-RPC batches of INDEXER_RPC_BATCH_SIZE calls (`rpc_batch`): a range costs its
   `eth_getLogs` and one round trip a batch, not one a transaction. Receipts are not
   read: a reverted transaction leaves no log, and the logs come from `eth_getLogs`.
3. Per range, one database transaction stores the interactions (ON CONFLICT DO NOTHING),
   the block hashes and the new cursor; the cursor moves only if it is still where this run
   found it, so two workers cannot both advance it and a crash leaves nothing half-done: the
   next run re-reads the range.

What each row moved, by asset identity (see `trace.services.pricing`): an ERC-20
`Transfer` log moves its emitter's token (decimals from the asset registry); ERC-721 and
ERC-1155 transfers move things, unpriced; any other log is an event that moves nothing
itself. A transaction that pays one of the project's contracts gets its own row for its
native value, keyed `external` as Alchemy keys the same transfer, so a project that both
the indexer and Alchemy's webhook feed counts it once. Value that reaches a contract
through an internal call (a router's) is not visible without traces: Alchemy's
`internal` transfers carry it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any, cast
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import Web3Exception
from web3.types import BlockData, LogReceipt, TxData

from fabrknt.chain.addresses import address_key, evm_address_normalize
from fabrknt.chain.evm import (
    ChainMismatch,
    ChainNotConfigured,
    evm_client_serving,
    is_evm_chain,
    known_event_names,
    native_asset,
    rpc_batch,
)
from fabrknt.chain.follow import block_ranges, changed_block, fork_find, live_logs
from fabrknt.chain.follow import confirmed_head as head_confirmed
from trace.models import (
    NATIVE_ASSET,
    ContractInteraction,
    IndexedBlock,
    InteractionSource,
    Project,
)
from trace.services.ingest import (
    InteractionRow,
    attribution_schedule,
    conversions_forget,
    interactions_insert,
    log_position,
    trace_position,
)
from trace.services.pricing import PriceBook, amount_from_base_units

logger = logging.getLogger(__name__)


# ERC-20 and ERC-721 share this signature; ERC-20 indexes two topics, ERC-721 three.
ERC20_TRANSFER_TOPIC = Web3.keccak(text="Transfer(address,address,uint256)").to_0x_hex()
NON_FUNGIBLE_TRANSFER_TOPICS = frozenset(
    {
        ERC20_TRANSFER_TOPIC,  # reached only with a third indexed topic: an ERC-721 token id
        Web3.keccak(text="TransferSingle(address,address,address,uint256,uint256)").to_0x_hex(),
        Web3.keccak(text="TransferBatch(address,address,address,uint256[],uint256[])").to_0x_hex(),
    }
)
DEFAULT_DECIMALS = 18


class IndexerConflict(Exception):
    """The cursor moved under us (another run, or the chain changed mid-read)."""


# What a scheduled run logs and skips: no or wrong RPC endpoint, a concurrent run, the
# endpoint failing (requests' errors are OSErrors). The next run starts where this stopped.
INDEX_SKIPPABLE = (ChainNotConfigured, IndexerConflict, Web3Exception, OSError)


@dataclasses.dataclass
class IndexRun:
    project_id: object
    chain: str
    stored: int = 0
    from_block: int | None = None
    to_block: int | None = None
    fork_block: int | None = None  # set when a reorg was repaired
    orphaned: int = 0  # interactions deleted by that repair
    skipped: str = ""


def project_index(*, project_id: UUID | str) -> int:
    """Index one project's contracts up to the confirmed head; the number of new rows."""
    return project_index_run(project_id=project_id).stored


def projects_indexable() -> list[UUID]:
    """Ids of the projects the indexer reads: live (not archived), EVM chains, at least one
    contract address."""
    return [
        project_id
        for project_id, chain, contracts in Project.objects.live()
        .values_list("id", "chain", "contract_addresses")
        .order_by("created_at")
        if is_evm_chain(chain) and indexable_contracts(contracts)
    ]


def project_index_run(*, project_id: UUID | str) -> IndexRun:
    """Like `project_index`, with what happened (for the command and the admin)."""
    project = Project.objects.get(id=project_id)
    run = IndexRun(project_id=project.id, chain=project.chain)
    contracts = indexable_contracts(project.contract_addresses)
    if not is_evm_chain(project.chain) or not contracts:
        run.skipped = "not an EVM project with contract addresses"
        return run
    client = evm_client_serving(project.chain)  # ChainNotConfigured -> the caller skips

    run.fork_block, run.orphaned = _reorg_repair(project, client)
    cursor = Project.objects.values_list("last_indexed_block", flat=True).get(id=project.id)
    safe_head = confirmed_head(client)
    start = cursor + 1 if cursor is not None else max(0, safe_head - _lookback() + 1)
    for first, end in block_ranges(start, safe_head, size=settings.INDEXER_MAX_BLOCK_RANGE):
        new_ids = _range_index(project, client, contracts, first, end, cursor)
        run.stored += len(new_ids)
        run.from_block = first if run.from_block is None else run.from_block
        run.to_block = cursor = end
    return run


def confirmed_head(client: Web3) -> int:
    """The newest block the indexer reads: INDEXER_CONFIRMATIONS below the head."""
    return head_confirmed(client, confirmations=settings.INDEXER_CONFIRMATIONS)


def indexable_contracts(addresses: object) -> list[ChecksumAddress]:
    """The valid EVM addresses of a project's `contract_addresses` (the others logged)."""
    valid = []
    for address in addresses if isinstance(addresses, list) else []:
        try:
            valid.append(evm_address_normalize(address))
        except ValueError:
            logger.warning("ignoring invalid contract address %r", address)
    return valid


def _lookback() -> int:
    lookback: int = settings.INDEXER_INITIAL_LOOKBACK
    return max(1, lookback)


def _reorg_repair(project: Project, client: Web3) -> tuple[int | None, int]:
    """Find a fork below the cursor and rewind to it; (fork block, interactions removed)."""
    seen = IndexedBlock.objects.filter(project=project).order_by("-number")
    found = fork_find(client, seen.values_list("number", "hash").iterator())
    if found is None:
        return None, 0
    # If nothing older matches, re-read from below the oldest block checked.
    fork = found.common if found.common is not None else found.oldest_dropped - 1
    logger.warning(
        "reorg on %s for project %s: re-deriving above block %s", project.chain, project.id, fork
    )
    with transaction.atomic():
        orphaned = ContractInteraction.objects.filter(
            project=project, source=InteractionSource.INDEXER, block_number__gt=fork
        )
        conversions_forget(transaction_hashes=orphaned.values_list("transaction_hash", flat=True))
        removed, _ = orphaned.delete()
        IndexedBlock.objects.filter(project=project, number__gt=fork).delete()
        Project.objects.filter(id=project.id, last_indexed_block__gt=fork).update(
            last_indexed_block=fork
        )
    return fork, removed


@dataclasses.dataclass(frozen=True)
class RangeRead:
    """What blocks start..end hold for a project: its rows, and the blocks read (those of
    the rows and the last one, whose hash is the cursor's)."""

    rows: list[InteractionRow]
    blocks: dict[int, BlockData]


def range_read(
    *, project: Project, client: Web3, contracts: list[ChecksumAddress], start: int, end: int
) -> RangeRead:
    """Read blocks start..end: the project's logs, then their transactions and blocks in
    JSON-RPC batches. Stores nothing (the live run and a backfill store it their way)."""
    query = {"fromBlock": start, "toBlock": end, "address": contracts}
    logs = live_logs(client.eth.get_logs(query))  # type: ignore[arg-type]
    numbers = sorted({log["blockNumber"] for log in logs} | {end})
    hashes = list(dict.fromkeys(log["transactionHash"] for log in logs))
    calls: list[Callable[[], Any]] = [functools.partial(client.eth.get_block, n) for n in numbers]
    calls += [functools.partial(client.eth.get_transaction, h) for h in hashes]
    fetched = rpc_batch(client, calls, size=settings.INDEXER_RPC_BATCH_SIZE)
    blocks = dict(zip(numbers, cast(list[BlockData], fetched[: len(numbers)]), strict=True))
    transactions = dict(zip(hashes, cast(list[TxData], fetched[len(numbers) :]), strict=True))
    changed = changed_block(logs, blocks)
    if changed is not None:
        raise IndexerConflict(f"block {changed} changed while being read")
    return RangeRead(_rows(project, logs, transactions, blocks), blocks)


def _range_index(
    project: Project,
    client: Web3,
    contracts: list[ChecksumAddress],
    start: int,
    end: int,
    cursor: int | None,
) -> list[int]:
    """Read blocks start..end and store them with the cursor in one transaction."""
    read = range_read(project=project, client=client, contracts=contracts, start=start, end=end)
    with transaction.atomic():
        moved = Project.objects.filter(id=project.id)
        moved = (
            moved.filter(last_indexed_block__isnull=True)
            if cursor is None
            else moved.filter(last_indexed_block=cursor)
        )
        if not moved.update(last_indexed_block=end, last_indexed_at=timezone.now()):
            raise IndexerConflict(f"the cursor of project {project.id} moved during the run")
        new_ids = interactions_insert(rows=read.rows)
        _hashes_record(project, read.blocks)
        attribution_schedule(interaction_ids=new_ids)
    return new_ids


def _rows(
    project: Project,
    logs: list[LogReceipt],
    transactions: dict[HexBytes, TxData],
    blocks: dict[int, BlockData],
) -> list[InteractionRow]:
    names = known_event_names()
    prices = PriceBook()
    rows = []
    for log in logs:
        tx = transactions[log["transactionHash"]]
        occurred_at = dt.datetime.fromtimestamp(blocks[log["blockNumber"]]["timestamp"], tz=dt.UTC)
        topic0 = log["topics"][0].to_0x_hex() if log["topics"] else ""
        rows.append(
            _indexer_row(
                project,
                log,
                tx,
                occurred_at,
                _log_transfer(project.chain, log, prices),
                prices,
                log_index=log["logIndex"],
                contract_address=log["address"],
                # Unknown events keep their topic0 (without 0x: the column holds 64 chars).
                event_type=names.get(topic0) or topic0[2:] or "anonymous",
            )
        )
    rows.extend(_transaction_values(project, logs, transactions, blocks, prices))
    return rows


@dataclasses.dataclass(frozen=True)
class _Moved:
    """What a row records as moved: an asset (canonical address, `native` or "") and its
    amount, with a display label."""

    asset_address: str
    amount: Decimal
    label: str


def _log_transfer(chain: str, log: LogReceipt, prices: PriceBook) -> _Moved:
    """An ERC-20 `Transfer` moves its emitter's token; an ERC-721/1155 transfer moves a
    thing, not money; any other log moves nothing itself (the transaction's own value is
    its `external` row)."""
    topics = log["topics"]
    topic0 = topics[0].to_0x_hex() if topics else ""
    if topic0 == ERC20_TRANSFER_TOPIC and len(topics) == 3 and len(log["data"]) == 32:
        token = log["address"]
        decimals = prices.decimals(chain=chain, address=token)
        raw = int.from_bytes(log["data"], "big")
        # An unregistered token's decimals are unknown: 18 (ERC-20's default) makes a
        # readable amount; it is never priced.
        amount = amount_from_base_units(raw, DEFAULT_DECIMALS if decimals is None else decimals)
        asset = prices.asset(chain=chain, address=token)
        return _Moved(token, amount, asset.symbol if asset is not None else "")
    if topic0 in NON_FUNGIBLE_TRANSFER_TOPICS:
        return _Moved("", Decimal(0), "")
    return _native(chain, 0, prices)


def _native(chain: str, wei: int, prices: PriceBook) -> _Moved:
    decimals = prices.decimals(chain=chain, address=NATIVE_ASSET)
    amount = amount_from_base_units(wei, DEFAULT_DECIMALS if decimals is None else decimals)
    return _Moved(NATIVE_ASSET, amount, native_asset(chain))


def _transaction_values(
    project: Project,
    logs: list[LogReceipt],
    transactions: dict[HexBytes, TxData],
    blocks: dict[int, BlockData],
    prices: PriceBook,
) -> list[InteractionRow]:
    """A transaction that pays one of the project's contracts: its native value on its own
    row, at the position Alchemy gives the same transfer (`external`), so a transfer that
    both report counts once."""
    contracts = {address_key(a) for a in project.contract_addresses if isinstance(a, str)}
    rows = []
    seen: set[HexBytes] = set()
    for log in logs:
        tx_hash = log["transactionHash"]
        tx = transactions[tx_hash]
        if tx_hash in seen or not tx["value"] or address_key(tx.get("to") or "") not in contracts:
            continue
        seen.add(tx_hash)
        occurred_at = dt.datetime.fromtimestamp(blocks[log["blockNumber"]]["timestamp"], tz=dt.UTC)
        rows.append(
            _indexer_row(
                project,
                log,
                tx,
                occurred_at,
                _native(project.chain, tx["value"], prices),
                prices,
                log_index=-1,
                contract_address=tx["to"],
                event_type="transaction",
            )
        )
    return rows


def _indexer_row(
    project: Project,
    log: LogReceipt,
    tx: TxData,
    occurred_at: dt.datetime,
    moved: _Moved,
    prices: PriceBook,
    *,
    log_index: int,
    contract_address: str,
    event_type: str,
) -> InteractionRow:
    valuation = prices.valuation(
        chain=project.chain,
        address=moved.asset_address,
        amount=moved.amount,
        day=occurred_at.date(),
    )
    return InteractionRow(
        project_id=project.id,
        chain=project.chain,
        transaction_hash=log["transactionHash"].to_0x_hex(),
        log_index=log_index,
        # The transaction's own value, as Alchemy's `external` transfer is keyed.
        transfer_position=log_position(log_index) if log_index >= 0 else trace_position("external"),
        block_number=log["blockNumber"],
        block_hash=log["blockHash"].to_0x_hex(),
        wallet_address=tx["from"],
        from_address=tx["from"],
        to_address=tx.get("to") or "",
        contract_address=contract_address,
        event_type=event_type,
        asset=moved.label,
        asset_address=moved.asset_address,
        amount=moved.amount,
        value_usd=valuation.value_usd,
        unpriced_reason=valuation.unpriced_reason,
        occurred_at=occurred_at,
        source=InteractionSource.INDEXER,
    )


def _hashes_record(project: Project, blocks: dict[int, BlockData]) -> None:
    now = timezone.now()
    IndexedBlock.objects.bulk_create(
        [
            IndexedBlock(
                project=project,
                chain=project.chain,
                number=number,
                hash=block["hash"].to_0x_hex(),
                indexed_at=now,
            )
            for number, block in blocks.items()
        ],
        update_conflicts=True,
        unique_fields=["project", "number"],
        update_fields=["hash", "indexed_at"],
    )
    # Older hashes are never re-checked: a reorg deeper than the window is not realistic
    # on the chains we serve, and the table stays small.
    floor = max(blocks) - max(1, settings.INDEXER_REORG_WINDOW)
    IndexedBlock.objects.filter(project=project, number__lt=floor).delete()


__all__ = [
    "ChainMismatch",
    "ChainNotConfigured",
    "INDEX_SKIPPABLE",
    "IndexRun",
    "IndexerConflict",
    "RangeRead",
    "confirmed_head",
    "indexable_contracts",
    "project_index",
    "project_index_run",
    "projects_indexable",
    "range_read",
]
