"""Backfills: a project's chain history below the live indexer's cursor, read by a Celery
task (`trace.backfill_project`) a bounded range per run.

Starting one (`project_backfill_start`, from the project page and the admin) fixes its
range: from the block the user gives or, by default, the creation block of the contract
(of the project's earliest one when none is named), found by binary search over
historical `eth_getCode` (`contract_creation_block`). An endpoint without historical
state answers those reads with errors: then the user must give the block
(`from_block_required`). It ends at the live cursor of that moment (the confirmed head
when the live indexer has not run yet): the live indexer reads above it.

A run (`backfill_run`) reads up to INDEXER_BACKFILL_BLOCKS_PER_RUN blocks, in ranges of
INDEXER_MAX_BLOCK_RANGE, with the live indexer's own `range_read`, and stores each range
with the same `interactions_insert` (ON CONFLICT DO NOTHING) in one transaction with the
backfill's cursor `next_block`, which moves only if it is still where the run found it:
overlapping runs cannot both advance it, and a crash leaves the range to be read again.
The live cursor (`Project.last_indexed_block`) is never moved, and no block hash is
recorded for the reorg check: every block read is at or below the live cursor.

A backfill reads all the project's contracts, as the live indexer does, whichever
contract set its start: a transaction's native value is carried by its first log among
those contracts, so reading a subset could key that value under another log than the
live indexer did, and count it twice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from eth_typing import ChecksumAddress
from web3 import Web3
from web3.exceptions import Web3Exception

from accounts.models import User
from fabrknt.api.errors import Conflict, InvalidInput, ServiceError
from fabrknt.chain.addresses import address_key
from fabrknt.chain.evm import (
    HistoricalStateUnavailable,
    contract_creation_block,
    evm_client_serving,
    is_evm_chain,
)
from trace.models import Backfill, BackfillStatus, Project
from trace.services.chain_access import chain_failed, evm_client_for_request
from trace.services.indexer import (
    IndexerConflict,
    confirmed_head,
    indexable_contracts,
    range_read,
)
from trace.services.ingest import attribution_schedule, interactions_insert

logger = logging.getLogger(__name__)

ERROR_MAX_LENGTH = 500


class BackfillRefused(InvalidInput):
    """A backfill that cannot start as asked; `code` says why."""

    code = "backfill_refused"
    default_detail = "The backfill cannot start."


class BackfillRunning(Conflict):
    code = "backfill_running"
    default_detail = "A backfill of this project is already running."


def project_backfill_start(
    *,
    project: Project,
    contract: str | None = None,
    from_block: int | None = None,
    started_by: User | None = None,
    among: list[str] | None = None,
) -> Backfill:
    """Start reading the project's history from `from_block` (default: the creation block
    of `contract`, or the earliest of `among`, or of the project's earliest contract) up to
    the live cursor; the first run is queued after the commit."""
    contracts = indexable_contracts(project.contract_addresses)
    if not is_evm_chain(project.chain) or not contracts:
        raise BackfillRefused(
            "Only an EVM project with contract addresses has a history to read.",
            code="not_indexable",
        )
    chosen = [contract] if contract is not None else among or []
    targets = [_project_contract(contracts, c) for c in chosen] or contracts
    if from_block is not None and (isinstance(from_block, bool) or from_block < 0):
        raise BackfillRefused(fields={"from_block": ["A block number, 0 or more."]}, code="invalid")
    if _running(project).exists():
        raise BackfillRunning()
    client = evm_client_for_request(chain=project.chain, purpose="its history cannot be read")
    try:
        to_block = _end_block(project, client)
        start = _creation_block(client, targets) if from_block is None else from_block
    except (Web3Exception, OSError) as error:
        raise chain_failed(error) from None
    if start > to_block:
        raise BackfillRefused(
            f"Nothing to backfill: the indexer reads from block {to_block + 1} on, and "
            f"block {start} is not below it.",
            code="nothing_to_backfill",
        )
    try:
        with transaction.atomic():
            backfill = Backfill.objects.create(
                project=project,
                contracts=list(contracts),
                from_block=start,
                to_block=to_block,
                next_block=start,
                started_by=started_by,
            )
    except IntegrityError:  # another start won the race (one running backfill a project)
        raise BackfillRunning() from None
    _schedule(backfill.id)
    return backfill


def contracts_backfill_schedule(*, project: Project, contracts: list[str]) -> None:
    """After the commit that adds `contracts` to an EVM project, backfill their history
    from their deployment (`contracts_backfill_start`, in a task: it reads the chain)."""
    if not contracts or not is_evm_chain(project.chain):
        return
    from trace.tasks import backfill_new_contracts  # tasks import services, not the reverse

    project_id, added = str(project.id), list(contracts)
    transaction.on_commit(lambda: backfill_new_contracts.delay(project_id, added), robust=True)


def contracts_backfill_start(*, project_id: str, contracts: list[str]) -> Backfill | None:
    """The automatic backfill of contracts just added. When it cannot start — no RPC for
    the chain, no historical state to find the deployment block, one already running — it
    is logged, and the project page offers the form, where a member gives the block."""
    project = Project.objects.get(id=project_id)
    try:
        return project_backfill_start(project=project, among=contracts)
    except ServiceError as error:
        logger.info("no automatic backfill for project %s: %s", project_id, error.detail)
        return None


@dataclasses.dataclass
class BackfillRun:
    backfill: Backfill
    stored: int = 0


def backfill_run(*, backfill_id: int) -> BackfillRun:
    """Read the next INDEXER_BACKFILL_BLOCKS_PER_RUN blocks of a running backfill; done
    when its last block is read. Chain failures raise (the task retries, then fails it)."""
    backfill = Backfill.objects.select_related("project").get(id=backfill_id)
    run = BackfillRun(backfill)
    if backfill.status != BackfillStatus.RUNNING:
        return run
    client = evm_client_serving(backfill.project.chain)
    contracts = indexable_contracts(backfill.contracts)
    last = min(backfill.to_block, backfill.next_block + _blocks_per_run() - 1)
    step = max(1, settings.INDEXER_MAX_BLOCK_RANGE)
    start = backfill.next_block
    while start <= last:
        end = min(start + step - 1, last)
        run.stored += _range_store(backfill, client, contracts, start, end)
        start = end + 1
    backfill.refresh_from_db()
    return run


def backfill_fail(*, backfill_id: int, error: str) -> bool:
    """Mark a running backfill failed with its reason; False if it was not running."""
    return bool(
        Backfill.objects.filter(id=backfill_id, status=BackfillStatus.RUNNING).update(
            status=BackfillStatus.FAILED,
            error=error[:ERROR_MAX_LENGTH],
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
    )


def backfills_stalled(*, idle: dt.timedelta) -> list[int]:
    """Running backfills no run has advanced for `idle`: their next run was lost (a
    worker died, the broker was down) and must be queued again."""
    cutoff = timezone.now() - idle
    return list(
        Backfill.objects.filter(status=BackfillStatus.RUNNING, updated_at__lt=cutoff)
        .order_by("updated_at")
        .values_list("id", flat=True)
    )


def _range_store(
    backfill: Backfill, client: Web3, contracts: list[ChecksumAddress], start: int, end: int
) -> int:
    read = range_read(
        project=backfill.project, client=client, contracts=contracts, start=start, end=end
    )
    done = end >= backfill.to_block
    now = timezone.now()
    with transaction.atomic():
        new_ids = interactions_insert(rows=read.rows)
        advanced = Backfill.objects.filter(
            id=backfill.id, status=BackfillStatus.RUNNING, next_block=start
        ).update(
            next_block=end + 1,
            stored=F("stored") + len(new_ids),
            status=BackfillStatus.DONE if done else BackfillStatus.RUNNING,
            finished_at=now if done else None,
            updated_at=now,
        )
        if not advanced:  # rolls the rows back with it
            raise IndexerConflict(f"backfill {backfill.id} moved during the run")
        attribution_schedule(interaction_ids=new_ids)
    return len(new_ids)


def _project_contract(contracts: list[ChecksumAddress], contract: str) -> ChecksumAddress:
    key = address_key(contract) if isinstance(contract, str) else None
    for candidate in contracts:
        if address_key(candidate) == key:
            return candidate
    raise BackfillRefused("Not one of the project's contract addresses.", code="unknown_contract")


def _running(project: Project) -> QuerySet[Backfill]:
    return Backfill.objects.filter(project=project, status=BackfillStatus.RUNNING)


def _end_block(project: Project, client: Web3) -> int:
    cursor = Project.objects.values_list("last_indexed_block", flat=True).get(id=project.id)
    return cursor if cursor is not None else confirmed_head(client)


def _creation_block(client: Web3, contracts: list[ChecksumAddress]) -> int:
    """The earliest creation block of `contracts` (those with code at the head)."""
    try:
        found = [contract_creation_block(client, address) for address in contracts]
    except HistoricalStateUnavailable as error:
        raise BackfillRefused(
            "This chain's RPC endpoint does not serve historical state, so the contract's "
            f"deployment block cannot be found ({error}). Give the block to start from.",
            code="from_block_required",
        ) from None
    blocks = [block for block in found if block is not None]
    if not blocks:
        raise BackfillRefused(
            "The address has no contract code at the head, so its deployment block cannot "
            "be found. Give the block to start from.",
            code="no_contract_code",
        )
    return min(blocks)


def _blocks_per_run() -> int:
    per_run: int = settings.INDEXER_BACKFILL_BLOCKS_PER_RUN
    return max(1, per_run)


def _schedule(backfill_id: int) -> None:
    # `robust`: the backfill is stored whatever happens to the queue; the beat's sweep of
    # stalled backfills queues a run that was lost.
    from trace.tasks import backfill_project  # tasks import services, not the reverse

    transaction.on_commit(lambda: backfill_project.delay(backfill_id), robust=True)


__all__ = [
    "BackfillRefused",
    "BackfillRun",
    "BackfillRunning",
    "backfill_fail",
    "backfill_run",
    "backfills_stalled",
    "project_backfill_start",
]
