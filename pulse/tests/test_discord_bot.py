"""The bot's event handling (pulse/discord/bot.py) with discord.py's own objects, and its
sender against a local HTTP server that checks the signature as the web tier does."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from nacl.signing import SigningKey

from pulse.discord.bot import (
    RelayBot,
    RelaySender,
    relay_event_of_member_join,
    relay_event_of_message,
    relay_event_of_reaction,
)
from pulse.discord.signature import relay_public_key_of, relay_signature_valid
from pulse.tests.discord_objects import CHANNEL_ID, GUILD_ID, SENT_AT, THREAD_ID, Server, user

ALICE = user(501, "alice")
BOB = user(502, "bob")
A_BOT = user(599, "helper-bot", bot=True)
SEED = base64.b64encode(bytes(range(32))).decode()


def test_a_message_is_relayed_with_its_length_never_its_text():
    server = Server()
    message = server.message(author=ALICE, content="How do I run the indexer locally?")
    event = relay_event_of_message(message)
    assert event is not None
    assert event.model_dump(exclude_none=True, mode="json") == {
        "type": "message",
        "id": str(message.id),
        "guild_id": str(GUILD_ID),
        "channel_id": str(CHANNEL_ID),
        "author_id": "501",
        "created_at": "2026-11-30T10:00:00Z",
        "content_length": 33,
    }
    assert "indexer" not in json.dumps(event.model_dump(mode="json"))


def test_a_reply_names_the_author_it_answers():
    server = Server()
    question = server.message(author=ALICE, content="How do I run the indexer locally?")
    answer = server.reply(
        question, author=BOB, content="make run starts it", at=SENT_AT + dt.timedelta(minutes=3)
    )
    event = relay_event_of_message(answer)
    assert event is not None
    assert (event.type, event.author_id, event.reply_to_author_id, event.message_id) == (
        "reply",
        "502",
        "501",
        str(question.id),
    )
    assert event.created_at == SENT_AT + dt.timedelta(minutes=3)
    assert event.content_length == 18


def test_thread_messages_reactions_and_joins():
    server = Server()
    in_thread = server.message(channel=server.thread, author=BOB, content="see the README")
    event = relay_event_of_message(in_thread)
    assert event is not None
    assert (event.type, event.channel_id) == ("thread_message", str(THREAD_ID))

    answer = server.message(author=BOB, content="make run starts it")
    now = SENT_AT + dt.timedelta(minutes=5)
    reacted = relay_event_of_reaction(
        server.reaction(answer), server.member(ALICE, joined_at=SENT_AT), now=now
    )
    assert reacted is not None
    assert reacted.model_dump(exclude_none=True, mode="json") == {
        "type": "reaction",
        "id": f"reaction:{answer.id}:501:👍",
        "guild_id": str(GUILD_ID),
        "channel_id": str(CHANNEL_ID),
        "author_id": "501",
        "created_at": "2026-11-30T10:05:00Z",
        "reply_to_author_id": "502",
        "message_id": str(answer.id),
    }

    joined = relay_event_of_member_join(server.member(BOB, joined_at=SENT_AT), now=now)
    assert joined is not None
    assert (joined.type, joined.id, joined.author_id, joined.created_at) == (
        "member_join",
        f"join:{GUILD_ID}:502",
        "502",
        SENT_AT,
    )


def test_bots_system_messages_and_direct_messages_are_not_relayed():
    server = Server()
    assert relay_event_of_message(server.message(author=A_BOT, content="beep")) is None
    pinned = server.message(author=ALICE, content="", type=6)  # "pinned a message"
    assert relay_event_of_message(pinned) is None
    assert relay_event_of_member_join(server.member(A_BOT, joined_at=SENT_AT), now=SENT_AT) is None
    answer = server.message(author=BOB, content="yes")
    assert (
        relay_event_of_reaction(
            server.reaction(answer), server.member(A_BOT, joined_at=SENT_AT), now=SENT_AT
        )
        is None
    )


class _Recorder(BaseHTTPRequestHandler):
    """A stand-in web tier: answers each request with the next status of `statuses`."""

    statuses: list[int] = []
    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        status = type(self).statuses.pop(0) if type(self).statuses else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def relay_target():
    _Recorder.statuses = []
    _Recorder.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/v1/discord/webhook", _Recorder
    server.shutdown()
    server.server_close()


def test_the_bot_signs_and_retries_until_the_web_tier_takes_it(relay_target):
    url, recorder = relay_target
    recorder.statuses = [503, 502]  # twice unavailable, then taken
    bot = RelayBot(sender=RelaySender(url=url, seed_base64=SEED, first_delay=0.01))
    server = Server()
    message = server.message(author=ALICE, content="gm builders")

    async def run() -> int | None:
        try:
            await bot.on_message(message)
            return len(recorder.received)
        finally:
            await bot.close()

    assert asyncio.run(run()) == 3
    public_key = relay_public_key_of(SEED)
    assert public_key == base64.b64encode(bytes(SigningKey(bytes(range(32))).verify_key)).decode()
    bodies = {body for _, body in recorder.received}
    assert len(bodies) == 1  # the same event each time: the webhook stores it once
    for headers, body in recorder.received:
        assert relay_signature_valid(
            public_key_base64=public_key,
            body=body,
            signature=headers["X-Signature-Ed25519"],
            timestamp=headers["X-Signature-Timestamp"],
            max_age_seconds=300,
        )
    assert json.loads(body) == {
        "type": "message",
        "id": str(message.id),
        "guild_id": str(GUILD_ID),
        "channel_id": str(CHANNEL_ID),
        "author_id": "501",
        "created_at": "2026-11-30T10:00:00Z",
        "content_length": 11,
    }


def test_a_refusal_is_not_retried(relay_target):
    url, recorder = relay_target
    recorder.statuses = [401]
    sender = RelaySender(url=url, seed_base64=SEED, first_delay=0.01)
    event = relay_event_of_message(Server().message(author=ALICE, content="gm"))
    assert event is not None

    async def run() -> int | None:
        import aiohttp

        async with aiohttp.ClientSession() as session:
            return await sender.send(session, event)

    assert asyncio.run(run()) == 401
    assert len(recorder.received) == 1
