"""Benchmark: what `RequestMetricsMiddleware` adds to a request, in-process.

    .venv/bin/python bench/metrics_middleware.py [--calls 200000] [--runs 5] [--redis-url URL]

Calls a view that returns a ready response `--calls` times bare, behind a pass-through
middleware, and behind the metrics middleware (with the request's route resolved, as after
URL resolution), and prints CPU microseconds per request, best and median of `--runs`.
The store's thread flushes to Redis (`--redis-url`; without it, to this process) once a
second meanwhile, as in a server. Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def per_call(handler: Callable, request, calls: int) -> float:
    """CPU microseconds per call."""
    started = time.process_time()
    for _ in range(calls):
        handler(request)
    return (time.process_time() - started) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--redis-url", default="")
    options = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fabrknt.settings")
    os.environ.setdefault("DJANGO_ENV", "development")
    os.environ["REDIS_URL"] = options.redis_url

    import django

    django.setup()
    from django.http import HttpResponse
    from django.test import RequestFactory
    from django.urls import resolve

    from fabrknt.ops.metrics.middleware import RequestMetricsMiddleware
    from fabrknt.ops.metrics.store import store

    response = HttpResponse(b"{}", content_type="application/json")
    request = RequestFactory().get("/api/v1/campaigns/7d4c9b1e-8a44-4a3b-9f1e-2c0c1d5e6f70")
    request.resolver_match = resolve(request.path)

    def view(request):
        return response

    def passing(request):
        return view(request)

    handlers: dict[str, Callable] = {
        "bare view": view,
        "pass-through middleware": passing,
        "metrics middleware": RequestMetricsMiddleware(view),
    }
    figures: dict[str, list[float]] = {name: [] for name in handlers}
    for _ in range(options.runs):
        for name, handler in handlers.items():
            figures[name].append(per_call(handler, request, options.calls))
    store.flush()
    bare = min(figures["bare view"])
    print(f"{options.calls} calls x {options.runs} runs, CPU µs per request (best / median)")
    for name, values in figures.items():
        best, median = min(values), statistics.median(values)
        print(f"  {name:26} {best:6.2f} / {median:6.2f}   (+{best - bare:.2f} over bare)")


if __name__ == "__main__":
    main()
