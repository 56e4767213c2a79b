"""The Redis token bucket: atomic under concurrency, exact Retry-After, and a per-process
bucket while Redis is down."""

from __future__ import annotations

import threading
import time

import pytest

from fabrknt.api.rate_limit import KEY_PREFIX, rate_limit_take

pytestmark = pytest.mark.redis


def test_concurrent_takes_allow_exactly_the_limit(redis_client):
    limit, threads, takes_each = 30, 8, 12
    barrier = threading.Barrier(threads)
    allowed: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait()
        mine = [rate_limit_take("race", limit).allowed for _ in range(takes_each)]
        with lock:
            allowed.extend(mine)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()

    assert len(allowed) == threads * takes_each == 96
    assert allowed.count(True) == limit


def test_retry_after_is_the_time_until_one_token_is_back(redis_client):
    # 2 per minute: a token every 30 s.
    assert [rate_limit_take("slow", 2).allowed for _ in range(2)] == [True, True]

    refused = rate_limit_take("slow", 2)

    assert refused.allowed is False
    assert refused.retry_after == 30


def test_bucket_lives_in_redis_and_expires(redis_client):
    rate_limit_take("expiring", 60)

    assert redis_client.exists(f"{KEY_PREFIX}expiring") == 1
    assert 1 <= redis_client.ttl(f"{KEY_PREFIX}expiring") <= 61


def test_a_stopped_redis_falls_back_to_a_per_process_bucket_that_still_limits(
    redis_server, settings
):
    settings.REDIS_BACKOFF_SECONDS = 0.2
    assert rate_limit_take("down", 2).allowed is True  # one token taken in Redis
    redis_server.stop()

    decisions = [rate_limit_take("down", 2) for _ in range(3)]

    assert [d.allowed for d in decisions] == [True, True, False]
    assert decisions[-1].retry_after == 30
    redis_server.start()  # empty: a full bucket again, in Redis
    time.sleep(0.2)
    assert [rate_limit_take("down", 2).allowed for _ in range(3)] == [True, True, False]
    assert redis_server.client().exists(f"{KEY_PREFIX}down") == 1


def test_zero_means_unlimited(redis_client):
    assert all(rate_limit_take("free", 0).allowed for _ in range(5))
    assert redis_client.exists(f"{KEY_PREFIX}free") == 0
