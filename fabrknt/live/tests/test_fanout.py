"""The per-process fan-out (fabrknt/live/fanout.py): connections of one process share one
receiver per live channel, which leaves the group with the last of them; an outbox keeps
the newest texts only; the watchdog finds a send that waits too long."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator

from fabrknt.asgi import application
from fabrknt.live import fanout
from fabrknt.live.publish import group_name, publish
from fabrknt.live.tokens import live_token_issue

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]


def test_connections_of_a_process_share_one_receiver_until_the_last_leaves(member_campaign):
    user, campaign = member_campaign
    channel = f"campaign:{campaign.pk}"
    tokens = [live_token_issue(user=user).token for _ in range(3)]

    async def scenario():
        clients = [WebsocketCommunicator(application, f"/ws/live?token={t}") for t in tokens]
        for client in clients:
            assert (await client.connect())[0]
            await client.send_json_to({"subscribe": channel})
            assert await client.receive_json_from() == {"subscribed": channel}
        local = fanout.hub().channels[group_name(channel)]
        assert len(local.outboxes) == 3 and local.receiver is not None

        await sync_to_async(publish)(channel, "click", {"clicks": 1})
        for client in clients:
            assert (await client.receive_json_from(timeout=5))["data"] == {"clicks": 1}

        await clients[0].disconnect()
        await sync_to_async(publish)(channel, "click", {"clicks": 2})
        for client in clients[1:]:
            assert (await client.receive_json_from(timeout=5))["data"] == {"clicks": 2}
        assert await clients[0].receive_nothing()

        for client in clients[1:]:
            await client.disconnect()
        assert group_name(channel) not in fanout.hub().channels
        assert not fanout.hub().outboxes and fanout.hub().watchdog is None

    async_to_sync(scenario)()


def test_an_outbox_keeps_the_newest_texts_in_order():
    async def scenario():
        sent: list[str] = []
        taken = asyncio.Event()

        async def send(message: fanout.Message) -> None:
            await taken.wait()  # a client that does not read yet
            sent.append(message["text"])

        outbox = fanout.Outbox(capacity=3, send=send, on_stall=lambda: None)
        for n in range(10):
            outbox.push({"type": "websocket.send", "text": str(n)})
            await asyncio.sleep(0)  # the writer takes "0" and waits in send
        assert [message["text"] for message in outbox.pending] == ["7", "8", "9"]
        taken.set()
        while len(sent) < 4:
            await asyncio.sleep(0.01)
        assert sent == ["0", "7", "8", "9"]
        outbox.close()

    asyncio.run(scenario())


def test_the_watchdog_drops_a_send_that_waits_too_long():
    async def scenario():
        hub = fanout.Hub(layer=None, capacity=10, stall_seconds=0.2)  # type: ignore[arg-type]
        stalled = asyncio.Event()
        never = asyncio.Event()

        async def send(message: fanout.Message) -> None:
            await never.wait()

        outbox = hub.outbox(send=send, on_stall=stalled.set)
        outbox.push({"type": "websocket.send", "text": "x"})
        await asyncio.wait_for(stalled.wait(), 2)
        assert outbox not in hub.outboxes
        await asyncio.sleep(0)
        assert outbox.writer.cancelled()
        hub.watchdog.cancel()  # type: ignore[union-attr]

    asyncio.run(scenario())
