"""Signed relays as our bot sends them, for the webhook tests."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from typing import Any

from django.test import Client
from django.utils import timezone

from pulse.discord.signature import relay_headers, relay_public_key_of
from pulse.models import Team

URL = "/api/v1/discord/webhook"
SEED = base64.b64encode(bytes(range(1, 33))).decode()
PUBLIC_KEY = relay_public_key_of(SEED)
GUILD = "811111111111111111"
CHANNEL = "822222222222222222"


def linked_team(team: Team, guild: str = GUILD) -> Team:
    """The team with our bot installed in `guild` through its install link."""
    team.discord_guild_id = guild
    team.discord_guild_verified_at = timezone.now()
    team.save()
    return team


def relay(
    event_type: str,
    event_id: str,
    author: str,
    at: dt.datetime,
    *,
    guild: str = GUILD,
    **fields: Any,
) -> dict[str, Any]:
    return {
        "type": event_type,
        "id": event_id,
        "guild_id": guild,
        "channel_id": CHANNEL,
        "author_id": author,
        "created_at": at.isoformat().replace("+00:00", "Z"),
        **fields,
    }


def post_signed(
    client: Client, payload: dict[str, Any] | bytes, *, seed: str = SEED, now: float | None = None
):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = relay_headers(seed_base64=seed, body=body, now=time.time() if now is None else now)
    return client.post(
        URL,
        data=body,
        content_type="application/json",
        headers={name: value for name, value in headers.items() if name != "Content-Type"},
    )
