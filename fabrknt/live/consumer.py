"""One `/ws/live` connection: refuses anonymous handshakes, answers subscriptions, and
pushes what `publish` sends to the channels it subscribed to.

Slow clients are dropped, not buffered without bound: what waits for a connection in the
channel layer is capped (settings.LIVE_CHANNEL_CAPACITY, oldest dropped first), and a push
the server cannot hand to the client within LIVE_SEND_TIMEOUT_SECONDS (its write buffer is
full: uvicorn's websockets protocols make `send` wait while it is) closes the
connection."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any, cast

from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from accounts.models import User
from fabrknt.live.channels import channel_allowed
from fabrknt.live.publish import group_name

logger = logging.getLogger(__name__)

# Close codes of our own (4000-4999 are the application's).
CLOSE_TOO_SLOW = 4008


class LiveConsumer(AsyncJsonWebsocketConsumer):
    subscriptions: set[str]

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close()  # before accept: the handshake is refused (HTTP 403)
            return
        self.subscriptions = set()
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for channel in getattr(self, "subscriptions", ()):
            await self.channel_layer.group_discard(group_name(channel), self.channel_name)

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
        user = cast(User, self.scope["user"])  # connect() let only a signed-in user in
        if not await database_sync_to_async(channel_allowed)(user=user, channel=channel):
            await self.send_json({"error": "not_found", "channel": channel})
            return
        await self.channel_layer.group_add(group_name(channel), self.channel_name)
        self.subscriptions.add(channel)
        await self.send_json({"subscribed": channel})

    async def live_event(self, message: dict[str, Any]) -> None:
        """A published event (already encoded once by `publish`)."""
        try:
            async with asyncio.timeout(settings.LIVE_SEND_TIMEOUT_SECONDS):
                await self.send(text_data=message["text"])
        except TimeoutError:
            logger.warning(
                "Live client %s too slow (a push waited %ss): closing",
                self.channel_name,
                settings.LIVE_SEND_TIMEOUT_SECONDS,
            )
            await self.disconnect(CLOSE_TOO_SLOW)
            # The close frame queues behind what the client did not read: do not wait on
            # it either; once the consumer stops, the server drops the connection.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(settings.LIVE_SEND_TIMEOUT_SECONDS):
                    await self.close(code=CLOSE_TOO_SLOW)
            raise StopConsumer() from None
