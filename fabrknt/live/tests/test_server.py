"""/ws/live on the production ASGI server (a uvicorn process): a client of it receives the
click counters the flush publishes, and a client that stops reading is dropped while the
others keep receiving."""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import time
import uuid

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from websockets.sync.client import connect

from accounts.tests.factories import MembershipFactory
from fabrknt.live.publish import MESSAGE_TYPE, group_name
from fabrknt.live.tokens import live_token_issue
from trace.services.clicks.flush import clicks_flush
from trace.services.clicks.stream import clicks_store
from trace.services.clicks.validation import ClickInput
from trace.tests.factories import CampaignFactory, ProjectFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]

DESKTOP = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0 Safari/537.36"


@pytest.fixture
def member_campaign(redis_client):
    membership = MembershipFactory()
    project = ProjectFactory(organization=membership.organization)
    return membership.user, CampaignFactory(project=project)


def test_a_client_receives_the_click_counters_of_a_flush(asgi_server, member_campaign):
    user, campaign = member_campaign
    server = asgi_server()
    channel = f"campaign:{campaign.pk}"
    url = f"ws://127.0.0.1:{server.port}/ws/live?token={live_token_issue(user=user).token}"
    with connect(url, open_timeout=10) as websocket:
        websocket.send(json.dumps({"subscribe": channel}))
        assert json.loads(websocket.recv(timeout=10)) == {"subscribed": channel}
        clicks = [
            ClickInput(
                campaign_id=str(campaign.pk),
                click_id=str(uuid.uuid4()),
                user_agent=DESKTOP,
                ip_address=f"198.51.100.{n}",
            )
            for n in range(3)
        ]
        clicks_store(clicks=clicks)  # the stream: nothing is published per click
        with pytest.raises(TimeoutError):
            websocket.recv(timeout=0.5)
        assert clicks_flush().inserted == 3
        message = json.loads(websocket.recv(timeout=10))
    assert (message["channel"], message["event"]) == (channel, "click")
    assert message["data"] == {
        "campaign": str(campaign.pk),
        "date": message["at"][:10],
        "clicks": 3,
        "bot_clicks": 0,
        "unique_visitors": 3,
    }


def _raw_handshake(port: int, token: str) -> socket.socket:
    """A WebSocket client that reads only when told: a small receive buffer, so the
    server's writes back up soon once it stops reading."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET /ws/live?token={token} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(1)
    assert answer.startswith(b"HTTP/1.1 101"), answer
    return sock


def _send_text(sock: socket.socket, text: str) -> None:
    payload, mask = text.encode(), os.urandom(4)
    assert len(payload) < 126
    masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
    sock.sendall(struct.pack("!BB", 0x81, 0x80 | len(payload)) + mask + masked)


def _read_until_closed(sock: socket.socket, deadline: float) -> tuple[int, bool]:
    """(bytes read, whether the server closed the connection) by `deadline`."""
    read = 0
    sock.settimeout(0.5)
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return read, True
        if not chunk:
            return read, True
        read += len(chunk)
    return read, False


def test_a_client_that_stops_reading_is_dropped(asgi_server, member_campaign):
    user, campaign = member_campaign
    server = asgi_server(LIVE_SEND_TIMEOUT_SECONDS="1")
    channel = f"campaign:{campaign.pk}"
    slow = _raw_handshake(server.port, live_token_issue(user=user).token)
    _send_text(slow, json.dumps({"subscribe": channel}))
    time.sleep(0.5)  # its answer waits, unread, in the socket
    healthy_url = f"ws://127.0.0.1:{server.port}/ws/live?token={live_token_issue(user=user).token}"
    events, size = 400, 16_000
    with connect(healthy_url, open_timeout=10, max_size=2**20) as healthy:
        healthy.send(json.dumps({"subscribe": channel}))
        assert json.loads(healthy.recv(timeout=10)) == {"subscribed": channel}

        async def burst() -> None:
            layer = get_channel_layer()
            for n in range(events):
                text = json.dumps({"channel": channel, "event": "fill", "data": [n, "x" * size]})
                await layer.group_send(group_name(channel), {"type": MESSAGE_TYPE, "text": text})

        async_to_sync(burst)()
        received = [json.loads(healthy.recv(timeout=10))["data"][0]]
        while received[-1] < events - 1:
            received.append(json.loads(healthy.recv(timeout=10))["data"][0])
        # The healthy client got them in order, to the last. (A burst that outruns the
        # server by more than LIVE_CHANNEL_CAPACITY drops the oldest: live data, bounded.)
        assert received == sorted(set(received))

        deadline = time.monotonic() + 20
        while "too slow" not in server.log.read_text():
            assert time.monotonic() < deadline, server.log.read_text()
            time.sleep(0.2)
        read, closed = _read_until_closed(slow, time.monotonic() + 30)
        assert closed
        # What reached it before the drop, a part of what was published.
        assert read < events * size / 2
        # The server serves on.
        async_to_sync(get_channel_layer().group_send)(
            group_name(channel),
            {"type": MESSAGE_TYPE, "text": json.dumps({"channel": channel, "event": "after"})},
        )
        assert json.loads(healthy.recv(timeout=10))["event"] == "after"
    slow.close()
