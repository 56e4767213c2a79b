"""The drain: the click streams into the database through a consumer group.

Entries are acknowledged only after the rows are committed, so a worker dying mid-batch
loses nothing (its pending entries are re-claimed with XAUTOCLAIM), and a replay stores
nothing twice (the insert skips click ids already stored).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import uuid
from dataclasses import dataclass, field
from typing import Any, cast

import redis
from django.conf import settings
from django.db import DatabaseError, connection

from trace.live import campaign_clicks_publish
from trace.models import Campaign
from trace.services.clicks.database import clicks_insert
from trace.services.clicks.records import ClickRecord
from trace.services.clicks.stream import stream_client, stream_keys

logger = logging.getLogger(__name__)

STREAM_GROUP = "click-flush"
# (entry id, fields) as redis-py reads a stream entry.
StreamEntry = tuple[bytes, dict[bytes, bytes]]


@dataclass
class FlushResult:
    read: int = 0
    inserted: int = 0
    duplicates: int = 0
    dropped: int = 0  # unreadable entries, or clicks of a campaign deleted meanwhile
    reclaimed: int = 0  # entries taken over from a consumer that stopped
    batches: int = 0
    # Campaigns that got clicks: their live counters are pushed once at the end of the run.
    campaign_ids: set[str] = field(default_factory=set)


def _ensure_group(client: redis.Redis, stream: str) -> None:
    try:
        client.xgroup_create(stream, STREAM_GROUP, id="0", mkstream=True)
    except redis.ResponseError as error:
        if "BUSYGROUP" not in str(error):
            raise


def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def clicks_flush(
    *,
    batch_size: int | None = None,
    consumer: str | None = None,
    claim_idle_seconds: float | None = None,
    max_batches: int | None = None,
) -> FlushResult:
    """Drain the click streams into the database until empty (or `max_batches` batches of
    about `batch_size` clicks)."""
    result = FlushResult()
    client = stream_client()
    if client is None:
        return result
    batch_size = batch_size or settings.CLICK_FLUSH_BATCH_SIZE
    consumer = consumer or consumer_name()
    if claim_idle_seconds is None:
        claim_idle_seconds = settings.CLICK_STREAM_CLAIM_IDLE_SECONDS
    singles, batches = stream_keys()
    for stream, clicks_per_entry in ((singles, 1), (batches, settings.CLICK_BATCH_MAX_ITEMS)):
        _ensure_group(client, stream)
        try:
            _drain(
                client,
                stream,
                consumer=consumer,
                count=max(1, batch_size // max(1, clicks_per_entry)),
                claim_idle_ms=int(claim_idle_seconds * 1000),
                max_batches=max_batches,
                result=result,
            )
        except redis.ResponseError as error:
            if "NOGROUP" not in str(error):
                raise
            # The stream vanished under the drain (FLUSHDB, eviction, an empty failover):
            # there is nothing left to read; the next append finds the group again.
            logger.error("click stream %s disappeared while flushing; recreating it", stream)
            _ensure_group(client, stream)
    # Once per run (every few seconds), off the ingest path: live pages see the new
    # counters when the rows they count are committed.
    if result.campaign_ids:
        campaign_clicks_publish(campaign_ids=result.campaign_ids)
    return result


def _drain(
    client: redis.Redis,
    stream: str,
    *,
    consumer: str,
    count: int,
    claim_idle_ms: int,
    max_batches: int | None,
    result: FlushResult,
) -> None:
    def more() -> bool:
        return max_batches is None or result.batches < max_batches

    # First what a stopped consumer left read but unacknowledged, then new entries.
    start = "0-0"
    while more():
        start, entries, *_ = client.xautoclaim(
            stream, STREAM_GROUP, consumer, claim_idle_ms, start, count
        )
        if entries:
            result.reclaimed += _flush_entries(client, stream, entries, result)
        if start in (b"0-0", "0-0"):
            break
    while more():
        # RESP2, as our connections speak: [[stream, entries]], or nothing.
        response = cast(
            "list[list[Any]]",
            client.xreadgroup(STREAM_GROUP, consumer, {stream: ">"}, count=count),
        )
        entries = response[0][1] if response else []
        if not entries:
            break
        _flush_entries(client, stream, entries, result)


def _flush_entries(
    client: redis.Redis, stream: str, entries: list[StreamEntry], result: FlushResult
) -> int:
    """Store the clicks of these entries, then acknowledge them; returns clicks read."""
    entry_ids = [entry_id for entry_id, _fields in entries]
    decoded_records: list[ClickRecord] = []
    unreadable = 0
    for _entry_id, fields in entries:
        decoded = _decode(fields)
        if decoded is None:
            unreadable += 1
            continue
        decoded_records += decoded
    read = unreadable + len(decoded_records)
    result.read += read
    result.batches += 1
    result.dropped += unreadable
    organizations = {
        str(pk): organization_id
        for pk, organization_id in Campaign.objects.filter(
            pk__in={record["k"] for record in decoded_records}
        ).values_list("pk", "organization_id")
    }
    # A click id is unique per organization: the first of a repeat in the batch stands.
    records: dict[tuple[uuid.UUID, str], ClickRecord] = {}
    unknown = 0
    for record in decoded_records:
        organization_id = organizations.get(record["k"])
        if organization_id is None:
            unknown += 1
        else:
            records.setdefault((organization_id, record["c"]), record)
    result.dropped += unknown
    result.duplicates += len(decoded_records) - unknown - len(records)
    batch = list(records.values())
    inserted = _insert_or_isolate(batch, result)
    result.inserted += inserted
    result.duplicates += len(batch) - inserted
    if inserted:
        result.campaign_ids.update(record["k"] for record in batch)
    # Only now, with the rows committed, may the entries leave the stream.
    pipe = client.pipeline(transaction=True)
    pipe.xack(stream, STREAM_GROUP, *entry_ids)
    pipe.xdel(stream, *entry_ids)
    pipe.execute()
    return read


def _insert_or_isolate(batch: list[ClickRecord], result: FlushResult) -> int:
    """One INSERT for the batch; if the database refuses it, row by row, so one bad
    record cannot block the stream forever. Connection failures still propagate (and
    leave the entries pending for a retry)."""
    try:
        return clicks_insert(batch)
    except DatabaseError as error:
        if not connection.is_usable():
            raise
        logger.warning("click batch refused (%s); inserting row by row", error)
    inserted = 0
    for record in batch:
        try:
            inserted += clicks_insert([record])
        except DatabaseError:
            logger.exception("dropping unstorable click %s", record.get("c"))
            result.dropped += 1
    return inserted


_RECORD_KEYS = frozenset("cktivurmb")


def _decode(fields: dict[bytes, bytes]) -> list[ClickRecord] | None:
    """The records of one stream entry, or None when it cannot be read."""
    try:
        records: list[ClickRecord] = json.loads(fields[b"d"])  # checked below
        if isinstance(records, dict):
            records = [records]
        for record in records:
            if not isinstance(record, dict) or not _RECORD_KEYS <= record.keys():
                raise ValueError("incomplete record")
            uuid.UUID(record["k"])
            float(record["t"])
    except (KeyError, TypeError, ValueError, AttributeError):
        logger.error("unreadable click stream entry: %r", fields)
        return None
    return records
