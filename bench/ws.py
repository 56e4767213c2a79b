"""Benchmark: event-to-client latency of /ws/live at 1,000 connections.

    DATABASE_URL=postgres://… REDIS_URL=redis://… .venv/bin/python bench/ws.py \
        [--connections 1000] [--events 50] [--interval 0.2] [--clients 2] [--workers 1]

Starts the production ASGI server of /ws/ (uvicorn, websockets-sansio protocol, no
per-message deflate, `--workers` processes: fabrknt/live/tests/server.py) on 127.0.0.1
against the migrated database of DATABASE_URL and the Redis of REDIS_URL (the channel
layer), opens the connections (each with a single-use token from the same service as
POST /api/v1/ws-token) subscribed to one campaign's channel, then publishes events through
`fabrknt.live.publish.publish` (the function the click flush calls) one every
`--interval` seconds. Latency runs from just before `publish` is called to the moment each
client has the message parsed, so it covers the channel layer, the server's fan-out and
the client. Prints p50/p99/max over every (event, connection) pair, the events whose last
delivery took over 100 ms (with their publish time, to match against a server log),
messages lost, the server's resident memory before and after the connections, and the CPU
time of the server and of the load generator a delivery.

The load generator shares the machine's cores with the server, so it is kept cheap: the
connections are spread over `--clients` processes, each an asyncio loop of plain
protocols (no task or queue per connection), so that what is measured is mostly the
server. Each connection makes its opening handshake, and sends its (masked) frames,
through websockets' sans-I/O client; once it is open, the server's frames are parsed by
hand (`LeanClient._frames`: unmasked frames, the three length encodings, fragmented
messages, pings answered, anything unexpected counted as a connection error): through
websockets' reader the generator cost ~46 us of CPU a delivery on our 2-core machine,
more than the server's ~29 us, on the cores they share, so it inflated the latency it
measured. Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fabrknt.settings")
os.environ.setdefault("DJANGO_ENV", "development")


def process_tree(pid: int) -> list[int]:
    """The process and its descendants (uvicorn's workers under its supervisor)."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += process_tree(int(child))
    return found


def server_rss_mib(pid: int) -> float:
    total = 0.0
    for member in process_tree(pid):
        for line in Path(f"/proc/{member}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) / 1024
    return total


def server_cpu_seconds(pid: int) -> float:
    """User and system CPU time of the server's processes so far."""
    total = 0
    for member in process_tree(pid):
        fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# A message a server may send us at most (websockets' default `max_size`).
MAX_MESSAGE = 1 << 20


class LeanClient(asyncio.Protocol):
    """One connection: the handshake, the subscription, then each pushed message's latency
    (parsed, as a page would) and the event's publish time appended to `latencies`.

    websockets' sans-I/O client makes the opening handshake and every frame this client
    sends (masked, as a client's must be: the subscription, pongs, the close). The server's
    frames, once the connection is open, are parsed here by hand: websockets' reader (a
    generator per frame, a `Frame` object, its checks) cost ~46 us of CPU a message, more
    than the server's ~29 us to send it, on the cores they share. Anything this client does
    not expect (RSV bits, a mask, an unknown opcode, invalid UTF-8 or JSON, a close from the
    server) is appended to `errors` and closes the connection."""

    def __init__(
        self, url: str, channel: str, latencies: list[tuple[float, float]], errors: list[str]
    ) -> None:
        from websockets.client import ClientProtocol
        from websockets.uri import parse_uri

        self.protocol = ClientProtocol(parse_uri(url))
        self.channel = channel
        self.latencies = latencies
        self.errors = errors
        self.subscribed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.open = False  # the handshake is done: the server's frames are parsed here
        self.closed = False
        self.buffer = bytearray()  # bytes of a frame (or of the response) not yet complete
        self.fragments: list[bytes] | None = None  # a fragmented text message so far

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.protocol.send_request(self.protocol.connect())
        self._flush()

    def _flush(self) -> None:
        for data in self.protocol.data_to_send():
            if data:
                self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        if self.open:
            self._frames(data)
        elif not self.closed:
            self._handshake(data)

    def _handshake(self, data: bytes) -> None:
        """Hands websockets the response's head (a 101 has no body), keeps what follows
        it for `_frames`, and subscribes."""
        from websockets.protocol import State

        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > 65536:
                self._fail("no end to the handshake response")
            return
        head, rest = bytes(self.buffer[: end + 4]), bytes(self.buffer[end + 4 :])
        self.buffer = bytearray()
        self.protocol.receive_data(head)
        self.protocol.events_received()  # the Response: OPEN if it was an accepted upgrade
        if self.protocol.state is not State.OPEN:
            status = head.split(b"\r\n", 1)[0]
            self._fail(f"handshake failed: {status!r}")
            return
        self.open = True
        self.protocol.send_text(json.dumps({"subscribe": self.channel}).encode())
        self._flush()
        if rest:
            self._frames(rest)

    def _frames(self, data: bytes) -> None:
        """Every complete frame of what has arrived; the rest waits in `buffer`."""
        buffer = self.buffer
        if buffer:
            buffer += data
            data = buffer  # type: ignore[assignment]  # read the same way
        size = len(data)
        pos = 0
        while size - pos >= 2 and not self.closed:
            first, second = data[pos], data[pos + 1]
            if first & 0x70 or second & 0x80:
                self._fail(f"RSV bits or a mask in a server frame: {first:#04x} {second:#04x}")
                break
            length = second & 0x7F
            start = pos + 2
            if length == 126:
                if size - pos < 4:
                    break
                length = int.from_bytes(data[start : start + 2], "big")
                start += 2
            elif length == 127:
                if size - pos < 10:
                    break
                length = int.from_bytes(data[start : start + 8], "big")
                start += 8
            if length > MAX_MESSAGE:
                self._fail(f"a frame of {length} bytes")
                break
            end = start + length
            if end > size:
                break
            self._frame(first, data[start:end])
            pos = end
        if self.closed:
            buffer.clear()
        elif data is buffer:
            del buffer[:pos]
        elif pos < size:
            buffer += data[pos:]

    def _frame(self, first: int, payload: bytes) -> None:
        opcode = first & 0x0F
        fin = first & 0x80
        if opcode <= 0x1:  # text, or the continuation of a fragmented message
            if (opcode == 0x1) is (self.fragments is not None):
                self._fail("a continuation frame out of a fragmented message, or a new one in it")
            elif fin:
                if self.fragments is not None:
                    self.fragments.append(payload)
                    payload = b"".join(self.fragments)
                    self.fragments = None
                self._message(payload)
            elif self.fragments is None:
                self.fragments = [payload]
            else:
                self.fragments.append(payload)
                if sum(map(len, self.fragments)) > MAX_MESSAGE:
                    self._fail("a fragmented message over the size limit")
        elif opcode >= 0x8 and (not fin or len(payload) > 125):
            self._fail(f"a fragmented or oversized control frame (opcode {opcode:#x})")
        elif opcode == 0x9:  # ping: websockets' pong, masked
            self.protocol.send_pong(bytes(payload))
            self._flush()
        elif opcode == 0xA:  # an unsolicited pong: allowed, ignored
            pass
        elif opcode == 0x8:
            code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
            self._fail(f"closed by the server (code {code})", code)
        else:  # binary (we never get any) or reserved
            self._fail(f"unexpected opcode {opcode:#x}")

    def _message(self, payload: bytes) -> None:
        try:
            message = json.loads(payload.decode())
            if message.get("data") is not None:
                self._event(message)
            elif "subscribed" in message:
                if not self.subscribed.done():
                    self.subscribed.set_result(None)
            else:
                self._fail(f"message: {message}")
        except (ValueError, AttributeError, KeyError, TypeError) as exc:
            self._fail(f"not a message: {exc!r}")

    def _event(self, message: dict) -> None:
        """A pushed event: its latency from the publish time it carries (this bench's
        events put `time.time()` in their data) and that time."""
        sent = message["data"]["sent"]
        self.latencies.append((time.time() - sent, sent))

    def _fail(self, reason: str, code: int | None = 1002) -> None:
        """Counts the error, closes (a close frame through websockets, then the socket)."""
        from websockets.exceptions import ProtocolError
        from websockets.protocol import State

        self.errors.append(reason)
        self.closed = True
        if not self.subscribed.done():
            self.subscribed.set_exception(ConnectionError(reason))
        if self.protocol.state is State.OPEN:
            try:
                self.protocol.send_close(code)
            except ProtocolError:  # a code one may not send back (1005, 1006, …)
                self.protocol.send_close()
            self._flush()
        self.transport.close()

    def connection_lost(self, exc) -> None:
        if not self.closed:
            self.closed = True
            self.errors.append(f"connection lost: {exc}")
            if not self.subscribed.done():
                self.subscribed.set_exception(ConnectionError(f"closed before subscribing: {exc}"))


async def _client_run(
    url: str,
    port: int,
    tokens: list[str],
    channel: str,
    pipe,
    client_class: type[LeanClient],
) -> None:
    loop = asyncio.get_running_loop()
    latencies: list[tuple[float, float]] = []
    errors: list[str] = []
    gate = asyncio.Semaphore(50)  # handshakes in flight at once
    clients = []

    async def one(token: str) -> None:
        async with gate:
            _, client = await loop.create_connection(
                lambda: client_class(f"{url}?token={token}", channel, latencies, errors),
                "127.0.0.1",
                port,
            )
            await asyncio.wait_for(client.subscribed, 180)  # a loaded machine
            clients.append(client)

    await asyncio.gather(*(one(token) for token in tokens))
    pipe.send("ready")
    before = resource.getrusage(resource.RUSAGE_SELF)
    # The parent says when it has published everything (and waited for the stragglers).
    await loop.run_in_executor(None, pipe.recv)
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    pipe.send((latencies, cpu, errors))
    for client in clients:
        client.transport.close()


def client_process(
    url: str,
    port: int,
    tokens: list[str],
    channel: str,
    pipe,
    client_class: type[LeanClient] = LeanClient,
) -> None:
    """A load-generator process: its share of the connections (each a `client_class`), on one
    event loop (uvloop's, as the server's)."""
    import gc

    import uvloop

    # Forked from this script after django.setup: without this, a full collection walking
    # the ~250,000 objects inherited from Django would pause the client's reading and count
    # as the server's latency.
    gc.freeze()

    uvloop.run(_client_run(url, port, tokens, channel, pipe, client_class))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--events", type=int, default=50)
    parser.add_argument("--interval", type=float, default=0.2)
    parser.add_argument("--clients", type=int, default=2, help="load-generator processes")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        sys.exit("REDIS_URL is needed: the server and this script share the channel layer")

    import gc

    import django

    django.setup()
    gc.freeze()  # as fabrknt/asgi.py: no full collection walks what Django loaded
    from django.db import connections

    from accounts.models import User
    from accounts.services.organizations import organization_create
    from fabrknt.live import tokens as live_tokens
    from fabrknt.live.tests.server import asgi_server_start
    from fabrknt.live.tokens import live_token_issue
    from trace.models import Campaign

    user = User.objects.create(username=f"bench-ws-{uuid.uuid4().hex[:8]}")
    organization = organization_create(name="Bench WS", owner=user)
    campaign = Campaign.objects.create(
        organization=organization, name="Bench WS", landing_url="https://app.example.com/"
    )
    channel = f"campaign:{campaign.pk}"

    log = Path(tempfile.mkdtemp()) / "uvicorn.log"
    server = asgi_server_start(
        cwd=ROOT, log=log, env={"LOG_LEVEL": "WARNING"}, workers=args.workers
    )
    try:
        # Once the server is up, and for 10 minutes, not 60 s: on a loaded machine the
        # server's start and the 1,000 handshakes outlasted it.
        live_tokens.TOKEN_SECONDS = 600
        tokens = [live_token_issue(user=user).token for _ in range(args.connections)]
        connections.close_all()  # not into the forked clients
        _measure(server.port, server.process.pid, channel, tokens, args)
        print(f"server log: {log}")
    finally:
        server.stop()
        campaign.delete()
        organization.delete()
        user.delete()


class Subscribers:
    """The connections, spread over `processes` forked client processes (each its share of
    the tokens on one event loop), all subscribed to `channel` once `start` returns."""

    def __init__(
        self,
        url: str,
        port: int,
        tokens: list[str],
        channel: str,
        *,
        processes: int,
        client_class: type[LeanClient] = LeanClient,
    ) -> None:
        context = multiprocessing.get_context("fork")
        self.pipes, self.processes = [], []
        for share in range(processes):
            mine, theirs = context.Pipe()
            process = context.Process(
                target=client_process,
                args=(url, port, tokens[share::processes], channel, theirs, client_class),
            )
            self.pipes.append(mine)
            self.processes.append(process)

    def start(self) -> None:
        for process in self.processes:
            process.start()
        for pipe in self.pipes:
            if pipe.recv() != "ready":
                raise RuntimeError("a client process did not subscribe")

    def results(self) -> tuple[list[tuple[float, float]], float, list[str]]:
        """Every delivery's (latency, publish time), the clients' CPU seconds since they
        were all subscribed, their connection errors; the connections close."""
        for pipe in self.pipes:
            pipe.send("done")
        deliveries: list[tuple[float, float]] = []
        cpu, errors = 0.0, []
        for pipe in self.pipes:
            theirs, their_cpu, their_errors = pipe.recv()
            deliveries += theirs
            cpu += their_cpu
            errors += their_errors
        for process in self.processes:
            process.join(timeout=30)
        return deliveries, cpu, errors

    def terminate(self) -> None:
        """Ends the client processes still running (a run that failed half-way)."""
        for process in self.processes:
            if process.pid is not None and process.is_alive():
                process.terminate()


def _measure(port: int, pid: int, channel: str, tokens: list[str], args) -> None:
    from fabrknt.live.publish import publish

    time.sleep(2 if args.workers > 1 else 0)  # the workers are up once they serve
    idle = server_rss_mib(pid)
    url = f"ws://127.0.0.1:{port}/ws/live"
    subscribers = Subscribers(url, port, tokens, channel, processes=args.clients)
    opened = time.monotonic()
    subscribers.start()
    print(
        f"{len(tokens)} connections ({args.clients} client processes, {args.workers} server "
        f"workers) subscribed in {time.monotonic() - opened:.1f} s; server RSS {idle:.0f} MiB "
        f"idle, {server_rss_mib(pid):.0f} MiB connected; load average {load_average()}"
    )
    server_cpu = server_cpu_seconds(pid)
    for n in range(args.events):
        publish(channel, "bench", {"sent": time.time(), "n": n})
        time.sleep(args.interval)
    time.sleep(5)  # stragglers
    server_cpu = server_cpu_seconds(pid) - server_cpu
    delivered, client_cpu, errors = subscribers.results()
    latencies: list[float] = []
    slowest: dict[float, float] = {}  # an event's publish time: its slowest delivery
    for latency, sent in delivered:
        latencies.append(latency)
        slowest[sent] = max(latency, slowest.get(sent, 0.0))
    expected = args.events * len(tokens)
    print(f"messages lost: {expected - len(latencies)} of {expected}")
    print(f"connection errors: {len(errors)}" + "".join(f"; {error}" for error in errors[:5]))
    ms = [latency * 1000 for latency in latencies]
    deliveries = max(1, len(ms))
    print(
        f"event-to-client latency over {len(ms)} deliveries ({args.events} events x "
        f"{len(tokens)} connections): p50 {statistics.median(ms):.1f} ms, "
        f"p99 {percentile(ms, 0.99):.1f} ms, max {max(ms):.1f} ms"
    )
    stalled = sorted((sent, latency) for sent, latency in slowest.items() if latency > 0.1)
    print(
        f"events whose last delivery took over 100 ms: {len(stalled)} of {len(slowest)}"
        + "".join(
            f"; published at {sent:.3f}: {latency * 1000:.0f} ms" for sent, latency in stalled
        )
    )
    print(
        f"server RSS after the events {server_rss_mib(pid):.0f} MiB; CPU a delivery: server "
        f"{server_cpu / deliveries * 1e6:.0f} us ({server_cpu:.2f} s), load generator "
        f"{client_cpu / deliveries * 1e6:.0f} us ({client_cpu:.2f} s); "
        f"load average {load_average()}"
    )


if __name__ == "__main__":
    main()
