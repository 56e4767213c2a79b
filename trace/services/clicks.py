"""Clicks: the fast path and the drain.

A click is validated by a compact hand-written checker (the request path is hot: a DRF
serializer costs more than everything else together), then appended to a Redis stream
with its real-time counters in one MULTI pipeline. `clicks_flush` drains the stream
through a consumer group into the database with one multi-row
`INSERT ... ON CONFLICT (click_id) DO NOTHING` per batch, commits, and only then
acknowledges the entries, so a worker dying mid-batch loses nothing (its pending entries
are re-claimed with XAUTOCLAIM) and a replay stores nothing twice. Without Redis, or
when Redis fails, clicks go straight to the database.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import os
import re
import socket
import time
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

import redis
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from fabrknt.api.rate_limit import REFUSED, Decision, RateLimitedScript, rate_limit_take
from trace.models import Campaign, Click

logger = logging.getLogger(__name__)

STREAM_GROUP = "click-flush"
_CLICK_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_REFERRER = 2048
MAX_USER_AGENT = 512
MAX_UTM_KEYS = 20
MAX_UTM_KEY = 64
MAX_UTM_VALUE = 512
# Real-time counters live a little longer than the day they count.
COUNTER_TTL_SECONDS = 3 * 24 * 3600
# campaign id -> (organization id, landing URL); a campaign never changes organization,
# and a landing URL edited in the admin is picked up within this many seconds.
CAMPAIGN_CACHE_SECONDS = 30.0
_CAMPAIGN_CACHE_MAX = 50_000

# Link previews, crawlers and scripted clients: recorded as bot traffic, not clicks.
BOT_USER_AGENTS = (
    # Telegram's agent says "TelegramBot (like TwitterBot)": the more specific name first.
    ("telegrambot", "telegrambot"),
    ("slackbot", "slackbot"),
    ("twitterbot", "twitterbot"),
    ("facebookexternalhit", "facebookexternalhit"),
    ("facebookcatalog", "facebookexternalhit"),
    ("discordbot", "discordbot"),
    ("linkedinbot", "linkedinbot"),
    ("whatsapp", "whatsapp"),
    ("skypeuripreview", "skypeuripreview"),
    ("redditbot", "redditbot"),
    ("embedly", "embedly"),
    ("googlebot", "googlebot"),
    ("bingbot", "bingbot"),
    ("applebot", "applebot"),
    ("yandex", "yandexbot"),
    ("baiduspider", "baiduspider"),
    ("headlesschrome", "headless_browser"),
    ("phantomjs", "headless_browser"),
    ("curl/", "script:curl"),
    ("wget/", "script:wget"),
    ("python-requests", "script:python"),
    ("python-urllib", "script:python"),
    ("python-httpx", "script:python"),
    ("aiohttp", "script:python"),
    ("go-http-client", "script:go"),
    ("okhttp", "script:okhttp"),
    ("java/", "script:java"),
    ("libwww-perl", "script:perl"),
    ("node-fetch", "script:node"),
    ("axios/", "script:node"),
    ("httpie", "script:httpie"),
    ("postmanruntime", "script:postman"),
    ("bot", "bot"),
    ("spider", "bot"),
    ("crawler", "bot"),
)


class ClickRejected(Exception):
    """A click that fails validation; `errors` has DRF's field-error shape."""

    def __init__(self, errors: dict[str, list[str]], *, unknown_campaign: bool = False):
        super().__init__(errors)
        self.errors = errors
        self.unknown_campaign = unknown_campaign


@dataclass(slots=True)
class ClickInput:
    campaign_id: str
    click_id: str
    referrer: str = ""
    utm_params: dict[str, str] = field(default_factory=dict)
    user_agent: str = ""
    ip_address: str = ""  # as the visitor came, before truncation
    bot_reason: str = ""
    occurred_at: float = 0.0  # epoch seconds; 0 means "now"


@dataclass
class FlushResult:
    read: int = 0
    inserted: int = 0
    duplicates: int = 0
    dropped: int = 0  # unreadable entries, or clicks of a campaign deleted meanwhile
    reclaimed: int = 0  # entries taken over from a consumer that stopped
    batches: int = 0


# --- validation ---------------------------------------------------------------------------


def _text(value: object, limit: int) -> str | None:
    """`value` if it is a string PostgreSQL can store within `limit` characters, else None."""
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        return None
    if not value.isascii():
        try:
            value.encode("utf-8")  # lone surrogates from JSON "\ud800" cannot be stored
        except UnicodeEncodeError:
            return None
    return value


def _utm(value: object) -> dict[str, str] | None:
    if not isinstance(value, dict) or len(value) > MAX_UTM_KEYS:
        return None
    for key, item in value.items():
        if _text(key, MAX_UTM_KEY) is None or not key or _text(item, MAX_UTM_VALUE) is None:
            return None
    return value


def ip_parse(value: str) -> str | None:
    """The canonical spelling of an IP address (IPv4-mapped IPv6 as IPv4), or None."""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if address.version == 6:
        if address.scope_id:
            return None
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
    return str(address)


def ip_for_storage(ip: str) -> str:
    """The visitor's network (/24 or /48), or the full address when STORE_FULL_IP is on."""
    if not ip or settings.STORE_FULL_IP:
        return ip
    if ":" not in ip:  # canonical dotted IPv4 (see ip_parse): cut the last octet
        return ip[: ip.rindex(".")] + ".0"
    return str(ipaddress.ip_network(f"{ip}/48", strict=False).network_address)


def click_parse(*, data: object, organization_ids: Collection[str]) -> ClickInput:
    """Validate one click of the API form against the caller's organizations."""
    if not isinstance(data, dict):
        raise ClickRejected({"non_field_errors": ["Expected a JSON object."]})
    errors: dict[str, list[str]] = {}
    campaign_id = data.get("campaign_id")
    if campaign_id is None:
        errors["campaign_id"] = ["This field is required."]
    else:
        try:
            campaign_id = str(uuid.UUID(campaign_id)) if isinstance(campaign_id, str) else None
        except ValueError:
            campaign_id = None
        if campaign_id is None:
            errors["campaign_id"] = ["Must be a valid UUID."]
    click_id = data.get("click_id")
    if click_id is None:
        click_id = uuid.uuid4().hex
    elif not isinstance(click_id, str) or not _CLICK_ID.fullmatch(click_id):
        errors["click_id"] = ["At most 64 characters of A-Z, a-z, 0-9, _ and -."]
    referrer = data.get("referrer") or ""
    if referrer and _text(referrer, MAX_REFERRER) is None:
        errors["referrer"] = [f"A string of at most {MAX_REFERRER} characters."]
    user_agent = data.get("user_agent") or ""
    if user_agent and _text(user_agent, MAX_USER_AGENT) is None:
        errors["user_agent"] = [f"A string of at most {MAX_USER_AGENT} characters."]
    utm_params = data.get("utm_params") or {}
    if utm_params and _utm(utm_params) is None:
        errors["utm_params"] = [
            f"An object of at most {MAX_UTM_KEYS} string keys (<= {MAX_UTM_KEY} characters) "
            f"to string values (<= {MAX_UTM_VALUE} characters)."
        ]
    ip_address = data.get("ip_address") or ""
    if ip_address:
        ip_address = ip_parse(ip_address) if isinstance(ip_address, str) else None
        if ip_address is None:
            errors["ip_address"] = ["Enter a valid IPv4 or IPv6 address."]
    if errors:
        raise ClickRejected(errors)
    owner = campaign_lookup(campaign_id=campaign_id)
    if owner is None or owner[0] not in organization_ids:
        raise ClickRejected({"campaign_id": ["No such campaign."]}, unknown_campaign=True)
    return ClickInput(
        campaign_id=campaign_id,
        click_id=click_id,
        referrer=referrer,
        utm_params=utm_params,
        user_agent=user_agent,
        ip_address=ip_address,
        bot_reason=bot_reason_for(user_agent=user_agent) if user_agent else "",
    )


_campaign_cache: dict[str, tuple[float, tuple[str, str] | None]] = {}


def campaign_lookup(*, campaign_id: str) -> tuple[str, str] | None:
    """(organization id, landing URL) of a campaign, cached in the process; None if unknown."""
    now = time.monotonic()
    hit = _campaign_cache.get(campaign_id)
    if hit is not None and hit[0] > now:
        return hit[1]
    row = (
        Campaign.objects.filter(pk=campaign_id)
        .values_list("organization_id", "landing_url")
        .first()
    )
    value = (str(row[0]), row[1]) if row else None
    if len(_campaign_cache) >= _CAMPAIGN_CACHE_MAX:
        _campaign_cache.clear()
    _campaign_cache[campaign_id] = (now + CAMPAIGN_CACHE_SECONDS, value)
    return value


def click_campaign_cached(*, data: object) -> bool:
    """Whether validating this click needs no database query: its campaign (known or
    not) is in this process's cache. Lets the view put the rate limit before any query."""
    if not isinstance(data, dict):
        return True
    campaign_id = data.get("campaign_id")
    if not isinstance(campaign_id, str):
        return True  # refused without a lookup
    try:
        campaign_id = str(uuid.UUID(campaign_id))
    except ValueError:
        return True
    hit = _campaign_cache.get(campaign_id)
    return hit is not None and hit[0] > time.monotonic()


def campaign_cache_clear() -> None:
    _campaign_cache.clear()


def bot_reason_for(*, user_agent: str, method: str = "GET") -> str:
    """Why this request is bot traffic ("" for a person's browser)."""
    if method == "HEAD":
        return "head_request"
    if not user_agent:
        return "empty_user_agent"
    lowered = user_agent.lower()
    for needle, reason in BOT_USER_AGENTS:
        if needle in lowered:
            return reason
    return ""


# --- visitor hashing ----------------------------------------------------------------------


@lru_cache(maxsize=4)
def _daily_salt(day: str) -> bytes:
    # Derived, not stored: every web process agrees on it without coordination, and a
    # day's hashes cannot be linked to another day's without the SECRET_KEY.
    return hmac.new(settings.SECRET_KEY.encode(), f"visitor-salt:{day}".encode(), "sha256").digest()


def visitor_hash(*, day: str, campaign_id: str, ip: str, user_agent: str) -> str:
    """sha256(daily salt, campaign, IP, user agent); "" when neither IP nor agent is known."""
    if not ip and not user_agent:
        return ""
    digest = hashlib.sha256(_daily_salt(day))
    digest.update(f"|{campaign_id}|{ip}|{user_agent}".encode())
    return digest.hexdigest()


# --- recording ----------------------------------------------------------------------------


def _record(click: ClickInput, now: float, today: str) -> dict:
    """The stored form of a click (the stream payload and the row's values)."""
    occurred = click.occurred_at or now
    day = time.strftime("%Y%m%d", time.gmtime(occurred)) if click.occurred_at else today
    return {
        "c": click.click_id,
        "k": click.campaign_id,
        "t": occurred,
        "i": ip_for_storage(click.ip_address),
        "v": visitor_hash(
            day=day, campaign_id=click.campaign_id, ip=click.ip_address, user_agent=click.user_agent
        ),
        "u": click.user_agent,
        "r": click.referrer,
        "m": click.utm_params,
        "b": click.bot_reason,
        "d": day,
    }


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
    records = [_record(click, now, today) for click in clicks]
    client = stream_client()
    if client is not None:
        try:
            _stream_append(client, records)
            return
        except redis.RedisError:
            # The click must not be lost because Redis is down: the database is slower,
            # but it is the destination anyway.
            logger.warning("click stream unavailable; writing %d clicks to the DB", len(records))
    _insert(records)


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


def click_store_rate_limited(
    *, click: ClickInput, bucket: str, per_minute: int, refused_if: str | None = None
) -> Decision | None:
    """Take one request from `bucket` and, only if allowed, accept `click`: with Redis the
    decision, the stream append and the counters are one atomic round trip.

    `refused_if` names a Redis key whose existence refuses the click before anything is
    taken or stored; the result is then None. Such a caller needs Redis to decide: with it
    down, the RedisError propagates."""
    client = stream_client()
    if refused_if is not None and client is None:
        raise redis.ConnectionError("refused_if needs REDIS_URL")
    if client is None or per_minute <= 0:
        decision = rate_limit_take(bucket, per_minute)
        if decision.allowed:
            clicks_store(clicks=[click])
        return decision
    now = time.time()
    record = _record(click, now, time.strftime("%Y%m%d", time.gmtime(now)))
    count_key, unique_key, bot_key = counter_keys(campaign_id=record["k"], day=record["d"])
    maxlen = settings.CLICK_STREAM_MAXLEN
    keys = [stream_keys()[0], bot_key if record["b"] else count_key, unique_key]
    try:
        return _APPEND_ONE(
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
    except redis.RedisError:
        if refused_if is not None:
            raise
        # As the two steps do apart: the limiter fails open, the click goes to the DB.
        logger.warning("click stream unavailable; writing 1 click to the DB")
        _insert([record])
        return Decision(allowed=True, retry_after=0)


def _stream_append(client: redis.Redis, records: list[dict]) -> None:
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


# --- the drain ----------------------------------------------------------------------------

_COLUMNS = (
    "click_id",
    "campaign_id",
    "occurred_at",
    "ip_address",
    "visitor_hash",
    "user_agent",
    "referrer",
    "utm_params",
    "is_bot",
    "bot_reason",
)
_STAGING = "trace_click_staging"


def _row(record: dict) -> tuple:
    return (
        record["c"],
        record["k"],
        datetime.fromtimestamp(record["t"], tz=UTC),
        record["i"],
        record["v"],
        record["u"],
        record["r"],
        record["m"],  # a dict; the PostgreSQL path sends it as JSON text
        bool(record["b"]),
        record["b"][:64],
    )


def _insert(records: list[dict]) -> int:
    """Insert records in one statement, skipping click ids already stored; rows inserted."""
    if not records:
        return 0
    rows = [_row(record) for record in records]
    with transaction.atomic():
        if connection.vendor == "postgresql":
            return _insert_postgresql(rows)
        return _insert_portable(rows)


def _insert_postgresql(rows: list[tuple]) -> int:
    # COPY into a session-local staging table (psycopg formats rows in C), then one
    # INSERT ... SELECT ... ON CONFLICT (click_id) DO NOTHING for the whole batch.
    table = connection.ops.quote_name(Click._meta.db_table)
    columns = ", ".join(_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_STAGING} (click_id varchar(64), "
            "campaign_id uuid, occurred_at timestamptz, ip_address varchar(45), "
            "visitor_hash varchar(64), user_agent varchar(512), referrer varchar(2048), "
            "utm_params jsonb, is_bot boolean, bot_reason varchar(64))"
        )
        cursor.execute(f"TRUNCATE {_STAGING}")
        with cursor.copy(f"COPY {_STAGING} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((*row[:7], json.dumps(row[7]), *row[8:]))
        # Only constants and the quoted table name are interpolated; values came by COPY.
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {_STAGING} "  # noqa: S608
            "ON CONFLICT (click_id) DO NOTHING"
        )
        return cursor.rowcount


def _insert_portable(rows: list[tuple]) -> int:
    ids = [row[0] for row in rows]
    before = Click.objects.filter(click_id__in=ids).count()
    Click.objects.bulk_create(
        [Click(**dict(zip(_COLUMNS, row, strict=True))) for row in rows],
        ignore_conflicts=True,
    )
    return Click.objects.filter(click_id__in=ids).count() - before


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
        _drain(
            client,
            stream,
            consumer=consumer,
            count=max(1, batch_size // max(1, clicks_per_entry)),
            claim_idle_ms=int(claim_idle_seconds * 1000),
            max_batches=max_batches,
            result=result,
        )
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
        response = client.xreadgroup(STREAM_GROUP, consumer, {stream: ">"}, count=count)
        entries = response[0][1] if response else []
        if not entries:
            break
        _flush_entries(client, stream, entries, result)


def _flush_entries(client: redis.Redis, stream: str, entries: list, result: FlushResult) -> int:
    """Store the clicks of these entries, then acknowledge them; returns clicks read."""
    entry_ids = [entry_id for entry_id, _fields in entries]
    records: dict[str, dict] = {}
    read = unreadable = 0
    for _entry_id, fields in entries:
        decoded = _decode(fields)
        if decoded is None:
            unreadable += 1
            read += 1
            continue
        read += len(decoded)
        for record in decoded:
            records.setdefault(record["c"], record)
    result.read += read
    result.batches += 1
    result.dropped += unreadable
    result.duplicates += read - unreadable - len(records)
    known = {
        str(pk)
        for pk in Campaign.objects.filter(
            pk__in={record["k"] for record in records.values()}
        ).values_list("pk", flat=True)
    }
    batch = [record for record in records.values() if record["k"] in known]
    result.dropped += len(records) - len(batch)
    inserted = _insert_or_isolate(batch, result)
    result.inserted += inserted
    result.duplicates += len(batch) - inserted
    # Only now, with the rows committed, may the entries leave the stream.
    pipe = client.pipeline(transaction=True)
    pipe.xack(stream, STREAM_GROUP, *entry_ids)
    pipe.xdel(stream, *entry_ids)
    pipe.execute()
    return read


def _insert_or_isolate(batch: list[dict], result: FlushResult) -> int:
    """One INSERT for the batch; if the database refuses it, row by row, so one bad
    record cannot block the stream forever. Connection failures still propagate (and
    leave the entries pending for a retry)."""
    try:
        return _insert(batch)
    except DatabaseError as error:
        if not connection.is_usable():
            raise
        logger.warning("click batch refused (%s); inserting row by row", error)
    inserted = 0
    for record in batch:
        try:
            inserted += _insert([record])
        except DatabaseError:
            logger.exception("dropping unstorable click %s", record.get("c"))
            result.dropped += 1
    return inserted


_RECORD_KEYS = frozenset("cktivurmb")


def _decode(fields: dict) -> list[dict] | None:
    """The records of one stream entry, or None when it cannot be read."""
    try:
        records = json.loads(fields[b"d"])
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


# --- tracking links -----------------------------------------------------------------------


def _clean(value: str, limit: int) -> str:
    return value.replace("\x00", "")[:limit]


def utm_params_from_query(query: dict[str, str]) -> dict[str, str]:
    """The `utm_*` parameters of a tracking-link visit, within the stored limits."""
    utm_params: dict[str, str] = {}
    for key, value in query.items():
        if key.startswith("utm_") and len(key) <= MAX_UTM_KEY and len(utm_params) < MAX_UTM_KEYS:
            utm_params[_clean(key, MAX_UTM_KEY)] = _clean(value, MAX_UTM_VALUE)
    return utm_params


def click_track(
    *,
    campaign_id: str,
    ip: str,
    user_agent: str,
    referrer: str,
    query: dict[str, str],
    method: str,
) -> str:
    """Record a visit through a tracking link; returns its new click id.

    HEAD requests and preview bots are stored with is_bot and a reason, not as clicks.
    """
    utm_params = utm_params_from_query(query)
    user_agent = _clean(user_agent, MAX_USER_AGENT)
    click = ClickInput(
        campaign_id=campaign_id,
        click_id=uuid.uuid4().hex,
        referrer=_clean(referrer, MAX_REFERRER),
        utm_params=utm_params,
        user_agent=user_agent,
        ip_address=ip_parse(ip) or "",
        bot_reason=bot_reason_for(user_agent=user_agent, method=method),
    )
    clicks_store(clicks=[click])
    return click.click_id


def landing_url_with_click(*, landing_url: str, click_id: str) -> str:
    """The landing URL with fab_click=<click_id> added to its query (fragment kept)."""
    base, hash_mark, fragment = landing_url.partition("#")
    path, question, query = base.partition("?")
    params = [part for part in query.split("&") if part and not part.startswith("fab_click=")]
    params.append(f"fab_click={click_id}")
    return f"{path}?{'&'.join(params)}{hash_mark}{fragment}"
