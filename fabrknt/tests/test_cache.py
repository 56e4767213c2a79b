"""The Redis cache of the settings: django-redis, one client per process, and an outage that
reaches the caller quickly as a redis error instead of hanging or passing for a miss."""

from __future__ import annotations

import socket
import time

import pytest
import redis
from django.conf import settings
from django.core.cache import CacheHandler, cache, caches
from django_redis.cache import RedisCache

pytestmark = pytest.mark.redis


def cache_at(location: str) -> RedisCache:
    """The settings' Redis cache, pointed at another server."""
    return CacheHandler({"default": {**settings.CACHES["default"], "LOCATION": location}})[
        "default"
    ]


def test_the_redis_cache_is_django_redis_with_one_client_for_every_call():
    assert isinstance(caches["default"], RedisCache)
    client = cache.client.get_client()

    cache.set("k", {"v": 1}, 30)
    cache.add("n", 0, 30)

    assert cache.get("k") == {"v": 1}
    assert cache.incr("n") == 1
    assert cache.client.get_client(write=False) is client
    assert cache.client.get_client(write=True) is client


def test_an_unreachable_redis_raises_a_redis_error_instead_of_a_miss():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]  # closed again when the block ends
    refused = cache_at(f"redis://127.0.0.1:{closed_port}/0")

    with pytest.raises(redis.ConnectionError):
        refused.get("k")
    with pytest.raises(redis.ConnectionError):
        refused.set("k", 1, 30)


def test_a_redis_that_does_not_answer_times_out_within_the_socket_timeout():
    with socket.socket() as silent:  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        mute = cache_at(f"redis://127.0.0.1:{silent.getsockname()[1]}/0")

        started = time.monotonic()
        with pytest.raises(redis.TimeoutError):
            mute.get("k")
        elapsed = time.monotonic() - started

    assert 1.5 < elapsed < 3.5  # SOCKET_TIMEOUT is 2 s
