"""Redis (the cache, rate-limit buckets and click stream of REDIS_URL) as this process last
found it.

Redis is a helper, never the truth: without it, API keys are read from the database, rate
limits are kept per process, and clicks are written straight to the database. A call that
fails says so here (`redis_failed`), and for REDIS_BACKOFF_SECONDS this process takes those
fallbacks at once (`redis_skipped`) instead of asking Redis again: a Redis that does not
answer (a hung server, a lost network) would otherwise cost every request a socket
timeout for each of its calls. When the back-off is over, one PING with a short timeout
decides whether Redis is back, so no request waits a full timeout to learn that it is
still down, and recovery needs no restart.
"""

from __future__ import annotations

import logging
import time
from functools import lru_cache

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

# What a failed Redis call raises: redis-py's errors (timeouts and refused connections
# included), OSError from the socket below it, and, when django-redis is the cache backend,
# the ConnectionInterrupted it wraps them in.
REDIS_ERRORS: tuple[type[Exception], ...] = (redis.RedisError, OSError)
try:
    from django_redis.exceptions import ConnectionInterrupted
except ImportError:  # django-redis is not installed, so not the cache backend
    pass
else:
    REDIS_ERRORS += (ConnectionInterrupted,)

# A healthy Redis answers a PING in well under a millisecond.
PROBE_TIMEOUT_SECONDS = 0.25

_down_until = 0.0  # time.monotonic() until which Redis is not asked; 0: not backing off


@lru_cache(maxsize=4)
def _probe_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url, socket_timeout=PROBE_TIMEOUT_SECONDS, socket_connect_timeout=PROBE_TIMEOUT_SECONDS
    )


def redis_skipped() -> bool:
    """True while this process backs off from a Redis that failed: use the fallbacks."""
    global _down_until
    if not _down_until:
        return False
    now = time.monotonic()
    if now < _down_until:
        return True
    # Over: the other threads keep backing off while this one probes.
    _down_until = now + settings.REDIS_BACKOFF_SECONDS
    try:
        if settings.REDIS_URL:
            _probe_client(settings.REDIS_URL).ping()
    except REDIS_ERRORS:
        return True
    _down_until = 0.0
    logger.warning("Redis answers again; leaving the fallbacks")
    return False


def redis_failed(error: Exception, *, during: str) -> None:
    """Record that a Redis call failed: back off for REDIS_BACKOFF_SECONDS."""
    global _down_until
    if not _down_until:
        logger.warning(
            "Redis failed during %s; using the fallbacks for %s s: %s",
            during,
            settings.REDIS_BACKOFF_SECONDS,
            error,
        )
    _down_until = time.monotonic() + settings.REDIS_BACKOFF_SECONDS


def redis_backoff_clear() -> None:
    """Ask Redis again at the next call (tests: one test's outage must not leak)."""
    global _down_until
    _down_until = 0.0
