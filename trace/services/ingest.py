"""On-chain activity into `ContractInteraction`: Alchemy deliveries, the rows the EVM
indexer derives, and what every source shares (Helius deliveries: `ingest_helius`).

A transfer is stored once for every project that watches one of its addresses, so a tenant
that registers someone else's contract first sees the activity too but cannot take it away
from the contract's real owner. Every (project, transfer) lands once: one multi-row
INSERT ... ON CONFLICT (project_id, chain, transaction_hash, transfer_position) DO NOTHING
RETURNING id, so a redelivered webhook stores nothing and only the ids of rows that are
really new go on to attribution.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import logging
from collections.abc import Iterable, Sequence
from decimal import ROUND_DOWN, Decimal
from typing import Any, TypeVar, cast

from django.db import connection, transaction
from django.db.models import Field, JSONField, Value
from django.utils import timezone

from fabrknt.chain.addresses import address_key
from fabrknt.chain.alchemy import AlchemyActivity, AlchemyEvent
from fabrknt.chain.evm import ZERO_ADDRESS
from trace.models import (
    NATIVE_ASSET,
    ContractInteraction,
    Conversion,
    ConversionSource,
    InteractionSource,
    OccurredAtSource,
    Project,
    RejectedActivity,
)
from trace.services.block_times import block_times_read
from trace.services.pricing import PriceBook, amount_from_base_units

T = TypeVar("T")

logger = logging.getLogger(__name__)

ZERO_KEY = address_key(ZERO_ADDRESS)
# Alchemy's transfer categories by what moved: the chain's coin, or an ERC-20 token (the
# log's emitter, `rawContract.address`). ERC-721/1155 and anything new are not fungible.
ALCHEMY_NATIVE_CATEGORIES = frozenset({"external", "internal"})
ALCHEMY_TOKEN_CATEGORIES = frozenset({"token", "erc20"})
INSERT_BATCH = 500
# ContractInteraction.amount is DECIMAL(40, 18).
AMOUNT_PLACES = Decimal("1e-18")
MAX_AMOUNT = Decimal(10) ** 22

_COLUMNS = (
    "project",
    "chain",
    "transaction_hash",
    "log_index",
    "transfer_position",
    "block_number",
    "block_hash",
    "wallet_address",
    "from_address",
    "to_address",
    "contract_address",
    "event_type",
    "asset",
    "asset_address",
    "amount",
    "value_usd",
    "unpriced_reason",
    "occurred_at",
    "occurred_at_source",
    "source",
    "created_at",
)


@dataclasses.dataclass(frozen=True)
class InteractionRow:
    """One interaction to store; the fields of `ContractInteraction`."""

    project_id: object
    chain: str
    transaction_hash: str
    log_index: int
    transfer_position: str  # see `log_position` and `trace_position`
    wallet_address: str
    occurred_at: dt.datetime
    source: str
    block_number: int | None = None
    block_hash: str = ""
    from_address: str = ""
    to_address: str = ""
    contract_address: str = ""
    event_type: str = ""
    asset: str = ""  # a display label
    asset_address: str = ""  # what is priced: canonical address, `native`, or "" (NFT)
    amount: Decimal = Decimal(0)
    value_usd: Decimal = Decimal("0.00")
    unpriced_reason: str = ""
    occurred_at_source: str = OccurredAtSource.BLOCK

    @property
    def key(self) -> tuple[object, str, str, str]:
        return (self.project_id, self.chain, self.transaction_hash, self.transfer_position)


def log_position(log_index: int, item: int | None = None) -> str:
    """A log transfer's position; `item` for one transfer of an ERC-1155 batch."""
    return f"log:{log_index}" if item is None else f"log:{log_index}:{item}"


def trace_position(category: str, trace_address: str = "") -> str:
    """A log-less transfer's position: its category and call-trace address (`external`
    for the transaction's own value, `internal:call_0_1` for an internal call)."""
    return f"{category}:{trace_address}" if trace_address else category


@dataclasses.dataclass(frozen=True)
class IngestResult:
    received: int
    stored: int
    interaction_ids: list[int]


def interactions_insert(*, rows: Iterable[InteractionRow]) -> list[int]:
    """Store rows not seen before; the ids of the new ones. Call inside a transaction."""
    unique = list({row.key: row for row in rows}.values())
    if not unique:
        return []
    meta = ContractInteraction._meta
    # All concrete fields: none is the reverse side of a relation, each has a column.
    fields = [cast("Field[Any, Any]", meta.get_field(name)) for name in _COLUMNS]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(cast(str, field.column)) for field in fields)
    now = timezone.now()
    new_ids: list[int] = []
    with connection.cursor() as cursor:
        for chunk in _chunks(unique, INSERT_BATCH):
            row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
            params = [
                field.get_db_prep_save(_column_value(row, field.attname, now), connection)
                for row in chunk
                for field in fields
            ]
            # Both PostgreSQL and SQLite (3.35+) return only the rows actually inserted.
            cursor.execute(
                f"INSERT INTO {quote(meta.db_table)} ({columns}) "  # noqa: S608  (names are ours)
                f"VALUES {', '.join([row_sql] * len(chunk))} "
                "ON CONFLICT (project_id, chain, transaction_hash, transfer_position) "
                "DO NOTHING RETURNING id",
                params,
            )
            new_ids.extend(row_id for (row_id,) in cursor.fetchall())
    return sorted(new_ids)


def _column_value(row: InteractionRow, attname: str, now: dt.datetime) -> object:
    if attname == "created_at":
        return now
    if attname == "amount":
        return amount_storable(row.amount)
    return getattr(row, attname)


def amount_storable(amount: Decimal) -> Decimal:
    """The amount as the column holds it; a spam token's absurd amount is recorded as 0."""
    with decimal.localcontext(prec=80):
        if not amount.is_finite() or abs(amount) >= MAX_AMOUNT:
            logger.warning("amount %s is out of range; stored as 0", amount)
            return Decimal(0)
        return amount.quantize(AMOUNT_PLACES, rounding=ROUND_DOWN)


def interactions_store(*, rows: list[InteractionRow], received: int) -> IngestResult:
    """Insert in one transaction, then hand the new rows to attribution once committed."""
    with transaction.atomic():
        new_ids = interactions_insert(rows=rows)
        attribution_schedule(interaction_ids=new_ids)
    return IngestResult(received=received, stored=len(new_ids), interaction_ids=new_ids)


@dataclasses.dataclass(frozen=True)
class RejectedItem:
    """An item of a delivery that cannot be stored, and why."""

    index: int
    reason: str
    item: object


REJECTED_REASON_MAX = 500


def rejected_activities_record(
    *, source: str, delivery_id: str, chain: str, rejected: Sequence[RejectedItem]
) -> None:
    """Keep the items of a delivery that could not be stored, for the operators; a
    redelivery records nothing twice."""
    now = timezone.now()
    records = [
        RejectedActivity(
            source=source,
            delivery_id=delivery_id[:128],
            item_index=item.index,
            chain=chain,
            reason=item.reason[:REJECTED_REASON_MAX],
            # A JSON null as received, not an SQL NULL.
            item=Value(None, JSONField()) if item.item is None else item.item,
            received_at=now,
        )
        for item in rejected
    ]
    for record in records:
        logger.warning(
            "rejected %s item %s[%s]: %s", source, delivery_id, record.item_index, record.reason
        )
    RejectedActivity.objects.bulk_create(records, ignore_conflicts=True)


def attribution_schedule(*, interaction_ids: list[int]) -> None:
    """Queue attribution of new interactions after the commit that stores them.

    `robust`: the interactions are stored whatever happens to the queue; a broker outage
    must not turn an accepted webhook into an error the provider keeps retrying.
    """
    if not interaction_ids:
        return
    from trace.tasks import attribute_interactions  # tasks import services, not the reverse

    ids = list(interaction_ids)
    transaction.on_commit(lambda: attribute_interactions.delay(ids), robust=True)


def conversions_forget(*, transaction_hashes: Iterable[str]) -> int:
    """Delete conversions derived from transactions that are no longer on the chain."""
    removed = 0
    for chunk in _chunks(sorted(set(transaction_hashes)), INSERT_BATCH):
        removed += Conversion.objects.filter(
            source=ConversionSource.CHAIN, transaction_hash__in=chunk
        ).delete()[0]
    return removed


def _chunks(items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class AddressBook:
    """A chain's projects by the addresses they watch (compared by `address_key`).

    Several projects may watch one address (tenants are not asked to prove control before
    they watch a contract): each of them gets its own row of a transfer.
    """

    def __init__(self, chain: str):
        self.projects: list[Project] = []
        self.contracts: dict[object, set[str]] = {}
        self.addresses: dict[object, set[str]] = {}
        self._watchers: dict[str, list[Project]] = {}
        projects = Project.objects.filter(chain=chain).order_by("created_at", "id")
        for project in projects.only("id", "chain", "contract_addresses", "treasury_addresses"):
            contracts = {address_key(a) for a in _address_list(project.contract_addresses)}
            watched = contracts | {
                address_key(a) for a in _address_list(project.treasury_addresses)
            }
            self.projects.append(project)
            self.contracts[project.id] = contracts
            self.addresses[project.id] = watched
            for key in watched:
                self._watchers.setdefault(key, []).append(project)

    def __bool__(self) -> bool:
        return bool(self._watchers)

    def watching(self, keys: Iterable[str]) -> list[Project]:
        """The projects watching any of these address keys, oldest first, each once."""
        found = {project.id: project for key in keys for project in self._watchers.get(key, ())}
        return [project for project in self.projects if project.id in found]


def _address_list(value: object) -> list[str]:
    return [a for a in value if isinstance(a, str) and a] if isinstance(value, list) else []


def alchemy_event_ingest(*, event: AlchemyEvent) -> IngestResult:
    """Store the transfers of an Address Activity delivery that touch a project, on the
    day of their block; its activities that could not be parsed are recorded as rejected."""
    if event.unparsed:
        rejected_activities_record(
            source=InteractionSource.ALCHEMY,
            delivery_id=event.event_id,
            chain=event.chain or "",
            rejected=[RejectedItem(u.index, u.reason, u.item) for u in event.unparsed],
        )
    if event.chain is None:
        return IngestResult(received=event.received, stored=0, interaction_ids=[])
    book = AddressBook(event.chain)
    removed = [activity for activity in event.activities if activity.removed]
    watched = [
        (activity, projects)
        for activity in event.activities
        if not activity.removed and (projects := book.watching(_alchemy_keys(activity)))
    ]
    times = _alchemy_block_times(event, [activity for activity, _ in watched])
    prices = PriceBook()
    rows = [
        row
        for activity, projects in watched
        for row in _alchemy_rows(event.chain, activity, projects, book, prices, times)
    ]
    if removed:
        _alchemy_removed_forget(event.chain, removed)
    return interactions_store(rows=rows, received=event.received)


def _alchemy_keys(activity: AlchemyActivity) -> list[str]:
    """What a project may watch of a transfer: its sender, its recipient, and the token
    contract that moved (a project watching its token sees every transfer of it)."""
    addresses = [activity.from_address, activity.to_address, activity.token_address]
    return [address_key(address) for address in addresses if address]


@dataclasses.dataclass(frozen=True)
class _BlockTime:
    at: dt.datetime
    source: str  # OccurredAtSource


def _alchemy_block_times(
    event: AlchemyEvent, activities: list[AlchemyActivity]
) -> dict[int, _BlockTime]:
    """When each block of these transfers was made: from the payload, else from the chain
    (cached), else, flagged, the delivery's time."""
    times = {
        activity.block_number: _BlockTime(activity.block_time, OccurredAtSource.BLOCK)
        for activity in activities
        if activity.block_time is not None
    }
    missing = sorted({activity.block_number for activity in activities} - times.keys())
    read = block_times_read(chain=cast(str, event.chain), numbers=missing)
    for number in missing:
        if number in read:
            times[number] = _BlockTime(read[number], OccurredAtSource.RPC)
        else:
            times[number] = _BlockTime(event.created_at, OccurredAtSource.DELIVERY)
    return times


def _alchemy_rows(
    chain: str,
    activity: AlchemyActivity,
    projects: list[Project],
    book: AddressBook,
    prices: PriceBook,
    times: dict[int, _BlockTime],
) -> list[InteractionRow]:
    """One row per project watching the transfer's sender, recipient or token."""
    asset_address = _alchemy_asset_address(activity)
    amount = _alchemy_amount(activity, prices.decimals(chain=chain, address=asset_address))
    when = times[activity.block_number]
    valuation = prices.valuation(
        chain=chain, address=asset_address, amount=amount, day=when.at.date()
    )
    rows = []
    for project in projects:
        sides = _alchemy_sides(activity, book.addresses[project.id])
        if sides is None:
            continue
        contract, wallet = sides
        rows.append(
            InteractionRow(
                project_id=project.id,
                chain=chain,
                transaction_hash=activity.transaction_hash,
                log_index=activity.log_index,
                transfer_position=_alchemy_position(activity),
                block_number=activity.block_number,
                block_hash=activity.block_hash,
                wallet_address=wallet,
                from_address=activity.from_address,
                to_address=activity.to_address or "",
                contract_address=contract,
                event_type=activity.category,
                asset=activity.asset,
                asset_address=asset_address,
                amount=amount,
                value_usd=valuation.value_usd,
                unpriced_reason=valuation.unpriced_reason,
                occurred_at=when.at,
                occurred_at_source=when.source,
                source=InteractionSource.ALCHEMY,
            )
        )
    return rows


def _alchemy_sides(activity: AlchemyActivity, watched: set[str]) -> tuple[str, str] | None:
    """(the project's contract, the user's wallet) of a transfer, None when no user is in
    it (the project moving value between its own addresses).

    The contract is the project's side: the recipient, else the sender, else the token
    that moved. The user is the sender unless that is the project or the zero address (a
    mint), then the recipient: whoever acted, for a transfer between two users of the
    project's token. A project's own addresses are never the user."""
    sender, recipient = activity.from_address, activity.to_address or ""
    if address_key(recipient) in watched:
        contract = recipient
    elif address_key(sender) in watched:
        contract = sender
    else:
        contract = activity.token_address or ""
    users = [
        address
        for address in (sender, recipient)
        if address and address_key(address) not in watched and address_key(address) != ZERO_KEY
    ]
    return (contract, users[0]) if users else None


def _alchemy_position(activity: AlchemyActivity) -> str:
    if activity.log_index >= 0:
        return log_position(activity.log_index, activity.batch_item)
    return trace_position(activity.category, activity.trace_address)


def _alchemy_asset_address(activity: AlchemyActivity) -> str:
    if activity.category in ALCHEMY_NATIVE_CATEGORIES:
        return NATIVE_ASSET
    # `token` is Alchemy's category for ERC-721 transfers too: those carry a token id.
    if (
        activity.category in ALCHEMY_TOKEN_CATEGORIES
        and activity.token_address
        and activity.token_id is None
    ):
        return activity.token_address  # EIP-55, as the wire model normalised it
    return ""


def _alchemy_amount(activity: AlchemyActivity, registry_decimals: int | None) -> Decimal:
    """The registry's decimals win over the payload's: a token cannot scale its own value."""
    if registry_decimals is not None and activity.raw_amount is not None:
        return amount_from_base_units(activity.raw_amount, registry_decimals)
    return activity.amount


def _alchemy_removed_forget(chain: str, removed: list[AlchemyActivity]) -> None:
    """Alchemy re-sends a log with `removed: true` when a reorg drops it: forget it."""
    with transaction.atomic():
        for activity in removed:
            deleted, _ = ContractInteraction.objects.filter(
                chain=chain,
                transaction_hash=activity.transaction_hash,
                transfer_position=_alchemy_position(activity),
                source=InteractionSource.ALCHEMY,
            ).delete()
            if deleted:
                conversions_forget(transaction_hashes=[activity.transaction_hash])
