"""Organization API keys: issue, authenticate, revoke.

The database is the truth: a key is active while `revoked_at IS NULL`. The shared cache
keeps an active key for _CACHE_SECONDS so that most requests skip the query, and a
revocation must reach every copy at once, whatever runs concurrently:

- `api_key_revoke` commits `revoked_at`, then sets the key's revocation marker in the
  cache, then deletes its cache entry.
- A lookup reads the entry and the marker in one round trip. With the marker there, the
  database decides and nothing is cached.
- A lookup that loaded the row writes the entry, then reads the marker: a revocation that
  landed after the load has either deleted that entry already or left its marker to be
  seen, and the lookup then deletes the entry itself and asks the database again.
- `last_used_at` is refreshed only on a row that is still active; a refresh that updates
  nothing means "revoked", and caches nothing.
- A key held in process memory (the click fast path, `api_key_held`) is trusted only by a
  Redis script that refuses it while the marker exists.
- Without Redis (down, or backed off from: `fabrknt.redis_backoff`) keys are read from the
  database; a revocation that could not reach Redis is delivered by this process as soon
  as its next lookup reaches it.
"""

from __future__ import annotations

import hmac
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from accounts.models import ApiKey, AuditAction, Organization, Scope, User
from accounts.services.audit import audit_record
from fabrknt.redis_backoff import REDIS_ERRORS, redis_failed, redis_skipped

logger = logging.getLogger(__name__)

T = TypeVar("T")

# A key is looked up once per this long per process set; revocation clears the entry.
_CACHE_SECONDS = 60
# last_used_at is refreshed at most this often, so a hot ingest key writes rarely.
_LAST_USED_RESOLUTION = timedelta(minutes=1)
# The click fast path keeps a key it has authenticated in process memory this long, and
# skips the cache round trip meanwhile. A held key is never trusted alone: the Redis script
# that stores the click refuses it while the key's revocation marker exists, so revocation
# stays immediate. The marker outlives every held copy and every request in flight by far.
HELD_SECONDS = 5.0
_REVOKED_MARKER_SECONDS = 3600
_held: dict[str, tuple[float, ApiKey]] = {}
# Prefixes of keys this process revoked while Redis did not answer: their markers are set
# (and entries deleted) at this process's next lookup that reaches Redis.
_unforgotten: set[str] = set()


@dataclass(frozen=True)
class IssuedKey:
    api_key: ApiKey
    key: str  # the only time the secret exists in clear


def _cache_key(prefix: str) -> str:
    # v2: the entry carries the organization's daily quota. A new name, so that during a
    # deployment neither release reads the other's entries (a revocation still reaches
    # both: the marker's name is unchanged, and lookups check it first).
    return f"apikey:v2:{prefix}"


# The cached form of an active key: plain strings and numbers in a tuple. Unpickling a
# model instance (with its organization) on every ingest call cost more than the rest of
# the lookup; this unpickles in microseconds. Only active keys are cached, and revocation
# deletes the entry, so a revoked key is refused at once.
_CachedKey = tuple[str, str, str, str, str, list[str], str | None, float, float | None, int]


def _compact(api_key: ApiKey) -> _CachedKey:
    return (
        api_key.pk.hex,
        api_key.organization_id.hex,
        api_key.name,
        api_key.prefix,
        api_key.key_hash,
        list(api_key.scopes),
        api_key.created_by_id.hex if api_key.created_by_id else None,
        api_key.created_at.timestamp(),
        api_key.last_used_at.timestamp() if api_key.last_used_at else None,
        api_key.daily_request_quota,
    )


def _expand(value: _CachedKey) -> ApiKey:
    """An ApiKey as loaded from the database (not `adding`), from its cached form."""
    pk, organization_id, name, prefix, key_hash, scopes, created_by_id, created, used, quota = value
    api_key = ApiKey.from_db(
        None,
        _CACHED_FIELDS,
        (
            uuid.UUID(pk),
            uuid.UUID(organization_id),
            name,
            prefix,
            key_hash,
            scopes,
            uuid.UUID(created_by_id) if created_by_id else None,
            datetime.fromtimestamp(created, tz=UTC),
            datetime.fromtimestamp(used, tz=UTC) if used is not None else None,
            None,  # only active keys are cached
        ),
    )
    api_key.daily_request_quota = quota
    return api_key


_CACHED_FIELDS = [
    "id",
    "organization_id",
    "name",
    "prefix",
    "key_hash",
    "scopes",
    "created_by_id",
    "created_at",
    "last_used_at",
    "revoked_at",
]


def api_key_issue(
    *, organization: Organization, name: str, scopes: list[str], created_by: User | None = None
) -> IssuedKey:
    """A new key. A secret one (any `read` or `write` scope) is kept only as its hash; an
    `ingest`-only key is publishable and kept whole, so members can see it again."""
    unknown = set(scopes) - set(Scope.values)
    if unknown:
        raise ValueError(f"unknown scopes: {', '.join(sorted(unknown))}")
    prefix, key = ApiKey.generate()
    with transaction.atomic():
        api_key = ApiKey.objects.create(
            organization=organization,
            name=name,
            prefix=prefix,
            key_hash=ApiKey.hash_key(key),
            scopes=sorted(set(scopes)),
            publishable_key=key if ApiKey.is_publishable(scopes) else "",
            created_by=created_by,
        )
        audit_record(
            organization_id=organization.pk,
            actor=created_by,
            action=AuditAction.API_KEY_CREATED,
            target=api_key,
            label=f"{name} ({prefix}…)",
            details={"scopes": api_key.scopes},
        )
    return IssuedKey(api_key=api_key, key=key)


def api_key_revoke(*, api_key: ApiKey, actor: User | None = None) -> bool:
    """Revoke a key at once. Returns False when it was already revoked."""
    with transaction.atomic():
        changed = ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if changed:
            audit_record(
                organization_id=api_key.organization_id,
                actor=actor,
                action=AuditAction.API_KEY_REVOKED,
                target=api_key,
                label=f"{api_key.name} ({api_key.prefix}…)",
            )
            if api_key.publishable_key:
                from trace.cache import organization_campaigns_changed

                organization_campaigns_changed(api_key.organization_id)  # the snippet's
        transaction.on_commit(lambda: _forget(api_key.prefix))
    # Now as well, for the copies in this process (inside an outer transaction the
    # on-commit call comes later); a marker set before the commit only sends lookups to
    # the database, which still says active until then.
    _forget(api_key.prefix)
    api_key.refresh_from_db(fields=["revoked_at"])
    return bool(changed)


def api_key_authenticate(*, key: str) -> ApiKey | None:
    """The active key this secret belongs to, or None."""
    prefix = ApiKey.prefix_of(key)
    if prefix is None:
        return None
    api_key = _active_key(prefix)
    if api_key is None or not hmac.compare_digest(api_key.key_hash, ApiKey.hash_key(key)):
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > _LAST_USED_RESOLUTION:
        return _mark_used(api_key, now)
    return api_key


def _with_cache(operation: Callable[[], T], *, without: Callable[[], T]) -> T:
    """`operation`, which uses the shared cache; `without` when Redis is down."""
    if not redis_skipped():
        try:
            return operation()
        except REDIS_ERRORS as error:
            redis_failed(error, during="API key lookup")
    return without()


def _stored(prefix: str) -> ApiKey | None:
    # The organization is joined for its daily quota alone: callers need only that and
    # organization_id.
    return ApiKey.objects.active().with_daily_quota().filter(prefix=prefix).first()


def _active_key(prefix: str) -> ApiKey | None:
    """The active key with this prefix: from the cache, else from the database."""
    if _unforgotten and not redis_skipped():
        for pending in list(_unforgotten):
            _forget(pending)
    return _with_cache(lambda: _cached(prefix), without=lambda: _stored(prefix))


def _cached(prefix: str) -> ApiKey | None:
    entry, marker = _cache_key(prefix), _revoked_marker_name(prefix)
    found = cache.get_many([entry, marker])
    if marker in found:
        return _stored(prefix)  # revoked, or being revoked: nothing is cached
    if isinstance(found.get(entry), tuple):
        return _expand(found[entry])
    api_key = _stored(prefix)
    if api_key is None or _cache_unless_revoked(api_key):
        return api_key
    return _stored(prefix)


def _cache_unless_revoked(api_key: ApiKey) -> bool:
    """Cache an active key as it was read; False, with nothing left cached, when its
    revocation marker has appeared since (see the module's docstring)."""
    entry = _cache_key(api_key.prefix)
    cache.set(entry, _compact(api_key), _CACHE_SECONDS)
    if cache.get(_revoked_marker_name(api_key.prefix)) is None:
        return True
    cache.delete(entry)
    return False


def _mark_used(api_key: ApiKey, now: datetime) -> ApiKey | None:
    """Refresh last_used_at of a key that is still active, in the database and the cache;
    None when it has been revoked since it was read."""
    if not ApiKey.objects.active().filter(pk=api_key.pk).update(last_used_at=now):
        return None
    api_key.last_used_at = now
    return _with_cache(
        lambda: api_key if _cache_unless_revoked(api_key) else _stored(api_key.prefix),
        without=lambda: api_key,
    )


def _forget(prefix: str) -> None:
    """Drop every cached copy of a revoked key: its marker first, then its entry."""
    _held.pop(prefix, None)
    if not redis_skipped():
        try:
            cache.set(_revoked_marker_name(prefix), 1, _REVOKED_MARKER_SECONDS)
            cache.delete(_cache_key(prefix))
        except REDIS_ERRORS as error:
            redis_failed(error, during="API key revocation")
        else:
            _unforgotten.discard(prefix)
            return
    if prefix not in _unforgotten:
        _unforgotten.add(prefix)
        logger.error(
            "API key %s revoked while Redis is down: its cached copies go when it answers",
            prefix,
        )


def _revoked_marker_name(prefix: str) -> str:
    return f"apikey-revoked:{prefix}"


def api_key_revoked_marker(*, api_key: ApiKey) -> str:
    """The Redis key (with the cache's prefix) that exists once `api_key` is revoked."""
    return cache.make_key(_revoked_marker_name(api_key.prefix))


def api_key_hold(*, api_key: ApiKey) -> None:
    """Keep an authenticated key in this process for HELD_SECONDS (see `api_key_held`)."""
    _held[api_key.prefix] = (time.monotonic() + HELD_SECONDS, api_key)


def api_key_held(*, key: str) -> ApiKey | None:
    """The key this secret belongs to, from this process's fresh copy, or None. It may have
    been revoked since it was held: the caller checks `api_key_revoked_marker` in the same
    atomic step as its write, and calls `api_key_release` when the marker is there."""
    prefix = ApiKey.prefix_of(key)
    held = _held.get(prefix) if prefix is not None else None
    if held is None or held[0] <= time.monotonic():
        return None
    api_key = held[1]
    return api_key if hmac.compare_digest(api_key.key_hash, ApiKey.hash_key(key)) else None


def api_key_release(*, api_key: ApiKey) -> None:
    _held.pop(api_key.prefix, None)


def api_keys_reload(*, organization_id: uuid.UUID) -> None:
    """After a change to what keys carry from their organization (its daily quota): drop
    the cached and held copies of its keys, so the next lookups read the change. Copies
    that other processes hold last HELD_SECONDS longer."""
    prefixes = list(
        ApiKey.objects.active()
        .filter(organization_id=organization_id)
        .values_list("prefix", flat=True)
    )
    for prefix in prefixes:
        _held.pop(prefix, None)
    if not prefixes:
        return
    _with_cache(
        lambda: cache.delete_many([_cache_key(prefix) for prefix in prefixes]),
        without=lambda: None,
    )


def api_key_process_state_clear() -> None:
    """Drop the keys this process holds and the revocations it has yet to deliver (tests:
    a rolled-back key must not linger)."""
    _held.clear()
    _unforgotten.clear()
