"""Pushing an event to the subscribers of a live channel, from sync code (services, Celery
tasks). Live updates are best effort: a channel layer that is down costs a log line, never
the caller's work."""

from __future__ import annotations

import json
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from fabrknt.redis_backoff import REDIS_ERRORS

logger = logging.getLogger(__name__)

# The consumer's handler for these messages (LiveConsumer.live_event).
MESSAGE_TYPE = "live.event"


def group_name(channel: str) -> str:
    """The channel layer's group of a live channel ("campaign:<uuid>" → "live.campaign.<uuid>"):
    group names allow no colon."""
    return "live." + channel.replace(":", ".")


def publish(channel: str, event: str, data: Any) -> None:
    """Send `{"channel", "event", "data", "at"}` to every connection subscribed to `channel`.

    The message is encoded once here, not once per connection."""
    layer = get_channel_layer()
    if layer is None:
        return
    text = json.dumps(
        {"channel": channel, "event": event, "data": data, "at": timezone.now().isoformat()},
        cls=DjangoJSONEncoder,
        separators=(",", ":"),
    )
    try:
        async_to_sync(layer.group_send)(group_name(channel), {"type": MESSAGE_TYPE, "text": text})
    except REDIS_ERRORS as error:
        logger.warning("Live update %s on %s not sent: %s", event, channel, error)
