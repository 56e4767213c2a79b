"""When blocks were made, read from the chain's JSON-RPC and kept in the cache.

A webhook that does not say when its transfers' blocks were made (Alchemy's Address
Activity payloads mostly do not) gets them here: one JSON-RPC batch per delivery for the
blocks the cache does not know. A block's time does not change once the block is final;
a reorg replaces a block with one of nearly the same time, so a cached time is right to
the day that matters here.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from django.core.cache import cache
from web3.exceptions import Web3Exception

from fabrknt.chain.evm import ChainNotConfigured, block_timestamps, evm_client
from fabrknt.redis_backoff import REDIS_ERRORS, redis_failed, redis_skipped

logger = logging.getLogger(__name__)

CACHE_SECONDS = 30 * 24 * 3600
# A node that is down or slow costs the webhook this and no more: the delivery's time is
# the fallback (requests' errors are OSErrors).
READ_ERRORS = (ChainNotConfigured, Web3Exception, OSError)


def block_times_read(*, chain: str, numbers: Sequence[int]) -> dict[int, dt.datetime]:
    """The times of these blocks of an EVM chain that the cache or the chain's node knows;
    the others are left out (no RPC endpoint, a node that fails or is behind)."""
    if not numbers:
        return {}
    keys = {number: f"trace:block-time:{chain}:{number}" for number in numbers}
    known = _cached(list(keys.values()))
    timestamps = {number: known[key] for number, key in keys.items() if key in known}
    missing = [number for number in numbers if number not in timestamps]
    if missing:
        try:
            read = block_timestamps(evm_client(chain), missing)
        except READ_ERRORS as error:
            logger.warning("block times of %s %s not read: %s", chain, missing, error)
            read = {}
        timestamps.update(read)
        _cache({keys[number]: timestamp for number, timestamp in read.items()})
    return {
        number: dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)
        for number, timestamp in timestamps.items()
    }


def _cached(keys: list[str]) -> dict[str, int]:
    if redis_skipped():
        return {}
    try:
        return cache.get_many(keys)
    except REDIS_ERRORS as error:
        redis_failed(error, during="block times")
        return {}


def _cache(values: dict[str, int]) -> None:
    if not values or redis_skipped():
        return
    try:
        cache.set_many(values, timeout=CACHE_SECONDS)
    except REDIS_ERRORS as error:
        redis_failed(error, during="block times")
