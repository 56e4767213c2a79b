"""An open-loop HTTP load generator: GET requests at a fixed rate, whatever the answers.

    .venv/bin/python bench/open_loop.py --port 8775 --path /healthz [--header 'K: V']
        [--rate 500] [--seconds 10] [--timeout 1.5]

Request i is due at start + i / rate and goes out then on a connection of its own
(`Connection: close`), however many earlier ones are still waiting, so a slow server
cannot slow the load down (a closed loop like wrk's waits for an answer before asking
again, and so hides queueing). Its latency runs from when it was due to the last byte of
its answer (so a late start counts against the server too); a request not answered with
a 2xx within --timeout seconds is failed, and counts as slower than every answer in the
percentiles. Prints one JSON object: offered, answered_rate, p50_ms, p99_ms, failed,
errors (by kind) and the generator's own CPU seconds.

Written here rather than run with httperf, which bench/reads.py used before: httperf polls
without sleeping and takes a whole core at any rate (measured: 9.7 s of CPU in a 10 s run
at 200/s and at 500/s), which on a 2-core machine halves what the server being measured
has. This one sleeps between sends: asyncio on uvloop, about 0.1 ms of CPU a request.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import resource
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field

import uvloop


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)  # seconds, answered requests
    errors: Counter[str] = field(default_factory=Counter)


async def _one(host: str, port: int, request: bytes, due: float, timeout: float, tally: Tally):
    writer = None
    try:
        async with asyncio.timeout(timeout - (time.perf_counter() - due)):
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(request)
            answer = await reader.read()  # to the end: the server closes after answering
        status = answer[9:12]
        if answer.startswith(b"HTTP/1.") and status.startswith(b"2"):
            tally.latencies.append(time.perf_counter() - due)
        else:
            tally.errors[f"status {status.decode(errors='replace') or 'none'}"] += 1
    except TimeoutError:
        tally.errors["timeout"] += 1
    except OSError as error:
        tally.errors[type(error).__name__] += 1
    finally:
        if writer is not None:
            writer.close()


async def run(
    host: str, port: int, path: str, headers: list[str], rate: float, seconds: float, timeout: float
) -> dict:
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n"
        + "".join(f"{header}\r\n" for header in headers)
        + "\r\n"
    ).encode()
    total = round(rate * seconds)
    tally = Tally()
    pending: set[asyncio.Task] = set()
    start = time.perf_counter() + 0.05
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(_one(host, port, request, due, timeout, tally))
        pending.add(task)
        task.add_done_callback(pending.discard)
    if pending:
        await asyncio.wait(pending)
    elapsed = time.perf_counter() - start
    answered = sorted(tally.latencies)
    failed = total - len(answered)

    def percentile(share: float) -> float:
        rank = math.ceil(share * total) - 1
        return answered[rank] * 1000 if rank < len(answered) else math.inf

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "offered": rate,
        "answered_rate": len(answered) / min(elapsed, seconds + timeout),
        "p50_ms": percentile(0.50),
        "p99_ms": percentile(0.99),
        "mean_ms": statistics.fmean(answered) * 1000 if answered else math.inf,
        "failed": failed,
        "errors": dict(tally.errors),
        "generator_cpu_s": usage.ru_utime + usage.ru_stime,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--header", action="append", default=[], help="'Name: value'")
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--timeout", type=float, default=1.5)
    args = parser.parse_args()
    # Up to rate x timeout sockets are open at once.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    result = uvloop.run(
        run(args.host, args.port, args.path, args.header, args.rate, args.seconds, args.timeout)
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
