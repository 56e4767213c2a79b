"""Atomic rate limiting: a token bucket in Redis (one Lua script, so concurrent requests
cannot both take the last token), or a fixed window in the local cache without Redis."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import cache as memoize

import redis
from django.conf import settings
from django.core.cache import cache

# KEYS[1]: bucket. ARGV: capacity, refill per second, now (seconds, float).
# Returns {allowed (0/1), seconds until one token is back (ceil, as string)}.
_TOKEN_BUCKET = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local ts = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'ts', now)
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 1)
local wait = 0
if allowed == 0 then wait = (1 - tokens) / rate end
return {allowed, tostring(wait)}
"""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int  # whole seconds, for the Retry-After header


@memoize
def _redis_script():
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1)
    return client.register_script(_TOKEN_BUCKET)


def rate_limit_take(key: str, per_minute: int) -> Decision:
    """Take one request from `key`'s allowance of `per_minute` requests."""
    if per_minute <= 0:
        return Decision(allowed=True, retry_after=0)
    if settings.REDIS_URL:
        allowed, wait = _redis_script()(
            keys=[f"fabrknt:rl:{key}"], args=[per_minute, per_minute / 60.0, time.time()]
        )
        return Decision(allowed=bool(allowed), retry_after=max(1, math.ceil(float(wait))))
    window = int(time.time() // 60)
    bucket = f"rl:{key}:{window}"
    cache.add(bucket, 0, 61)
    count = cache.incr(bucket)
    return Decision(allowed=count <= per_minute, retry_after=max(1, 60 - int(time.time() % 60)))
