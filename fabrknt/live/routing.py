"""The WebSocket side of fabrknt/asgi.py."""

from __future__ import annotations

from channels.routing import URLRouter
from django.urls import path

from fabrknt.live.auth import LiveAuthMiddleware
from fabrknt.live.consumer import LiveConsumer


def websocket_application() -> LiveAuthMiddleware:
    # django.urls.path routes ASGI apps for channels' URLRouter, which its stubs do not say.
    routes = [path("ws/live", LiveConsumer.as_asgi())]  # type: ignore[arg-type]
    return LiveAuthMiddleware(URLRouter(routes))  # type: ignore[arg-type]
