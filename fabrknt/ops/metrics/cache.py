"""The cache backends of settings.CACHES, counting their reads as hits and misses.

Django's cache says nothing of hits, and Redis' INFO counts every command of every client
(the click stream and rate limits included), so the backends count for themselves: the
same backends, each read adding one to the store in memory."""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.locmem import LocMemCache
from django_redis.cache import RedisCache

from fabrknt.ops.metrics.families import CACHE_REQUESTS
from fabrknt.ops.metrics.store import store

_MISSING = object()
HIT = ("hit",)
MISS = ("miss",)


def _counted(value: Any, default: Any) -> Any:
    if value is _MISSING:
        store.count(CACHE_REQUESTS, MISS)
        return default
    store.count(CACHE_REQUESTS, HIT)
    return value


class CountingRedisCache(RedisCache):
    def get(self, key: Any, default: Any = None, version: Any = None, client: Any = None) -> Any:
        return _counted(super().get(key, _MISSING, version, client), default)

    def get_many(self, keys: Any, version: Any = None, client: Any = None) -> dict:
        keys = list(keys)
        found = super().get_many(keys, version=version, client=client)
        if found:
            store.count(CACHE_REQUESTS, HIT, len(found))
        if len(keys) > len(found):
            store.count(CACHE_REQUESTS, MISS, len(keys) - len(found))
        return found


class CountingLocMemCache(LocMemCache):
    # get_many and get_or_set of the base class read through get().
    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        return _counted(super().get(key, _MISSING, version), default)
