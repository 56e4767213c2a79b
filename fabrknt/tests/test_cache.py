from __future__ import annotations

import pytest
from django.core.cache import cache, caches

from fabrknt.cache import RedisCache


@pytest.mark.redis
def test_the_redis_cache_reuses_one_client_per_pool():
    assert isinstance(caches["default"], RedisCache)
    client = cache._cache.get_client()

    cache.set("k", {"v": 1}, 30)
    cache.add("n", 0, 30)

    assert cache.get("k") == {"v": 1}
    assert cache.incr("n") == 1
    assert cache._cache.get_client() is client
    assert cache._cache.get_client(write=True) is client
