"""Who is connecting to `/ws/live`: the user of a `?token=` (live_token_consume), else the
session's user, else nobody (the consumer then refuses the handshake).

The origin check guards the session only: a browser sends the cookie with a handshake any
site opens (cross-site WebSocket hijacking), so a session counts only from an allowed
origin. A token is no ambient credential (the client sent it on purpose), so a token
handshake needs no Origin header, as non-browser clients send none.

The middleware is the first to see the server's own `send` (the session middleware wraps
it), so it keeps it in the scope for the hub's direct frame writes (fabrknt/live/direct.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.security.websocket import AllowedHostsOriginValidator
from django.contrib.auth.models import AnonymousUser

from fabrknt.live.direct import SERVER_SEND
from fabrknt.live.tokens import live_token_consume

ASGIApp = Any


class LiveAuthMiddleware:
    def __init__(self, inner: ASGIApp) -> None:
        self.inner = inner
        self.with_session = AllowedHostsOriginValidator(AuthMiddlewareStack(inner))

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        scope = {**scope, SERVER_SEND: send}
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        tokens = query.get("token")
        if not tokens:
            return await self.with_session(scope, receive, send)
        user = await database_sync_to_async(live_token_consume)(tokens[0])
        return await self.inner({**scope, "user": user or AnonymousUser()}, receive, send)
