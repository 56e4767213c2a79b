from __future__ import annotations

import time

import pytest
import redis

from fabrknt.ops.metrics.store import store


@pytest.fixture
def shared_metrics(redis_client: redis.Redis) -> redis.Redis:
    """The Redis of REDIS_URL with no metrics in it, what this process recorded before the
    test written there first (and so wiped)."""
    store.flush()
    redis_client.flushdb()
    return redis_client


@pytest.fixture
def one_minute() -> None:
    """Starts the test well inside a minute, so what it records and reads by the current
    minute falls in one."""
    into = time.time() % 60
    if into > 55:
        time.sleep(60.2 - into)
