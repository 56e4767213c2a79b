"""The per-process fan-out of live events: one channel-layer receiver per live channel and
process, which hands each event's text (encoded once, by `publish`) to the bounded outbox
of every connection of this process subscribed to it.

Why not a channel-layer group member per connection (Channels' usual pattern, and how
/ws/live first worked): the layer then delivers an event to each consumer's own queue and
each consumer wakes through Channels' dispatch (a task and an `asyncio.wait` per message)
to send it: about 280 µs of server CPU a delivery, so an event took over a quarter second
to reach 1,000 connections (bench/ws.py, README "Live updates"). Here the layer carries an
event once per process (`LocalChannel`, a member of the channel's group), and a delivery
costs appending to a deque and waking the connection's writer, which hands the text to
the ASGI server (uvicorn frames it and writes it to the socket).

Under uvicorn's websockets-sansio protocol (production, bench/ws.py) even that is skipped
while a connection keeps up: a server's frames are unmasked, so the receiver frames an
event once and a push writes those bytes straight to each connection's transport
(fabrknt/live/direct.py), with no task woken; only a connection whose socket is full, or
that has messages waiting, goes through its outbox's writer and the ASGI `send` (as every
connection does under another server, e.g. daphne in `make run`).

Memory stays bounded per connection: its outbox holds LIVE_CHANNEL_CAPACITY messages and
drops the oldest beyond (live data: the newest counters supersede the older); a client
whose socket does not take a push within LIVE_SEND_TIMEOUT_SECONDS is found by the hub's
watchdog and dropped by its consumer (fabrknt/live/consumer.py)."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Protocol
from weakref import WeakKeyDictionary

from channels.layers import BaseChannelLayer, get_channel_layer
from django.conf import settings

from fabrknt.live.direct import text_frame

logger = logging.getLogger(__name__)

# What the receiver hands the outboxes: the ASGI message `{"type": "websocket.send",
# "text": …}`, built once per event and process and shared (the server only reads it).
Message = dict[str, str]
Send = Callable[[Message], Awaitable[None]]
# Writes an event's frame (bytes, framed once by the receiver) to the connection now, if it
# can (fabrknt/live/direct.py): False when the connection cannot take it right now.
WriteFrame = Callable[[bytes], bool]


class Subscriber(Protocol):
    """What a live channel's receiver hands each event to: a connection's `Outbox`, or the
    process's access watchers (fabrknt/live/access.py)."""

    def push(self, message: Message, frame: bytes | None = None) -> None: ...


class Outbox:
    """What waits to be sent to one connection, at most `capacity` messages, and the task that
    sends them in order through `send` (which waits while the client's socket is full).

    `sending_since` is when the send under way began (None between sends): the hub's
    watchdog reads it to find stalled clients, which costs a push two attribute writes
    where a timeout around each send (asyncio.timeout) cost about 10 µs.

    With `write_frame` (uvicorn's websockets-sansio protocol), a push with nothing waiting
    before it writes the event's frame straight away, and the writer task only serves the
    messages that had to wait (the socket was full, or messages were waiting already), so
    the order of messages holds either way."""

    def __init__(
        self,
        *,
        capacity: int,
        send: Send,
        on_stall: Callable[[], None],
        write_frame: WriteFrame | None = None,
    ) -> None:
        self.pending: deque[Message] = deque(maxlen=capacity)
        self.ready = asyncio.Event()
        self.sending_since: float | None = None
        self.on_stall = on_stall
        self.write_frame = write_frame
        self.writer = asyncio.create_task(self._write(send))

    def push(self, message: Message, frame: bytes | None = None) -> None:
        """Queues `message`, or writes `frame` (the same message, framed) right away when
        nothing waits before it and the connection takes it."""
        if (
            frame is not None
            and self.write_frame is not None
            and not self.pending
            and self.sending_since is None
            and self.write_frame(frame)
        ):
            return
        self.pending.append(message)  # a full deque drops its oldest
        self.ready.set()

    async def _write(self, send: Send) -> None:
        clock = asyncio.get_running_loop().time
        while True:
            await self.ready.wait()
            self.ready.clear()
            while self.pending:
                self.sending_since = clock()
                await send(self.pending.popleft())
                self.sending_since = None

    def close(self) -> None:
        self.write_frame = None
        self.writer.cancel()
        self.pending.clear()


class LocalChannel:
    """A live channel's subscribers in this process: one channel of the layer, a member of
    the channel's group, whose receiver pushes each event to every subscriber's outbox."""

    def __init__(self, layer: BaseChannelLayer, group: str) -> None:
        self.layer = layer
        self.group = group
        self.outboxes: set[Subscriber] = set()
        self.receiver: asyncio.Task[None] | None = None
        self.name = ""  # the layer's channel while the receiver runs
        self.joined = asyncio.Lock()  # group_add/group_discard in order, one at a time

    async def add(self, outbox: Subscriber) -> None:
        async with self.joined:
            if self.receiver is None:
                self.name = await self.layer.new_channel()
                await self.layer.group_add(self.group, self.name)
                self.receiver = asyncio.create_task(self._receive(self.name))
            self.outboxes.add(outbox)

    async def remove(self, outbox: Subscriber) -> bool:
        """Whether this was the last subscriber (the channel then left the group)."""
        async with self.joined:
            self.outboxes.discard(outbox)
            if self.outboxes or self.receiver is None:
                return False
            # channels_redis unsubscribes a channel whose receive is cancelled.
            self.receiver.cancel()
            self.receiver = None
            await self.layer.group_discard(self.group, self.name)
            return True

    async def _receive(self, name: str) -> None:
        while True:
            try:
                message = await self.layer.receive(name)
            except asyncio.CancelledError:
                raise
            except Exception:  # the layer reconnects on its own; keep listening
                logger.exception("Live channel %s: receive failed", self.group)
                await asyncio.sleep(1)
                continue
            text = message.get("text")
            if isinstance(text, str):
                shared = {"type": "websocket.send", "text": text}
                frame = text_frame(text)
                for outbox in tuple(self.outboxes):
                    outbox.push(shared, frame)


class Hub:
    """The live channels with subscribers in this process (one hub per event loop, as the
    channel layer keeps one Redis connection set per loop), and the watchdog that finds
    the connections whose send has waited longer than `stall_seconds`."""

    def __init__(self, layer: BaseChannelLayer, *, capacity: int, stall_seconds: float) -> None:
        self.layer = layer
        self.capacity = capacity
        self.stall_seconds = stall_seconds
        self.channels: dict[str, LocalChannel] = {}
        self.outboxes: set[Outbox] = set()
        self.watchdog: asyncio.Task[None] | None = None

    def outbox(
        self, *, send: Send, on_stall: Callable[[], None], write_frame: WriteFrame | None = None
    ) -> Outbox:
        """A connection's outbox, watched until `close_outbox`."""
        outbox = Outbox(
            capacity=self.capacity, send=send, on_stall=on_stall, write_frame=write_frame
        )
        self.outboxes.add(outbox)
        if self.watchdog is None:
            self.watchdog = asyncio.create_task(self._watch())
        return outbox

    async def close_outbox(self, outbox: Outbox, groups: set[str]) -> None:
        outbox.close()
        self.outboxes.discard(outbox)
        if not self.outboxes and self.watchdog is not None:
            # Nothing to watch: no task keeps an idle hub's event loop alive.
            self.watchdog.cancel()
            self.watchdog = None
        for group in groups:
            await self.unsubscribe(group, outbox)

    async def _watch(self) -> None:
        clock = asyncio.get_running_loop().time
        while True:
            await asyncio.sleep(self.stall_seconds / 4)
            now = clock()
            for outbox in tuple(self.outboxes):
                since = outbox.sending_since
                if since is not None and now - since > self.stall_seconds:
                    outbox.close()
                    self.outboxes.discard(outbox)
                    outbox.on_stall()

    async def subscribe(self, group: str, outbox: Subscriber) -> None:
        local = self.channels.get(group)
        if local is None:
            local = self.channels[group] = LocalChannel(self.layer, group)
        await local.add(outbox)

    async def unsubscribe(self, group: str, outbox: Subscriber) -> None:
        local = self.channels.get(group)
        if local is not None and await local.remove(outbox) and not local.outboxes:
            if self.channels.get(group) is local:
                del self.channels[group]


_hubs: WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = WeakKeyDictionary()


def hub() -> Hub:
    """This event loop's hub, on the default channel layer."""
    loop = asyncio.get_running_loop()
    found = _hubs.get(loop)
    if found is None:
        layer = get_channel_layer()
        if layer is None:
            raise RuntimeError("/ws/live needs CHANNEL_LAYERS")
        found = _hubs[loop] = Hub(
            layer,
            capacity=settings.LIVE_CHANNEL_CAPACITY,
            stall_seconds=settings.LIVE_SEND_TIMEOUT_SECONDS,
        )
    return found
