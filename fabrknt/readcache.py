"""Read-through cache for the hot reads whose rows change far less often than they are
read (README, "Read cache").

A cached read names the *scopes* it depends on (`fabric:listing:<id>`, `fabric:market`,
...). Each scope has a generation counter in Redis; an entry holds the generations it was
built under, so a write never deletes entries: it bumps its scopes' counters (`changed`)
and every entry built before the write no longer matches (the next read replaces it; its
TTL, READ_CACHE_SECONDS, reclaims it otherwise). One increment per scope, however many
variants (query strings, access levels, hosts) were cached under it. A lookup reads the
generations and the entry in one round trip (MGET).

Access control is never cached: the views decide who sees what for each request (the
selectors), and cache only what is the same for every caller with the same access level,
keyed by that level. An entry may hold the object the decision is about, with its
organization, as long as the view decides before showing any of it
(`CallerAccess.admit`).

`changed` bumps at once and again when the transaction commits: the first bump makes the
writer's own next read (and a test's, inside its rolled-back transaction) miss; the
second discards whatever a reader cached between the write and its commit (it read the
old rows under the new generation).

Redis is a helper, never the truth: when it fails, or while this process backs off from
it (fabrknt/redis_backoff.py), `cached` builds the answer from the database. A bump that
fails is logged; the entries it should have retired live until their TTL at most.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.cache import patch_vary_headers

from fabrknt.redis_backoff import REDIS_ERRORS, redis_failed, redis_skipped

logger = logging.getLogger(__name__)

T = TypeVar("T")

GENERATION_PREFIX = "readcache:gen:"
ENTRY_PREFIX = "readcache:entry:"


def _generation_key(scope: str) -> str:
    return GENERATION_PREFIX + scope


def _seed() -> int:
    # A counter that vanished (evicted, flushed) restarts from the clock, never from a
    # value an older entry was built under.
    return time.time_ns()


def entry_key(name: str, parts: Sequence[object]) -> str:
    digest = hashlib.blake2b(repr(tuple(parts)).encode(), digest_size=12).hexdigest()
    return f"{ENTRY_PREFIX}{name}:{digest}"


def lookup_keys(name: str, *, scopes: Sequence[str], parts: Sequence[object] = ()) -> list[str]:
    """The cache keys a lookup of `cached(name, scopes=…, parts=…)` reads, in one MGET: each
    scope's generation, then the entry. For a caller that fetches them in a round trip of
    its own (`Found`)."""
    return [*(_generation_key(scope) for scope in scopes), entry_key(name, parts)]


@dataclass(frozen=True)
class Found:
    """What a lookup read: the scopes' generations (None: a counter that does not exist)
    and the entry (None: none)."""

    generations: list[int | None]
    entry: tuple[tuple[int, ...], object] | None


def _found(keys: Sequence[str]) -> Found:
    values = cache.get_many(keys)
    return Found(
        generations=[values.get(key) for key in keys[:-1]],
        entry=values.get(keys[-1]),
    )


def _generations(scopes: Sequence[str], found: Sequence[int | None]) -> tuple[int, ...]:
    generations = list(found)
    for index, generation in enumerate(generations):
        if generation is None:
            key = _generation_key(scopes[index])
            cache.add(key, _seed(), timeout=None)
            generations[index] = cache.get(key)
    return tuple(int(generation) for generation in generations)  # type: ignore[arg-type]


def cached(
    name: str,
    *,
    scopes: Sequence[str],
    parts: Sequence[object] = (),
    build: Callable[[], T],
    ttl: int | None = None,
    found: Found | None = None,
) -> T:
    """`build()`'s answer for (`name`, `parts`), from the cache while none of `scopes`
    changed. `parts` must hold everything the answer depends on besides the scopes'
    rows: the query, the caller's access level, the host of absolute links. `found`: what
    the caller already read of `lookup_keys` (else one MGET reads it)."""
    if not settings.READ_CACHE_ENABLED or redis_skipped():
        return build()
    keys = lookup_keys(name, scopes=scopes, parts=parts)
    key = keys[-1]
    try:
        if found is None:
            found = _found(keys)
        generations = _generations(scopes, found.generations)
    except REDIS_ERRORS as error:
        redis_failed(error, during="read cache lookup")
        return build()
    # An entry holds the generations it was built under: a hit while they are current.
    if found.entry is not None and tuple(found.entry[0]) == generations:
        return found.entry[1]  # type: ignore[return-value]
    value = build()
    try:
        cache.set(key, (generations, value), settings.READ_CACHE_SECONDS if ttl is None else ttl)
    except REDIS_ERRORS as error:
        redis_failed(error, during="read cache fill")
    return value


# Each counter incremented, or started from the clock (ARGV[1]) where it vanished: one
# round trip for all the scopes of a write (a flush names every campaign it counted).
_BUMP_SCRIPT = """
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then redis.call('INCR', key)
  else redis.call('SET', key, ARGV[1]) end
end
"""


def retiring(what: object) -> bool:
    """Whether a bump of `what`'s scopes would reach Redis now: False, logged, while this
    process backs off from it. A writer that must query to name its scopes asks first."""
    if redis_skipped():
        logger.warning("Redis is backed off: cached reads of %s stay until their TTL", what)
        return False
    return True


def _bump(scopes: Sequence[str]) -> None:
    if not retiring(scopes):
        return
    keys = [_generation_key(scope) for scope in scopes]
    client = getattr(cache, "client", None)  # django-redis's; None for the local memory
    try:
        if client is None:
            for key in keys:
                try:
                    cache.incr(key)
                except ValueError:  # no counter yet: nothing was cached under it
                    cache.set(key, _seed(), timeout=None)
            return
        names = [client.make_key(key) for key in keys]
        client.get_client(write=True).eval(_BUMP_SCRIPT, len(names), *names, _seed())
    except REDIS_ERRORS as error:
        redis_failed(error, during="read cache invalidation")


def changed(*scopes: str) -> None:
    """The rows behind `scopes` changed (or are changing in the current transaction):
    retire what was cached of them, now and again once the transaction commits."""
    if not scopes:
        return
    _bump(scopes)
    transaction.on_commit(lambda: _bump(scopes))


# --- what the CDN and browsers may keep ----------------------------------------------


R = TypeVar("R", bound=HttpResponseBase)


def public_cache_headers(
    response: R, page_of: HttpRequest | None = None, *, seconds: int | None = None
) -> R:
    """Anyone's document or page (certificates, token metadata): browsers keep it
    PUBLIC_PAGE_MAX_AGE seconds, the CDN PUBLIC_PAGE_S_MAXAGE. `page_of`: the request of
    an HTML page, whose navigation names a signed-in caller: that render stays private,
    and `Vary: Cookie` keeps a cache that honours Vary from mixing the two. `seconds`: one
    lifetime for both, for a document that seldom changes."""
    user = None if page_of is None else getattr(page_of, "user", None)
    if user is not None and user.is_authenticated:
        response["Cache-Control"] = "private, no-cache"
    else:
        browser = settings.PUBLIC_PAGE_MAX_AGE if seconds is None else seconds
        shared = settings.PUBLIC_PAGE_S_MAXAGE if seconds is None else seconds
        response["Cache-Control"] = f"public, max-age={browser}, s-maxage={shared}"
    if page_of is not None:
        patch_vary_headers(response, ("Cookie",))
    return response
