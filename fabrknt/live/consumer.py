"""One `/ws/live` connection: refuses anonymous handshakes, answers subscriptions, and
pushes what `publish` sends to the channels it subscribed to.

The connection has no channel of its own in the channel layer: its process's hub
(fabrknt/live/fanout.py) receives each event once and puts its text on the connection's
outbox, whose writer sends it (or, under uvicorn's websockets-sansio protocol, the hub
writes the event's frame straight to the socket while the client keeps up:
fabrknt/live/direct.py). Slow clients are dropped, not buffered without bound: the
outbox holds LIVE_CHANNEL_CAPACITY texts (oldest dropped first), and a push the server
cannot hand to the client within LIVE_SEND_TIMEOUT_SECONDS (its write buffer is full:
uvicorn's websockets protocols make `send` wait while it is) closes the connection.

Access is checked again when it changes (fabrknt/live/access.py): a channel the user may no
longer see is dropped with `{"error": "not_found", "channel": …}` (the answer a subscription
to it gets), and a user deactivated or signed out everywhere is disconnected."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from typing import Any, cast

from asgiref.typing import WebSocketSendEvent
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from accounts.models import User
from fabrknt.live import access, fanout
from fabrknt.live.channels import channel_allowed
from fabrknt.live.direct import SERVER_SEND, frame_writer
from fabrknt.live.publish import group_name

logger = logging.getLogger(__name__)

# Close codes of our own (4000-4999 are the application's).
CLOSE_TOO_SLOW = 4008
CLOSE_SIGNED_OUT = 4003


def _active_user(pk: uuid.UUID) -> User | None:
    return User.objects.filter(pk=pk, is_active=True).first()


class LiveConsumer(AsyncJsonWebsocketConsumer):
    # No channel layer of its own (a Redis subscription and a receive task per connection):
    # the hub receives for every connection of the process.
    channel_layer_alias = "live-connections-have-none"

    subscriptions: set[str]
    outbox: fanout.Outbox | None
    dropped: asyncio.Event
    rechecks: set[asyncio.Task[None]]
    user: User | None  # the connection's, re-read when its access changes

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Channels' consumer, ended early when the hub's watchdog finds the client too slow."""
        self.subscriptions, self.outbox, self.dropped = set(), None, asyncio.Event()
        self.rechecks, self.user = set(), None
        serving = asyncio.ensure_future(super().__call__(scope, receive, send))
        dropped = asyncio.ensure_future(self.dropped.wait())
        try:
            await asyncio.wait([serving, dropped], return_when=asyncio.FIRST_COMPLETED)
            if serving.done():
                serving.result()
                return
            serving.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await serving
            # The close frame queues behind what the client did not read: do not wait on
            # it either; once the consumer returns, the server drops the connection.
            with contextlib.suppress(TimeoutError, OSError):
                async with asyncio.timeout(settings.LIVE_SEND_TIMEOUT_SECONDS):
                    await self.close(code=CLOSE_TOO_SLOW)
        finally:
            serving.cancel()
            dropped.cancel()
            await self._leave()

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close()  # before accept: the handshake is refused (HTTP 403)
            return
        self.user = cast(User, user)
        await access.watch(user.pk, self._access_changed)
        await self.accept()

    async def _leave(self) -> None:
        if self.user is not None:
            access.unwatch(self.user.pk, self._access_changed)
        for task in self.rechecks:
            task.cancel()
        if self.outbox is not None:
            groups = {group_name(channel) for channel in self.subscriptions}
            await fanout.hub().close_outbox(self.outbox, groups)

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        try:
            return json.loads(text_data)
        except ValueError:
            return None

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        channel = content.get("subscribe") if isinstance(content, dict) else None
        if not isinstance(channel, str):
            await self.send_json({"error": "invalid", "detail": 'Send {"subscribe": "<channel>"}.'})
            return
        if channel in self.subscriptions:
            await self.send_json({"subscribed": channel})
            return
        if len(self.subscriptions) >= settings.LIVE_MAX_SUBSCRIPTIONS:
            await self.send_json({"error": "too_many_subscriptions", "channel": channel})
            return
        user = cast(User, self.user)  # connect() let only a signed-in user in
        if not await database_sync_to_async(channel_allowed)(user=user, channel=channel):
            await self.send_json({"error": "not_found", "channel": channel})
            return
        if self.outbox is None:
            self.outbox = fanout.hub().outbox(
                send=self._push,
                on_stall=self._too_slow,
                write_frame=frame_writer(self.scope.get(SERVER_SEND)),
            )
        self.subscriptions.add(channel)
        await fanout.hub().subscribe(group_name(channel), self.outbox)
        await self.send_json({"subscribed": channel})

    def _access_changed(self) -> None:
        task = asyncio.ensure_future(self._recheck())
        self.rechecks.add(task)
        task.add_done_callback(self.rechecks.discard)

    async def _recheck(self) -> None:
        """The user's access changed: disconnect a user deactivated or signed out
        everywhere, drop the channels they may no longer see."""
        connected = cast(User, self.user)
        user = await database_sync_to_async(_active_user)(connected.pk)
        if user is None or user.session_generation != connected.session_generation:
            await self.close(code=CLOSE_SIGNED_OUT)
            return
        self.user = user
        for channel in sorted(self.subscriptions):
            if await database_sync_to_async(channel_allowed)(user=user, channel=channel):
                continue
            self.subscriptions.discard(channel)
            if self.outbox is not None:
                await fanout.hub().unsubscribe(group_name(channel), self.outbox)
            await self.send_json({"error": "not_found", "channel": channel})

    async def _push(self, message: fanout.Message) -> None:
        """Sends a published event (encoded once by `publish`, its ASGI message built once
        by the hub) straight to the server; the outbox's writer calls it."""
        try:
            # asgiref's types want a `bytes` key that the ASGI spec lets a text send omit.
            await self.base_send(cast(WebSocketSendEvent, message))
        except OSError:
            pass  # the client is gone: its disconnect ends the consumer

    def _too_slow(self) -> None:
        """The hub's watchdog found a push waiting longer than LIVE_SEND_TIMEOUT_SECONDS (the
        outbox is closed already): __call__ ends the consumer."""
        logger.warning(
            "Live client %s too slow (a push waited %ss): closing",
            self.scope.get("client"),
            settings.LIVE_SEND_TIMEOUT_SECONDS,
        )
        self.dropped.set()
