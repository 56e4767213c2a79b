"""The relay payload (API.md, PULSE): what our bot tells the web tier about one Discord
activity. Never a message's text: only its length.

    {type, id, guild_id, channel_id, author_id, created_at,
     reply_to_author_id?, message_id?, content_length?}

`id` is the activity's own stable id (the message's snowflake; for a reaction
`reaction:<message>:<user>:<emoji>`; for a join `join:<guild>:<user>`), so a relay sent
twice is stored once. For a reaction, `message_id` is the message reacted to and
`reply_to_author_id` that message's author.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidationError, WithJsonSchema

from fabrknt.chain.wire import PayloadError, Text, WireModel, payload_errors
from pulse.services.omotenashi import DiscordActivityKind

Snowflake = Annotated[
    str,
    Field(pattern=r"^[0-9]{1,20}$"),
    WithJsonSchema(
        {"type": "string", "pattern": "^[0-9]{1,20}$", "example": "1045678901234567890"}
    ),
]
MAX_CONTENT_LENGTH = 1_000_000


def _aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("Expected a time with its UTC offset (ISO-8601).")
    return value.astimezone(dt.UTC)


class RelayEvent(WireModel):
    type: DiscordActivityKind
    id: Annotated[Text, Field(min_length=1, max_length=120)]
    guild_id: Snowflake
    channel_id: Snowflake
    author_id: Snowflake
    created_at: Annotated[dt.datetime, AfterValidator(_aware)]
    reply_to_author_id: Snowflake | None = None
    message_id: Snowflake | None = None
    content_length: Annotated[int, Field(ge=0, le=MAX_CONTENT_LENGTH)] | None = None


def relay_event_parse(document: Any) -> RelayEvent:
    """The relay's JSON document validated; a `PayloadError` (400) otherwise."""
    try:
        return RelayEvent.model_validate(document)
    except ValidationError as error:
        raise PayloadError(payload_errors(error)) from error


def relay_event_json(event: RelayEvent) -> bytes:
    """The body the bot signs and posts."""
    return event.model_dump_json(exclude_none=True).encode()
