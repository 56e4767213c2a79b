"""Our Discord bot: turns a server's activity into relay events and posts them, signed,
to the web tier (`POST /api/v1/discord/webhook`), so the bot can run apart from it.

What is relayed (never a message's text, only its length):

- a message → `message`; in a thread → `thread_message`; answering another message
  (Discord's reply) → `reply`, with the author it answers (`reply_to_author_id`);
- a reaction → `reaction`, with the message and its author;
- a member joining → `member_join`.

Bots (ours included), webhooks, system messages and direct messages are not relayed.
Each event's `id` is stable (the message's snowflake, or built from the reaction's or
join's parts), so a relay retried after a timeout is stored once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass

import aiohttp
import discord

from pulse.discord.payload import RelayEvent, relay_event_json
from pulse.discord.signature import relay_headers
from pulse.services.omotenashi import DiscordActivityKind

logger = logging.getLogger(__name__)

# Message types a person writes; joins, pins, boosts and the like are Discord's own.
_WRITTEN = {discord.MessageType.default, discord.MessageType.reply}


def _replied_author(message: discord.Message) -> discord.abc.User | None:
    reference = message.reference
    if reference is None:
        return None
    resolved = reference.resolved or reference.cached_message
    if isinstance(resolved, discord.Message):
        return resolved.author
    return None


def relay_event_of_message(message: discord.Message) -> RelayEvent | None:
    """The relay event of a message in a server, or None when it is not relayed."""
    if message.guild is None or message.author.bot or message.webhook_id is not None:
        return None
    if message.type not in _WRITTEN:
        return None
    replied = _replied_author(message) if message.type is discord.MessageType.reply else None
    if replied is not None:
        kind = DiscordActivityKind.REPLY
    elif isinstance(message.channel, discord.Thread):
        kind = DiscordActivityKind.THREAD_MESSAGE
    else:
        kind = DiscordActivityKind.MESSAGE
    return RelayEvent(
        type=kind,
        id=str(message.id),
        guild_id=str(message.guild.id),
        channel_id=str(message.channel.id),
        author_id=str(message.author.id),
        created_at=message.created_at,
        reply_to_author_id=str(replied.id) if replied is not None else None,
        message_id=str(message.reference.message_id)
        if replied is not None and message.reference and message.reference.message_id
        else None,
        content_length=len(message.content),
    )


def relay_event_of_reaction(
    reaction: discord.Reaction, user: discord.Member | discord.User, *, now: dt.datetime
) -> RelayEvent | None:
    """The relay event of a reaction added to a server message."""
    message = reaction.message
    if message.guild is None or user.bot:
        return None
    emoji = reaction.emoji
    # A custom emoji by its id (its name can change), a Unicode one as itself.
    emoji_key = str(emoji) if isinstance(emoji, str) or emoji.id is None else str(emoji.id)
    return RelayEvent(
        type=DiscordActivityKind.REACTION,
        id=f"reaction:{message.id}:{user.id}:{emoji_key}"[:120],
        guild_id=str(message.guild.id),
        channel_id=str(message.channel.id),
        author_id=str(user.id),
        created_at=now,
        reply_to_author_id=str(message.author.id),
        message_id=str(message.id),
    )


def relay_event_of_member_join(member: discord.Member, *, now: dt.datetime) -> RelayEvent | None:
    if member.bot:
        return None
    return RelayEvent(
        type=DiscordActivityKind.MEMBER_JOIN,
        id=f"join:{member.guild.id}:{member.id}",
        guild_id=str(member.guild.id),
        # A join happens in no channel: the server's system channel, else the guild itself.
        channel_id=str(
            member.guild.system_channel.id if member.guild.system_channel else member.guild.id
        ),
        author_id=str(member.id),
        created_at=member.joined_at or now,
    )


@dataclass
class RelaySender:
    """Posts signed relay events, retrying what may succeed later (no answer, 429, 5xx)
    with exponential back-off. Repeats are harmless: the webhook is idempotent on `id`.
    Each attempt is signed anew, so a retry is never refused as stale."""

    url: str
    seed_base64: str
    attempts: int = 5
    first_delay: float = 1.0
    timeout: float = 10.0

    async def send(self, session: aiohttp.ClientSession, event: RelayEvent) -> int | None:
        """The final status of the relay (None: never answered)."""
        body = relay_event_json(event)
        delay = self.first_delay
        status: int | None = None
        for attempt in range(1, self.attempts + 1):
            headers = relay_headers(seed_base64=self.seed_base64, body=body)
            try:
                async with session.post(
                    self.url,
                    data=body,
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=self.timeout),
                ) as response:
                    status = response.status
                    retry_after = response.headers.get("Retry-After", "")
            except (aiohttp.ClientError, TimeoutError) as error:
                logger.warning("Relay %s attempt %s failed: %s", event.id, attempt, error)
                status, retry_after = None, ""
            if status is not None and status < 500 and status != 429:
                if status >= 400:
                    logger.error("Relay %s refused with %s", event.id, status)
                return status
            if attempt < self.attempts:
                wait = float(retry_after) if retry_after.isdigit() else delay
                await asyncio.sleep(wait)
                delay *= 2
        logger.error("Relay %s gave up after %s attempts (%s)", event.id, self.attempts, status)
        return status


def bot_intents() -> discord.Intents:
    """Servers, their messages and reactions, members joining, and the messages' content
    (privileged: switch on "Message Content" and "Server Members" for the application in
    Discord's developer portal) — read only to count its length."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.guild_reactions = True
    intents.members = True
    intents.message_content = True
    return intents


class RelayBot(discord.Client):
    """The bot's event handlers: build the relay event, post it."""

    def __init__(self, *, sender: RelaySender, **options: object) -> None:
        super().__init__(intents=bot_intents(), **options)  # type: ignore[arg-type]
        self.sender = sender
        self._session: aiohttp.ClientSession | None = None

    async def setup_hook(self) -> None:
        self._session = aiohttp.ClientSession()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        await super().close()

    async def relay(self, event: RelayEvent | None) -> int | None:
        if event is None:
            return None
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return await self.sender.send(self._session, event)

    async def on_message(self, message: discord.Message) -> None:
        await self.relay(relay_event_of_message(message))

    async def on_reaction_add(
        self, reaction: discord.Reaction, user: discord.Member | discord.User
    ) -> None:
        await self.relay(relay_event_of_reaction(reaction, user, now=discord.utils.utcnow()))

    async def on_member_join(self, member: discord.Member) -> None:
        await self.relay(relay_event_of_member_join(member, now=discord.utils.utcnow()))
