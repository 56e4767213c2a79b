"""Benchmark: event-to-client latency of /ws/live at 1,000 connections.

    DATABASE_URL=postgres://… REDIS_URL=redis://… .venv/bin/python bench/ws.py \
        [--connections 1000] [--events 50] [--interval 0.2]

Starts the production ASGI server of /ws/ (uvicorn, websockets protocol, one process:
fabrknt/live/tests/server.py) on 127.0.0.1 against the migrated database of DATABASE_URL
and the Redis of REDIS_URL (the channel layer), opens the connections (each with a
single-use token from the same service as POST /api/v1/ws-token) subscribed to one
campaign's channel, then publishes events through `fabrknt.live.publish.publish` (the
function the click flush calls) one every `--interval` seconds. Latency runs from just
before `publish` is called to the moment each client has the message parsed, so it covers
the channel layer, the server's fan-out and the client. Prints p50/p99/max over every
(event, connection) pair, messages lost, and the server's resident memory before and
after the connections. The clients share the machine's 2 cores with the server: their CPU
time is printed too. Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
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


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def open_connections(url: str, tokens: list[str], channel: str) -> list:
    from websockets.asyncio.client import connect

    gate = asyncio.Semaphore(50)  # handshakes in flight at once

    async def one(token: str):
        async with gate:
            websocket = await connect(f"{url}?token={token}", open_timeout=30, ping_interval=None)
            await websocket.send(json.dumps({"subscribe": channel}))
            answer = json.loads(await websocket.recv())
            assert answer == {"subscribed": channel}, answer
            return websocket

    return list(await asyncio.gather(*(one(token) for token in tokens)))


async def measure(websockets: list, channel: str, events: int, interval: float) -> list[float]:
    from fabrknt.live.publish import publish

    latencies: list[float] = []
    received = [0] * len(websockets)

    async def listen(index: int, websocket) -> None:
        for _ in range(events):
            message = json.loads(await websocket.recv())
            latencies.append(time.time() - message["data"]["sent"])
            received[index] += 1

    listeners = [asyncio.create_task(listen(i, ws)) for i, ws in enumerate(websockets)]
    loop = asyncio.get_running_loop()
    for n in range(events):
        # `publish` is sync code (as in the click flush): off the clients' event loop.
        await loop.run_in_executor(None, publish, channel, "bench", {"sent": time.time(), "n": n})
        await asyncio.sleep(interval)
    done, pending = await asyncio.wait(listeners, timeout=10)
    for task in pending:
        task.cancel()
    lost = events * len(websockets) - sum(received)
    print(f"messages lost: {lost} of {events * len(websockets)}")
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--events", type=int, default=50)
    parser.add_argument("--interval", type=float, default=0.2)
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        sys.exit("REDIS_URL is needed: the server and this script share the channel layer")

    import django

    django.setup()
    from accounts.models import User
    from accounts.services.organizations import organization_create
    from fabrknt.live.tests.server import asgi_server_start
    from fabrknt.live.tokens import live_token_issue
    from trace.models import Campaign

    user = User.objects.create(username=f"bench-ws-{uuid.uuid4().hex[:8]}")
    organization = organization_create(name="Bench WS", owner=user)
    campaign = Campaign.objects.create(
        organization=organization, name="Bench WS", landing_url="https://app.example.com/"
    )
    channel = f"campaign:{campaign.pk}"
    tokens = [live_token_issue(user=user).token for _ in range(args.connections)]

    log = Path(tempfile.mkdtemp()) / "uvicorn.log"
    server = asgi_server_start(cwd=ROOT, log=log, env={"LOG_LEVEL": "WARNING"})
    try:
        idle = rss_mib(server.process.pid)
        url = f"ws://127.0.0.1:{server.port}/ws/live"
        started = time.monotonic()
        websockets = asyncio.run(_run(url, tokens, channel, args, server.process.pid, idle))
        print(f"total {time.monotonic() - started:.1f} s; server log: {log}")
        del websockets
    finally:
        server.stop()
        campaign.delete()
        organization.delete()
        user.delete()


async def _run(url, tokens, channel, args, pid: int, idle: float):
    before = resource.getrusage(resource.RUSAGE_SELF)
    opened = time.monotonic()
    websockets = await open_connections(url, tokens, channel)
    print(
        f"{len(websockets)} connections subscribed in {time.monotonic() - opened:.1f} s; "
        f"server RSS {idle:.0f} MiB idle, {rss_mib(pid):.0f} MiB connected"
    )
    server_cpu = cpu_seconds(pid)
    latencies = await measure(websockets, channel, args.events, args.interval)
    server_cpu = cpu_seconds(pid) - server_cpu
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    ms = [latency * 1000 for latency in latencies]
    print(
        f"event-to-client latency over {len(ms)} deliveries ({args.events} events x "
        f"{len(websockets)} connections): p50 {statistics.median(ms):.1f} ms, "
        f"p99 {percentile(ms, 0.99):.1f} ms, max {max(ms):.1f} ms"
    )
    per_delivery = server_cpu / max(1, len(ms)) * 1e6
    print(
        f"server RSS after the events {rss_mib(pid):.0f} MiB; server CPU {server_cpu:.2f} s "
        f"({per_delivery:.0f} us a delivery); client CPU {cpu:.1f} s"
    )
    await asyncio.gather(*(websocket.close() for websocket in websockets))
    return websockets


if __name__ == "__main__":
    main()
