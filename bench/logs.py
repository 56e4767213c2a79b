"""Benchmark: what structured logs and tracing cost, per log line and per request.

    .venv/bin/python bench/logs.py [--lines 20000] [--requests 2000] [--runs 3]

Per log line: one record through the console handler of settings.LOGGING (the request-id
filter, the formatter, a write to memory), with the former plain `logging.Formatter` as
the baseline, then the plain and JSON formatters of fabrknt/ops/logs.py, inside a request
whose user is known; and an error line with a traceback quoting a bearer token. Per
request: `GET /healthz` through Django's test client (the whole middleware stack), with
tracing off (the default) and on (every instrumentation, spans kept in memory). Printed:
CPU microseconds, best and median of `--runs`. Uses DATABASE_URL and REDIS_URL as set
(the IP rules are read once and cached). Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def per_call(action: Callable[[], object], calls: int, runs: int) -> tuple[float, float]:
    """CPU microseconds per call: best and median of `runs`."""
    timings = []
    for _ in range(runs):
        started = time.process_time()
        for _ in range(calls):
            action()
        timings.append((time.process_time() - started) / calls * 1e6)
    return min(timings), statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=20000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    os.environ.setdefault("DJANGO_ENV", "development")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fabrknt.settings")
    import django

    django.setup()
    from django.test import Client, RequestFactory

    from accounts.models import User
    from fabrknt.ops.logs import JsonFormatter, PlainFormatter
    from fabrknt.security.request_id import RequestIdLogFilter, current_request, current_request_id

    request = RequestFactory().get("/api/v1/projects")
    request.user = User(pk="7d5f1f9e-4c4b-4a8e-9a51-4c1f7b0b2a10")
    current_request.set(request)
    current_request_id.set("0123456789abcdef0123456789abcdef")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdLogFilter())

    def record() -> logging.LogRecord:
        return logging.LogRecord(
            "fabrknt.security.middleware",
            logging.WARNING,
            __file__,
            1,
            "Refused %s %s from blocked address %s",
            ("GET", "/api/v1/projects", "203.0.113.7"),
            None,
        )

    try:
        raise RuntimeError("upstream refused Authorization: Bearer abcdefghijklmnop")
    except RuntimeError:
        failure = sys.exc_info()

    def error_record() -> logging.LogRecord:
        return logging.LogRecord(
            "django.request", logging.ERROR, __file__, 1, "Internal Server Error", None, failure
        )

    def emit(make: Callable[[], logging.LogRecord]) -> Callable[[], object]:
        def action() -> None:
            handler.handle(make())
            stream.seek(0)
            stream.truncate()

        return action

    formats = {
        "former plain logging.Formatter": logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
        ),
        "plain (LOG_FORMAT=plain)": PlainFormatter(),
        "json (LOG_FORMAT=json)": JsonFormatter(),
    }
    print(f"per log line, CPU µs (best / median of {arguments.runs}):")
    for name, formatter in formats.items():
        handler.setFormatter(formatter)
        best, median = per_call(emit(record), arguments.lines, arguments.runs)
        error_best, error_median = per_call(
            emit(error_record), arguments.lines // 4, arguments.runs
        )
        print(
            f"  {name:32} {best:6.1f} / {median:6.1f}   "
            f"with a traceback: {error_best:6.1f} / {error_median:6.1f}"
        )
    current_request.set(None)
    current_request_id.set("-")

    client = Client()
    client.get("/healthz")  # warm: IP rules cached, middleware loaded

    def get() -> None:
        client.get("/healthz")

    print(f"per request (GET /healthz, test client), CPU µs (best / median of {arguments.runs}):")
    best, median = per_call(get, arguments.requests, arguments.runs)
    print(f"  tracing off                      {best:6.1f} / {median:6.1f}")

    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from fabrknt.ops.tracing import tracing_instrument

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing_instrument(tracer_provider=provider)
    client = Client()  # loads the middleware again, the tracing one first
    client.get("/healthz")

    def traced_get() -> None:
        client.get("/healthz")
        exporter.clear()

    best, median = per_call(traced_get, arguments.requests, arguments.runs)
    print(f"  tracing on (spans in memory)     {best:6.1f} / {median:6.1f}")


if __name__ == "__main__":
    main()
