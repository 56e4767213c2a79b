"""Benchmark: `cache.get` of a short key, the call every API request makes (IP rules, API
keys), on each Redis cache backend in one process.

    .venv/bin/python bench/cache_get.py [--calls 20000] [--runs 3] [--redis-url URL]

Each backend reads the same stored key `--calls` times against Redis (db 12 by default,
flushed); printed are wall and CPU time per call, best and median of `--runs`. The CPU
time is what a web worker spends in the client itself (Django's own Redis backend built
a new `redis.Redis` per call: about 0.3 ms with redis-py 8). Not a test: it prints
figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_REDIS_URL = "redis://127.0.0.1:6379/12"
OPTIONS = {
    "django.core.cache.backends.redis.RedisCache": {
        "socket_connect_timeout": 1,
        "socket_timeout": 2,
    },
    "django_redis.cache.RedisCache": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 2},
}
# A backend of an older checkout (e.g. fabrknt.cache.RedisCache) can be named with
# --backend; it takes the redis-py style options.
EXTRA_OPTIONS = OPTIONS["django.core.cache.backends.redis.RedisCache"]


def timed(cache, calls: int) -> tuple[float, float]:
    """Seconds of wall and CPU time per call."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(calls):
        cache.get("k")
    return (time.perf_counter() - wall) / calls, (time.process_time() - cpu) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--redis-url", default=BENCH_REDIS_URL)
    parser.add_argument("--backend", action="append", default=[], help="another backend path")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fabrknt.settings")
    os.environ["DJANGO_ENV"] = "development"
    os.environ["REDIS_URL"] = args.redis_url
    import django

    django.setup()
    import redis
    from django.core.cache import CacheHandler

    redis.Redis.from_url(args.redis_url).flushdb()
    backends = {**OPTIONS, **{path: EXTRA_OPTIONS for path in args.backend}}
    handler = CacheHandler(
        {
            path: {"BACKEND": path, "LOCATION": args.redis_url, "OPTIONS": options}
            for path, options in backends.items()
        }
    )
    for path in backends:
        handler[path].set("k", "v", 600)
        timed(handler[path], 1000)  # warm up: connections, imports

    results: dict[str, list[tuple[float, float]]] = {path: [] for path in backends}
    for _ in range(args.runs):
        for path in backends:  # interleaved, so drift on the machine hits every backend
            results[path].append(timed(handler[path], args.calls))

    print(f"cache.get of a short key, {args.calls:,} calls x {args.runs} runs, one process")
    print(f"{'backend':<46} {'wall µs/call':>22} {'CPU µs/call':>22}")
    print(f"{'':<46} {'best':>10} {'median':>11} {'best':>10} {'median':>11}")
    for path, runs in results.items():
        walls, cpus = [w * 1e6 for w, _ in runs], [c * 1e6 for _, c in runs]
        print(
            f"{path:<46} {min(walls):>10.1f} {statistics.median(walls):>11.1f}"
            f" {min(cpus):>10.1f} {statistics.median(cpus):>11.1f}"
        )
    redis.Redis.from_url(args.redis_url).flushdb()


if __name__ == "__main__":
    main()
