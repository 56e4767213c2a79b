"""The direct frame writes of the live hub (fabrknt/live/direct.py) against the installed
uvicorn's websockets-sansio protocol on a real loopback socket: the frame is the one
uvicorn would send, a write happens only while uvicorn's own `send` would write at once
(not paused, not closing), and anything else than that protocol keeps the ASGI path.
The outbox's use of it (fabrknt/live/fanout.py): direct while nothing waits, queued (in
order) otherwise."""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.asyncio.client import connect
from websockets.protocol import OPEN
from websockets.server import ServerProtocol

from fabrknt.live import fanout
from fabrknt.live.direct import frame_writer, text_frame


def test_the_frame_is_the_one_websockets_sends_for_the_text():
    text = '{"channel":"campaign:1","data":"é' + "x" * 70_000 + '"}'  # a 64-bit length
    for sample in ("", "short", text[:200], text):
        server = ServerProtocol(state=OPEN)
        server.send_text(sample.encode())
        assert text_frame(sample) == b"".join(server.data_to_send())


async def _serve(deflate: bool) -> tuple[asyncio.Server, asyncio.Queue[Any], int]:
    """uvicorn's websockets-sansio protocol on a loopback port, serving an ASGI app that
    accepts and hands its `send` (and the protocol) to the test."""
    sends: asyncio.Queue[Any] = asyncio.Queue()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        await sends.put(send)
        while (await receive())["type"] != "websocket.disconnect":
            pass

    config = Config(app=app, ws="websockets-sansio", ws_per_message_deflate=deflate, lifespan="off")
    config.load()
    loop = asyncio.get_running_loop()
    state = ServerState()
    server = await loop.create_server(
        lambda: WebSocketsSansIOProtocol(config, state, app_state={}, _loop=loop),
        "127.0.0.1",
        0,
    )
    return server, sends, server.sockets[0].getsockname()[1]


def test_a_frame_goes_straight_to_the_socket_only_while_uvicorn_would_send_it():
    async def scenario() -> None:
        server, sends, port = await _serve(deflate=False)
        async with connect(f"ws://127.0.0.1:{port}/", compression=None) as client:
            send = await sends.get()
            protocol = send.__self__
            write = frame_writer(send)
            assert write is not None

            assert write(text_frame("héllo"))
            assert await asyncio.wait_for(client.recv(), 5) == "héllo"
            # The ASGI path and the direct one interleave on the same connection.
            await send({"type": "websocket.send", "text": "via asgi"})
            assert write(text_frame("direct again"))
            assert await client.recv() == "via asgi"
            assert await client.recv() == "direct again"

            # A full socket (the transport called pause_writing): nothing is written.
            protocol.pause_writing()
            assert not write(text_frame("held"))
            protocol.resume_writing()
            assert write(text_frame("after resume"))
            assert await client.recv() == "after resume"

            # After the server's close frame nothing more is written.
            await send({"type": "websocket.close", "code": 4008})
            assert not write(text_frame("too late"))
        server.close()

    asyncio.run(scenario())


def test_a_client_that_closes_gets_nothing_more():
    async def scenario() -> None:
        server, sends, port = await _serve(deflate=False)
        async with connect(f"ws://127.0.0.1:{port}/", compression=None):
            send = await sends.get()
            write = frame_writer(send)
        assert write is not None
        for _ in range(50):  # the server reads the client's close
            if not write(text_frame("x")):
                break
            await asyncio.sleep(0.02)
        assert not write(text_frame("x"))
        server.close()

    asyncio.run(scenario())


def test_other_servers_and_deflate_keep_the_asgi_path():
    async def asgi_send(message: Any) -> None:
        pass

    assert frame_writer(asgi_send) is None
    assert frame_writer(None) is None

    async def scenario() -> None:
        server, sends, port = await _serve(deflate=True)
        async with connect(f"ws://127.0.0.1:{port}/", compression="deflate"):
            send = await sends.get()
            assert send.__self__.conn.extensions  # per-message deflate negotiated
            assert frame_writer(send) is None
        server.close()

    asyncio.run(scenario())


def test_an_outbox_writes_directly_only_when_nothing_waits_before():
    async def scenario() -> None:
        written: list[bytes] = []
        sent: list[str] = []
        socket_full = False
        taken = asyncio.Event()

        def write_frame(frame: bytes) -> bool:
            if socket_full:
                return False
            written.append(frame)
            return True

        async def send(message: fanout.Message) -> None:
            await taken.wait()
            sent.append(message["text"])

        outbox = fanout.Outbox(
            capacity=10, send=send, on_stall=lambda: None, write_frame=write_frame
        )

        def push(text: str) -> None:
            outbox.push({"type": "websocket.send", "text": text}, text_frame(text))

        push("1")
        assert written == [text_frame("1")] and not outbox.pending
        socket_full = True
        push("2")  # queued for the writer, which waits in send
        await asyncio.sleep(0)
        socket_full = False
        push("3")  # the socket takes it, but "2" is in flight: it waits behind it
        assert written == [text_frame("1")]
        assert [message["text"] for message in outbox.pending] == ["3"]
        taken.set()
        while len(sent) < 2:
            await asyncio.sleep(0.01)
        assert sent == ["2", "3"]
        push("4")  # nothing waits any more: direct again
        assert written == [text_frame("1"), text_frame("4")]
        outbox.close()
        push("5")  # a closed outbox writes nothing
        assert len(written) == 2

    asyncio.run(scenario())
