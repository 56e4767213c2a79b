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
   transactions of those logs (sender, value) and their blocks (time, hash).
3. Per range, one database transaction stores the interactions (ON CONFLICT DO NOTHING),
   the block hashes and the new cursor; the cursor moves only if it is still where this run
   found it, so two workers cannot both advance it and a crash leaves nothing half-done: the
   next run re-reads the range.

A transaction's value is carried by its first log's row (its other logs get 0), so volume
is not counted once per event.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from web3 import Web3
from web3.exceptions import BlockNotFound, Web3Exception

from fabrknt.chain.addresses import evm_address_normalize
from fabrknt.chain.evm import (
    ChainMismatch,
    ChainNotConfigured,
    evm_chain_id,
    evm_client,
    is_evm_chain,
    known_event_names,
    native_asset,
)
from trace.models import ContractInteraction, IndexedBlock, InteractionSource, Project
from trace.services.ingest import (
    InteractionRow,
    attribution_schedule,
    conversions_forget,
    interactions_insert,
)
from trace.services.pricing import PriceBook

logger = logging.getLogger(__name__)


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


def project_index(*, project_id) -> int:
    """Index one project's contracts up to the confirmed head; the number of new rows."""
    return project_index_run(project_id=project_id).stored


def projects_indexable() -> list:
    """Ids of the projects the indexer reads: EVM chains, at least one contract address."""
    return [
        project_id
        for project_id, chain, contracts in Project.objects.values_list(
            "id", "chain", "contract_addresses"
        ).order_by("created_at")
        if is_evm_chain(chain) and _contracts(contracts)
    ]


def project_index_run(*, project_id) -> IndexRun:
    """Like `project_index`, with what happened (for the command and the admin)."""
    project = Project.objects.get(id=project_id)
    run = IndexRun(project_id=project.id, chain=project.chain)
    contracts = _contracts(project.contract_addresses)
    if not is_evm_chain(project.chain) or not contracts:
        run.skipped = "not an EVM project with contract addresses"
        return run
    client = evm_client(project.chain)  # ChainNotConfigured -> the caller skips
    served = client.eth.chain_id
    if served != evm_chain_id(project.chain):
        raise ChainMismatch(project.chain, served)

    run.fork_block, run.orphaned = _reorg_repair(project, client)
    cursor = Project.objects.values_list("last_indexed_block", flat=True).get(id=project.id)
    safe_head = client.eth.block_number - max(0, settings.INDEXER_CONFIRMATIONS)
    start = cursor + 1 if cursor is not None else max(0, safe_head - _lookback() + 1)
    step = max(1, settings.INDEXER_MAX_BLOCK_RANGE)
    while start <= safe_head:
        end = min(start + step - 1, safe_head)
        new_ids = _range_index(project, client, contracts, start, end, cursor)
        run.stored += len(new_ids)
        run.from_block = start if run.from_block is None else run.from_block
        run.to_block = cursor = end
        start = end + 1
    return run


def _contracts(addresses: object) -> list[str]:
    valid = []
    for address in addresses if isinstance(addresses, list) else []:
        try:
            valid.append(evm_address_normalize(address))
        except ValueError:
            logger.warning("ignoring invalid contract address %r", address)
    return valid


def _lookback() -> int:
    return max(1, settings.INDEXER_INITIAL_LOOKBACK)


def _block_hash(client: Web3, number: int) -> str | None:
    try:
        return client.eth.get_block(number)["hash"].to_0x_hex()
    except BlockNotFound:
        return None


def _reorg_repair(project: Project, client: Web3) -> tuple[int | None, int]:
    """Find a fork below the cursor and rewind to it; (fork block, interactions removed)."""
    seen = IndexedBlock.objects.filter(project=project).order_by("-number")
    fork: int | None = None
    mismatched = False
    for number, stored_hash in seen.values_list("number", "hash").iterator():
        if _block_hash(client, number) == stored_hash:
            fork = number
            break
        mismatched = True
        fork = number - 1  # if nothing older matches, re-read from below the oldest
    if not mismatched:
        return None, 0
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


def _range_index(
    project: Project, client: Web3, contracts: list[str], start: int, end: int, cursor: int | None
) -> list[int]:
    """Read blocks start..end and store them with the cursor in one transaction."""
    logs = client.eth.get_logs({"fromBlock": start, "toBlock": end, "address": contracts})
    logs = sorted(
        (log for log in logs if not log.get("removed")),
        key=lambda log: (log["blockNumber"], log["logIndex"]),
    )
    blocks = {n: client.eth.get_block(n) for n in {log["blockNumber"] for log in logs} | {end}}
    transactions = {}
    for log in logs:
        tx_hash = log["transactionHash"]
        if tx_hash not in transactions:
            transactions[tx_hash] = client.eth.get_transaction(tx_hash)
        if log["blockHash"] != blocks[log["blockNumber"]]["hash"]:
            raise IndexerConflict(f"block {log['blockNumber']} changed while being read")
    rows = _rows(project, logs, transactions, blocks)

    with transaction.atomic():
        moved = Project.objects.filter(id=project.id)
        moved = (
            moved.filter(last_indexed_block__isnull=True)
            if cursor is None
            else moved.filter(last_indexed_block=cursor)
        )
        if not moved.update(last_indexed_block=end):
            raise IndexerConflict(f"the cursor of project {project.id} moved during the run")
        new_ids = interactions_insert(rows=rows)
        _hashes_record(project, blocks)
        attribution_schedule(interaction_ids=new_ids)
    return new_ids


def _rows(project: Project, logs: list, transactions: dict, blocks: dict) -> list[InteractionRow]:
    names = known_event_names()
    asset = native_asset(project.chain)
    prices = PriceBook()
    valued: set = set()
    rows = []
    for log in logs:
        tx = transactions[log["transactionHash"]]
        occurred_at = dt.datetime.fromtimestamp(blocks[log["blockNumber"]]["timestamp"], tz=dt.UTC)
        first_of_tx = log["transactionHash"] not in valued
        valued.add(log["transactionHash"])
        amount = Decimal(tx["value"]).scaleb(-18) if first_of_tx else Decimal(0)
        topic0 = log["topics"][0].to_0x_hex() if log["topics"] else ""
        rows.append(
            InteractionRow(
                project_id=project.id,
                chain=project.chain,
                transaction_hash=log["transactionHash"].to_0x_hex(),
                log_index=log["logIndex"],
                block_number=log["blockNumber"],
                block_hash=log["blockHash"].to_0x_hex(),
                wallet_address=tx["from"],
                from_address=tx["from"],
                to_address=tx.get("to") or "",
                contract_address=log["address"],
                # Unknown events keep their topic0 (without 0x: the column holds 64 chars).
                event_type=names.get(topic0) or topic0[2:] or "anonymous",
                asset=asset,
                amount=amount,
                value_usd=prices.value_usd(asset=asset, amount=amount, day=occurred_at.date()),
                occurred_at=occurred_at,
                source=InteractionSource.INDEXER,
            )
        )
    return rows


def _hashes_record(project: Project, blocks: dict) -> None:
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
    "project_index",
    "project_index_run",
    "projects_indexable",
]
