"""Writing a live event's frame straight to a connection served by uvicorn's
websockets-sansio protocol (`--ws websockets-sansio`, the production server of /ws/).

A server's WebSocket frames are not masked, so an event's text frame is the same bytes for
every connection (without per-message deflate, which production and bench/ws.py turn off):
the hub frames an event once per process (`text_frame`) and a push hands those bytes to
the connection's transport. Through the ASGI `send` each push woke the connection's writer
task and ran uvicorn's send (a coroutine, websockets' framing, `data_to_send`): most of the
server's CPU a delivery (README, "Live updates").

The integration point is one: `frame_writer(send)`, given the `send` the server passed to
the application (`LiveAuthMiddleware` keeps it in the scope under SERVER_SEND). It answers
None for anything else than a bound `send` of uvicorn's `WebSocketsSansIOProtocol` whose
connection negotiated no extension: the connection then keeps the ASGI path (daphne under
`make run`, Channels' test communicator, a client with deflate). The writer reads only the
state uvicorn's own `send` checks, and writes only when that `send` would write at once:

- the handshake is done (the writer is made after `accept`), no close frame was sent or
  received (websockets' state is OPEN, uvicorn's `close_sent`), the transport is open;
- the transport is not paused (`writable`, cleared by uvicorn's `pause_writing` when the
  socket's write buffer passes its high-water mark). A paused connection gets nothing
  written here: its pushes wait in its bounded outbox, whose writer goes through the ASGI
  `send` (which waits for `resume_writing`), and the hub's watchdog drops it if that wait
  passes LIVE_SEND_TIMEOUT_SECONDS, exactly as before. So a slow client's buffer grows by
  at most one frame past the high-water mark.

uvicorn is pinned (requirements.txt); fabrknt/live/tests/test_direct.py checks these
attributes against the installed version, and that the bytes equal uvicorn's own frame."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from websockets.frames import Frame, Opcode
from websockets.protocol import State

# The scope key under which LiveAuthMiddleware keeps the server's own `send`.
SERVER_SEND = "fabrknt.live.server_send"


def text_frame(text: str) -> bytes:
    """A final, unmasked text frame: what a server sends for `text`."""
    return Frame(Opcode.TEXT, text.encode()).serialize(mask=False)


def frame_writer(send: Any) -> Callable[[bytes], bool] | None:
    """A function writing a frame to the connection of `send` if it can take it now (True),
    or None when `send` is not uvicorn's websockets-sansio protocol without extensions."""
    try:
        from uvicorn.protocols.websockets.websockets_sansio_impl import (
            WebSocketsSansIOProtocol,
        )
    except ImportError:  # pragma: no cover - uvicorn is a dependency
        return None
    protocol = getattr(send, "__self__", None)
    if (
        not isinstance(protocol, WebSocketsSansIOProtocol)
        or getattr(send, "__func__", None) is not WebSocketsSansIOProtocol.send
        or not protocol.handshake_complete
        or protocol.conn.extensions
    ):
        return None
    conn, transport, writable = protocol.conn, protocol.transport, protocol.writable

    def write(frame: bytes) -> bool:
        if (
            writable.is_set()
            and conn.state is State.OPEN
            and not protocol.close_sent
            and not protocol.disconnected
            and not transport.is_closing()
        ):
            transport.write(frame)
            return True
        return False

    return write
