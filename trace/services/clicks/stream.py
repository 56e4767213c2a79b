"""Accepting clicks: appended with their real-time counters to a Redis stream in one round
trip, or written straight to the database when there is no Redis, or it is down (or this
process backs off from it: `fabrknt.redis_backoff`)."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from functools import lru_cache
from typing import overload

import redis
from django.conf import settings

from fabrknt.api.rate_limit import REFUSED, Decision, RateLimitedScript, rate_limit_take
from fabrknt.ops.metrics.store import store as metrics
from fabrknt.redis_backoff import REDIS_ERRORS, redis_failed, redis_skipped
from trace.services.clicks.database import clicks_insert
from trace.services.clicks.records import ClickRecord, click_record
from trace.services.clicks.validation import ClickInput

# Real-time counters live a little longer than the day they count.
COUNTER_TTL_SECONDS = 3 * 24 * 3600


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=1)


def stream_client() -> redis.Redis | None:
    """The Redis client of the click stream, or None when clicks go straight to the DB."""
    return _client(settings.REDIS_URL) if settings.REDIS_URL else None


def stream_keys() -> tuple[str, str]:
    """(stream of single clicks, stream of batches): one entry holds one click in the
    first and up to CLICK_BATCH_MAX_ITEMS in the second, so a read of either is bounded."""
    return settings.CLICK_STREAM_KEY, f"{settings.CLICK_STREAM_KEY}:batches"


def counter_keys(*, campaign_id: str, day: str) -> tuple[str, str, str]:
    """Real-time counter keys: raw clicks, unique visitors (HyperLogLog), bot hits."""
    base = f"fabrknt:clicks:{campaign_id}:{day}"
    return f"{base}:n", f"{base}:uv", f"{base}:bots"


def clicks_store(*, clicks: Sequence[ClickInput]) -> None:
    """Accept validated clicks: stream + counters in one round trip, or the DB directly."""
    if not clicks:
        return
    now = time.time()
    today = time.strftime("%Y%m%d", time.gmtime(now))
    records = [click_record(click, now, today) for click in clicks]
    client = stream_client()
    if client is not None and not redis_skipped():
        try:
            _stream_append(client, records)
            metrics.clicks(len(records))
            return
        except REDIS_ERRORS as error:
            # The click must not be lost because Redis is down: the database is slower,
            # but it is the destination anyway. (An append that reached Redis before the
            # error is stored once all the same: the flush skips click ids already stored.)
            redis_failed(error, during="click ingest")
    clicks_insert(records)
    metrics.clicks(len(records))


# One click's stream append and counters, as `_stream_append` does them, run by the rate
# limiter only when the caller had a token left. KEYS: stream, raw or bot counter, unique
# visitors, and optionally a marker whose existence refuses the click before anything is
# taken or done (a revoked API key). ARGV: payload, MAXLEN ("" for none), counter TTL,
# visitor hash ("" for none).
_APPEND_ONE = RateLimitedScript(
    unless=f"""
if KEYS[5] and redis.call('EXISTS', KEYS[5]) == 1 then
  return {REFUSED}
end
""",
    then="""
if ARGV[4] == '' then
  redis.call('XADD', KEYS[2], '*', 'd', ARGV[3])
else
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'd', ARGV[3])
end
redis.call('INCRBY', KEYS[3], 1)
redis.call('EXPIRE', KEYS[3], ARGV[5])
if ARGV[6] ~= '' then
  redis.call('PFADD', KEYS[4], ARGV[6])
  redis.call('EXPIRE', KEYS[4], ARGV[5])
end
""",
)


@overload
def click_store_rate_limited(
    *, click: ClickInput, bucket: str, per_minute: int, refused_if: None = None
) -> Decision: ...
@overload
def click_store_rate_limited(
    *, click: ClickInput, bucket: str, per_minute: int, refused_if: str
) -> Decision | None: ...
def click_store_rate_limited(
    *, click: ClickInput, bucket: str, per_minute: int, refused_if: str | None = None
) -> Decision | None:
    """Take one request from `bucket` and, only if allowed, accept `click`: with Redis the
    decision, the stream append and the counters are one atomic round trip; without it,
    this process's bucket decides and the click goes to the database.

    `refused_if` names a Redis key whose existence refuses the click before anything is
    taken or stored; the result is then None. Such a caller needs Redis to decide: with it
    down, a Redis error propagates."""
    client = stream_client()
    skipped = client is None or redis_skipped()
    if refused_if is not None and skipped:
        raise redis.ConnectionError("refused_if needs Redis")
    if client is None or skipped or per_minute <= 0:
        return _store_rate_limited(click=click, bucket=bucket, per_minute=per_minute)
    now = time.time()
    record = click_record(click, now, time.strftime("%Y%m%d", time.gmtime(now)))
    count_key, unique_key, bot_key = counter_keys(campaign_id=record["k"], day=record["d"])
    maxlen = settings.CLICK_STREAM_MAXLEN
    keys = [stream_keys()[0], bot_key if record["b"] else count_key, unique_key]
    try:
        decision = _APPEND_ONE(
            client,
            key=bucket,
            per_minute=per_minute,
            keys=keys if refused_if is None else [*keys, refused_if],
            args=[
                json.dumps([record], separators=(",", ":")),
                "" if maxlen is None else maxlen,
                COUNTER_TTL_SECONDS,
                "" if record["b"] else record["v"],
            ],
        )
    except REDIS_ERRORS as error:
        if refused_if is not None:
            raise
        redis_failed(error, during="click ingest")
    else:
        if decision is not None and decision.allowed:
            metrics.clicks(1)
        return decision
    return _store_rate_limited(click=click, bucket=bucket, per_minute=per_minute)


def _store_rate_limited(*, click: ClickInput, bucket: str, per_minute: int) -> Decision:
    """The two steps of `click_store_rate_limited` apart, as without Redis."""
    decision = rate_limit_take(bucket, per_minute)
    if decision.allowed:
        clicks_store(clicks=[click])
    return decision


def _stream_append(client: redis.Redis, records: list[ClickRecord]) -> None:
    pipe = client.pipeline(transaction=True)
    maxlen = settings.CLICK_STREAM_MAXLEN
    singles, batches = stream_keys()
    # A batch is one entry (up to CLICK_BATCH_MAX_ITEMS clicks): one XADD, one decode.
    per_entry = 1 if len(records) == 1 else max(1, settings.CLICK_BATCH_MAX_ITEMS)
    stream = singles if per_entry == 1 else batches
    for start in range(0, len(records), per_entry):
        payload = json.dumps(records[start : start + per_entry], separators=(",", ":"))
        pipe.xadd(stream, {"d": payload}, maxlen=maxlen)
    raw: dict[str, int] = {}
    bots: dict[str, int] = {}
    visitors: dict[str, list[str]] = {}
    for record in records:
        count_key, unique_key, bot_key = counter_keys(campaign_id=record["k"], day=record["d"])
        if record["b"]:
            bots[bot_key] = bots.get(bot_key, 0) + 1
            continue
        raw[count_key] = raw.get(count_key, 0) + 1
        if record["v"]:
            visitors.setdefault(unique_key, []).append(record["v"])
    for counts in (raw, bots):
        for key, amount in counts.items():
            pipe.incrby(key, amount)
            pipe.expire(key, COUNTER_TTL_SECONDS)
    for key, hashes in visitors.items():
        pipe.pfadd(key, *hashes)
        pipe.expire(key, COUNTER_TTL_SECONDS)
    pipe.execute()
