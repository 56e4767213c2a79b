"""The escrow monitor (`manage.py monitor_escrows`, and beat every minute): follows our
escrow contracts' events and moves each `EscrowTransaction` with them.

A run, per (chain, escrow contract), with the chain-following rules TRACE's indexer uses
(`fabrknt.chain.follow`):

1. Reorg check. The blocks read before — the cursor's (`EscrowCursor.last_block` and its
   hash) and those holding stored `EscrowEvent`s — are compared with the chain, newest
   first. Above the highest one still there, events are deleted, the cursor goes back and
   the deals touched are re-derived from the events that remain; the blocks are then read
   again from the chain that won. When none of them is still there, the run rewinds
   INDEXER_REORG_WINDOW blocks (re-reading is idempotent).
2. From the cursor + 1 up to head - ESCROW_CONFIRMATIONS, in ranges of at most
   INDEXER_MAX_BLOCK_RANGE blocks: `eth_getLogs` for the deal events, decoded by
   `fabric.chain.escrow`. Per range, one database transaction stores the events (unique per
   log: a re-read stores nothing twice), re-derives the deals they touch and moves the
   cursor — only if it is still where this run found it.

A deal is ours when its `DealCreated.ref` is the `deal_ref` of one of our rows; that event
gives the row its contract deal id. The status follows the events: `pending` → `funded`
(Funded) → `released` (Settled) or `refunded` (Refunded, or a party's Withdrawn after the
deadline); `disputed_at` records a dispute. On release the listing becomes sold.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
import logging
from collections.abc import Callable
from typing import Any, cast

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from web3 import Web3
from web3.exceptions import Web3Exception
from web3.types import BlockData, FilterParams

from fabric.chain.escrow import (
    ESCROW_CONTRACT,
    DealCreated,
    EscrowEvent,
    escrow_events_decode,
    escrow_topics,
)
from fabric.models import (
    EscrowCursor,
    EscrowStatus,
    EscrowTransaction,
    ListingStatus,
)
from fabric.models import (
    EscrowEvent as EscrowEventRow,
)
from fabric.services.listings import transition
from fabrknt.api.errors import Conflict
from fabrknt.chain.addresses import address_key
from fabrknt.chain.evm import ChainNotConfigured, evm_client_serving, is_evm_chain, rpc_batch
from fabrknt.chain.follow import (
    block_hash,
    block_ranges,
    changed_block,
    confirmed_head,
    fork_find,
    live_logs,
)
from fabrknt.chain.models import DeployedContract

logger = logging.getLogger(__name__)

# The event that ends in each status; the others leave the status as it was.
STATUS_AFTER = {
    "Funded": EscrowStatus.FUNDED,
    "Settled": EscrowStatus.RELEASED,
    "Refunded": EscrowStatus.REFUNDED,
    "Withdrawn": EscrowStatus.REFUNDED,
}
_LOCATION_FIELDS = {"deal_id", "escrow", "block_number", "block_hash", "transaction_hash"}


class MonitorConflict(Exception):
    """The cursor moved under this run (another run), or a block changed while being read."""


# What a scheduled run logs and skips: the next run starts where this one stopped.
MONITOR_SKIPPABLE = (ChainNotConfigured, MonitorConflict, Web3Exception, OSError)


@dataclasses.dataclass
class MonitorRun:
    chain: str
    contract: str
    from_block: int | None = None
    to_block: int | None = None
    stored: int = 0  # new EscrowEvent rows
    fork_block: int | None = None  # set when a reorg was repaired
    rolled_back: int = 0  # events deleted by that repair


def escrow_contracts_followed() -> list[tuple[str, str]]:
    """(chain, address) of every escrow the monitor reads: each deployment of ours on an
    EVM chain, and any other address an open deal still names (a deal opened on an escrow
    since replaced)."""
    deployed = DeployedContract.objects.filter(name=ESCROW_CONTRACT).values_list("chain", "address")
    open_deals = (
        EscrowTransaction.objects.filter(status__in=(EscrowStatus.PENDING, EscrowStatus.FUNDED))
        .values_list("chain", "escrow_contract_address")
        .distinct()
    )
    followed: dict[tuple[str, str], tuple[str, str]] = {}
    for chain, address in [*deployed, *open_deals]:
        if is_evm_chain(chain):
            key = (chain, address_key(address))
            followed.setdefault(key, (chain, Web3.to_checksum_address(address)))
    return sorted(followed.values())


def escrow_monitor_run(*, chain: str, contract: str) -> MonitorRun:
    """Reads one escrow's new events up to the confirmed head and applies them."""
    contract = Web3.to_checksum_address(contract)
    run = MonitorRun(chain=chain, contract=contract)
    client = evm_client_serving(chain)  # ChainNotConfigured -> the caller skips
    cursor = _cursor(chain, contract)
    run.fork_block, run.rolled_back = _reorg_repair(client, cursor)
    cursor.refresh_from_db()
    safe_head = confirmed_head(client, confirmations=settings.ESCROW_CONFIRMATIONS)
    for start, end in block_ranges(
        cursor.last_block + 1, safe_head, size=settings.INDEXER_MAX_BLOCK_RANGE
    ):
        run.stored += _range_apply(client, cursor, start, end)
        run.from_block = start if run.from_block is None else run.from_block
        run.to_block = end
    return run


def escrows_monitor() -> list[MonitorRun]:
    """`escrow_monitor_run` for every followed escrow; one that fails (no RPC endpoint, a
    failing endpoint, a concurrent run) is logged and skipped."""
    runs = []
    for chain, contract in escrow_contracts_followed():
        try:
            runs.append(escrow_monitor_run(chain=chain, contract=contract))
        except MONITOR_SKIPPABLE as error:
            logger.warning("escrow monitor skipped %s on %s: %s", contract, chain, error)
    return runs


# ---- the cursor and reorgs ---------------------------------------------------------------


def _cursor(chain: str, contract: str) -> EscrowCursor:
    """The escrow's cursor; a new one starts just below the contract's deployment."""
    deployed = (
        DeployedContract.objects.filter(chain=chain, address__iexact=contract)
        .values_list("block_number", flat=True)
        .first()
    )
    cursor, _ = EscrowCursor.objects.get_or_create(
        chain=chain,
        contract_address=contract,
        defaults={"last_block": max(0, (deployed or 0) - 1)},
    )
    return cursor


def _escrow_rows(cursor: EscrowCursor) -> QuerySet[EscrowTransaction]:
    return EscrowTransaction.objects.filter(
        chain=cursor.chain, escrow_contract_address__iexact=cursor.contract_address
    )


def _reorg_repair(client: Web3, cursor: EscrowCursor) -> tuple[int | None, int]:
    """Finds blocks read before that the chain dropped; rolls their events back and
    rewinds the cursor. (fork block, events removed), or (None, 0)."""
    floor = cursor.last_block - max(1, settings.INDEXER_REORG_WINDOW)
    seen: dict[int, str] = dict(
        EscrowEventRow.objects.filter(
            escrow__in=_escrow_rows(cursor), block_number__gt=floor
        ).values_list("block_number", "block_hash")
    )
    if cursor.last_block_hash:
        seen[cursor.last_block] = cursor.last_block_hash
    found = fork_find(client, sorted(seen.items(), reverse=True))
    if found is None:
        return None, 0
    fork = found.common
    if fork is None:  # nothing read before is still there: rewind a whole window
        fork = max(0, min(found.oldest_dropped - 1, floor))
    logger.warning(
        "reorg on %s for escrow %s: re-deriving deals above block %s",
        cursor.chain,
        cursor.contract_address,
        fork,
    )
    with transaction.atomic():
        dropped = EscrowEventRow.objects.filter(
            escrow__in=_escrow_rows(cursor), block_number__gt=fork
        )
        touched = set(dropped.values_list("escrow_id", flat=True))
        removed, _ = dropped.delete()
        EscrowCursor.objects.filter(pk=cursor.pk).update(
            last_block=fork, last_block_hash=block_hash(client, fork) or ""
        )
        for escrow in EscrowTransaction.objects.filter(pk__in=touched).select_for_update():
            deal_rederive(escrow)
    return fork, removed


# ---- reading a range ---------------------------------------------------------------------


def _range_apply(client: Web3, cursor: EscrowCursor, start: int, end: int) -> int:
    """Reads blocks start..end and applies their events with the cursor, in one transaction."""
    query = cast(
        FilterParams,
        {
            "fromBlock": start,
            "toBlock": end,
            "address": cursor.contract_address,
            "topics": [escrow_topics()],
        },
    )
    logs = live_logs(client.eth.get_logs(query))
    numbers = sorted({log["blockNumber"] for log in logs} | {end})
    calls: list[Callable[[], Any]] = [functools.partial(client.eth.get_block, n) for n in numbers]
    fetched = rpc_batch(client, calls, size=settings.INDEXER_RPC_BATCH_SIZE)
    blocks = dict(zip(numbers, cast(list[BlockData], fetched), strict=True))
    changed = changed_block(logs, blocks)
    if changed is not None:
        raise MonitorConflict(f"block {changed} changed while being read")
    events = escrow_events_decode(logs, escrow=cursor.contract_address)
    with transaction.atomic():
        moved = EscrowCursor.objects.filter(pk=cursor.pk, last_block=start - 1).update(
            last_block=end, last_block_hash=blocks[end]["hash"].to_0x_hex()
        )
        if not moved:
            raise MonitorConflict(f"the cursor of {cursor} moved during the run")
        stored = _events_store(cursor, events, blocks)
    cursor.last_block = end
    return stored


def _events_store(
    cursor: EscrowCursor, events: list[EscrowEvent], blocks: dict[int, BlockData]
) -> int:
    """Stores the events of our deals (ON CONFLICT DO NOTHING) and re-derives those deals."""
    rows = _escrow_rows(cursor)
    refs = ["0x" + e.ref.hex() for e in events if isinstance(e, DealCreated)]
    by_ref = {row.deal_ref: row for row in rows.filter(deal_ref__in=refs)}
    by_deal: dict[str, EscrowTransaction] = {
        str(row.deal_id): row for row in rows.filter(deal_id__in=[str(e.deal_id) for e in events])
    }
    new_rows = []
    for event in events:
        created = isinstance(event, DealCreated) and _our_deal(by_ref, event)
        if created:
            _deal_id_claim(created, event.deal_id)
            by_deal[str(event.deal_id)] = created
        escrow = by_deal.get(str(event.deal_id))
        if escrow is None:
            continue  # a deal someone opened on the contract without us
        timestamp = blocks[event.block_number]["timestamp"]
        new_rows.append(
            EscrowEventRow(
                escrow=escrow,
                event=type(event).__name__,
                tx_hash=event.transaction_hash,
                log_index=event.log_index,
                block_number=event.block_number,
                block_hash=event.block_hash,
                data=event_data(event),
                status_after=escrow.status,  # set by deal_rederive below
                occurred_at=dt.datetime.fromtimestamp(timestamp, tz=dt.UTC),
            )
        )
    touched = {row.escrow_id for row in new_rows}
    stored_before = EscrowEventRow.objects.filter(escrow__in=touched).count()
    EscrowEventRow.objects.bulk_create(new_rows, ignore_conflicts=True)
    for escrow in EscrowTransaction.objects.filter(pk__in=touched).select_for_update():
        deal_rederive(escrow)
    return EscrowEventRow.objects.filter(escrow__in=touched).count() - stored_before


def _our_deal(by_ref: dict[str, EscrowTransaction], event: DealCreated) -> EscrowTransaction | None:
    """The row this deal was opened for: its reference, between its parties, and the first
    such deal (a contract deployed before references were unique lets a creation sent
    again open a second one; that one is not ours)."""
    escrow = by_ref.get("0x" + event.ref.hex())
    if escrow is None or escrow.deal_id not in (None, str(event.deal_id)):
        return None
    parties = (address_key(escrow.buyer_wallet), address_key(escrow.seller_wallet))
    if parties != (address_key(event.buyer), address_key(event.seller)):
        return None
    return escrow


def _deal_id_claim(escrow: EscrowTransaction, deal_id: int) -> None:
    if escrow.deal_id != str(deal_id):
        EscrowTransaction.objects.filter(pk=escrow.pk).update(deal_id=str(deal_id))
        escrow.deal_id = str(deal_id)


def event_data(event: EscrowEvent) -> dict[str, Any]:
    """The event's own arguments as JSON: integers as text (uint256 overflows JSON numbers),
    bytes as 0x hex, enums by name."""
    data: dict[str, Any] = {}
    for field in dataclasses.fields(event):
        if field.name in _LOCATION_FIELDS or field.name == "log_index":
            continue
        data[field.name] = _json_value(getattr(event, field.name))
    return data


def _json_value(value: object) -> Any:
    if isinstance(value, enum.Enum):
        return value.name.lower()
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    raise TypeError(f"unexpected event value {value!r}")


# ---- a deal's status from its events -----------------------------------------------------


def deal_rederive(escrow: EscrowTransaction) -> EscrowTransaction:
    """Sets the deal's status and times from its stored events (in chain order), and each
    event's `status_after`; marks the listing sold on release. Without its DealCreated (a
    reorg dropped it) the deal has no contract deal id any more. Running it again changes
    nothing."""
    events = list(escrow.events.order_by("block_number", "log_index"))
    status: str = EscrowStatus.PENDING
    times: dict[str, dt.datetime | None] = dict.fromkeys(
        ("funded_at", "completed_at", "disputed_at")
    )
    for event in events:
        previous, status = status, _next_status(status, event.event)
        if status != previous:
            field = "funded_at" if status == EscrowStatus.FUNDED else "completed_at"
            times[field] = event.occurred_at
        if event.event == "Disputed" and times["disputed_at"] is None:
            times["disputed_at"] = event.occurred_at
        if event.status_after != status:
            EscrowEventRow.objects.filter(pk=event.pk).update(status_after=status)
    before = escrow.status
    created = any(event.event == "DealCreated" for event in events)
    changes: dict[str, Any] = {
        "status": status,
        "deal_id": escrow.deal_id if created else None,
        **times,
    }
    for field, value in changes.items():
        setattr(escrow, field, value)
    escrow.save(update_fields=list(changes))
    if status == EscrowStatus.RELEASED and before != EscrowStatus.RELEASED:
        _listing_sold(escrow)
    elif before == EscrowStatus.RELEASED and status != EscrowStatus.RELEASED:
        logger.error(
            "escrow %s was released and a reorg undid it: its listing stays sold", escrow.pk
        )
    return escrow


def _next_status(status: str, event: str) -> str:
    if status in (EscrowStatus.RELEASED, EscrowStatus.REFUNDED):
        return status  # the contract's terminal states
    return STATUS_AFTER.get(event, status)


def _listing_sold(escrow: EscrowTransaction) -> None:
    listing = escrow.listing
    if listing.status == ListingStatus.SOLD:
        return
    try:
        transition(listing, ListingStatus.SOLD, note=f"escrow {escrow.pk} released on chain")
    except Conflict as error:
        logger.error("escrow %s released but listing %s: %s", escrow.pk, listing.pk, error)
