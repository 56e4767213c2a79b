"""The WebSocket side of fabrknt/asgi.py."""

from __future__ import annotations

from channels.routing import URLRouter
from django.urls import path

from fabrknt.live.auth import LiveAuthMiddleware
from fabrknt.live.consumer import LiveConsumer


def websocket_application() -> LiveAuthMiddleware:
    return LiveAuthMiddleware(URLRouter([path("ws/live", LiveConsumer.as_asgi())]))
