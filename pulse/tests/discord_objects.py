"""discord.py's own objects, built from gateway-shaped payloads on a real ConnectionState
(as discord.py's tests build them): a server with a channel and a thread, its members,
their messages, replies and reactions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import discord

GUILD_ID = 811111111111111111
CHANNEL_ID = 822222222222222222
THREAD_ID = 833333333333333333
SENT_AT = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)


def user(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {"id": str(user_id), "username": name, "discriminator": "0", "avatar": None, "bot": bot}


class Server:
    """One Discord server as the bot's cache holds it."""

    def __init__(self, guild_id: int = GUILD_ID) -> None:
        self.client = discord.Client(intents=discord.Intents.none())
        self.state = self.client._connection
        self.guild = discord.Guild(data={"id": str(guild_id), "name": "Builders"}, state=self.state)
        self.channel = discord.TextChannel(
            state=self.state,
            guild=self.guild,
            data={"id": str(CHANNEL_ID), "type": 0, "name": "general", "position": 0},
        )
        self.thread = discord.Thread(
            guild=self.guild,
            state=self.state,
            data={
                "id": str(THREAD_ID),
                "parent_id": str(CHANNEL_ID),
                "owner_id": "1",
                "name": "help",
                "type": 11,
                "message_count": 1,
                "member_count": 1,
                "thread_metadata": {
                    "archived": False,
                    "auto_archive_duration": 1440,
                    "archive_timestamp": SENT_AT.isoformat(),
                    "locked": False,
                },
            },
        )

    def message_data(
        self,
        *,
        author: dict[str, Any],
        content: str,
        at: dt.datetime = SENT_AT,
        channel: discord.abc.Messageable | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        channel = channel or self.channel
        return {
            "id": str(discord.utils.time_snowflake(at)),
            "channel_id": str(channel.id),  # type: ignore[attr-defined]
            "guild_id": str(self.guild.id),
            "content": content,
            "author": author,
            "timestamp": at.isoformat(),
            "edited_timestamp": None,
            "type": 0,
            "attachments": [],
            "embeds": [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": False,
            **extra,
        }

    def message(self, *, channel: Any = None, **fields: Any) -> discord.Message:
        channel = channel or self.channel
        data = self.message_data(channel=channel, **fields)
        return discord.Message(state=self.state, channel=channel, data=data)  # type: ignore[arg-type]

    def reply(
        self, to: discord.Message, *, author: dict[str, Any], content: str, at: dt.datetime
    ) -> discord.Message:
        original = self.message_data(
            author={
                "id": str(to.author.id),
                "username": to.author.name,
                "discriminator": "0",
                "avatar": None,
            },
            content=to.content,
            at=to.created_at,
        )
        original["id"] = str(to.id)
        return self.message(
            author=author,
            content=content,
            at=at,
            type=19,
            message_reference={
                "message_id": str(to.id),
                "channel_id": str(self.channel.id),
                "guild_id": str(self.guild.id),
            },
            referenced_message=original,
        )

    def reaction(self, to: discord.Message, emoji: str = "👍") -> discord.Reaction:
        return discord.Reaction(
            message=to, data={"count": 1, "me": False, "emoji": {"id": None, "name": emoji}}
        )

    def member(self, data: dict[str, Any], *, joined_at: dt.datetime) -> discord.Member:
        return discord.Member(
            data={
                "user": data,
                "roles": [],
                "joined_at": joined_at.isoformat(),
                "deaf": False,
                "mute": False,
                "flags": 0,
            },
            guild=self.guild,
            state=self.state,
        )
