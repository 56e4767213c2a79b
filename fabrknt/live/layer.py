"""The Redis channel layer of /ws/live: channels_redis's pub/sub layer, with each
connection's queue bounded.

Why pub/sub and not channels_redis's default (core) layer: live events are fan-out to
many connections of a few processes, and nothing needs storing for a connection that is
gone. The core layer stores each message in Redis per process and has every consumer
contend for one receive lock, which at 1,000 connections in a process made an event take
hundreds of milliseconds to reach the last of them (bench/ws.py); with pub/sub a process
gets one copy of an event per group it listens to and puts it on the queue of each of its
channels in the group: one a live channel and process (fabrknt/live/fanout.py).

That queue is unbounded in channels_redis; here it holds at most `capacity` messages and
drops the oldest when full (channels_redis's own BoundedQueue), so a receiver that fell
behind costs bounded memory."""

from __future__ import annotations

import asyncio
from typing import Any

from channels_redis.core import BoundedQueue
from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer
from channels_redis.utils import _wrap_close


class _BoundedLoopLayer(RedisPubSubLoopLayer):
    def __init__(self, *args: Any, capacity: int = 100, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.capacity = capacity

    async def _subscribe_to_channel(self, channel: str) -> None:
        self.channels[channel] = BoundedQueue(self.capacity)
        await self._get_shard(channel).subscribe(channel)


class LiveChannelLayer(RedisPubSubChannelLayer):
    """CHANNEL_LAYERS' backend with Redis; CONFIG as channels_redis's pub/sub layer takes
    it, plus `capacity` (messages a connection may have waiting)."""

    def _get_layer(self) -> _BoundedLoopLayer:
        # One layer per event loop, as the parent's; only the class differs.
        loop = asyncio.get_running_loop()
        if loop not in self._layers:
            self._layers[loop] = _BoundedLoopLayer(*self._args, **self._kwargs, channel_layer=self)
            _wrap_close(self, loop)
        return self._layers[loop]
