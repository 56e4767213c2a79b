"""Access that ends while a `/ws/live` connection is open: a member taken out of an
organization, a user deactivated or no longer staff, "sign out everywhere".

The service that changes someone's access calls `access_changed` (the event goes out once
the transaction commits). Every process has one subscriber to the `access` channel (not
one per user: a Redis subscription each), which hands the event to the connections of
that user in this process; each then re-reads its user and re-checks its subscriptions
(fabrknt/live/consumer.py). No client can subscribe to `access` itself: it is no channel
`channel_allowed` knows.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable
from weakref import WeakKeyDictionary

from django.db import transaction

from fabrknt.live import fanout
from fabrknt.live.publish import group_name, publish
from fabrknt.redis_backoff import REDIS_ERRORS

logger = logging.getLogger(__name__)

ACCESS_CHANNEL = "access"
ACCESS_EVENT = "access_changed"
GROUP = group_name(ACCESS_CHANNEL)

Callback = Callable[[], None]


def access_changed(*, user_id: uuid.UUID) -> None:
    """The user's access may be smaller now: their open connections re-check it once the
    current transaction commits."""
    transaction.on_commit(lambda: publish(ACCESS_CHANNEL, ACCESS_EVENT, {"user": str(user_id)}))


class Watchers:
    """This process's connections by user: the access channel's one subscriber here."""

    def __init__(self) -> None:
        self.by_user: dict[str, set[Callback]] = {}
        self.subscribed = False

    def push(self, message: fanout.Message, frame: bytes | None = None) -> None:
        try:
            user = json.loads(message["text"])["data"]["user"]
        except (ValueError, KeyError, TypeError):
            return
        for callback in tuple(self.by_user.get(str(user), ())):
            callback()


_watchers: WeakKeyDictionary[asyncio.AbstractEventLoop, Watchers] = WeakKeyDictionary()


def _this_loops() -> Watchers:
    loop = asyncio.get_running_loop()
    found = _watchers.get(loop)
    if found is None:
        found = _watchers[loop] = Watchers()
    return found


async def watch(user_id: object, callback: Callback) -> None:
    """Calls `callback` (in this event loop) whenever the user's access changes."""
    watchers = _this_loops()
    watchers.by_user.setdefault(str(user_id), set()).add(callback)
    if not watchers.subscribed:
        try:
            await fanout.hub().subscribe(GROUP, watchers)
        except REDIS_ERRORS as error:
            # The connection still serves; the next one to open here tries again.
            logger.warning("Live access changes not followed in this process: %s", error)
            return
        watchers.subscribed = True


def unwatch(user_id: object, callback: Callback) -> None:
    watchers = _this_loops()
    callbacks = watchers.by_user.get(str(user_id))
    if callbacks is not None:
        callbacks.discard(callback)
        if not callbacks:
            del watchers.by_user[str(user_id)]
