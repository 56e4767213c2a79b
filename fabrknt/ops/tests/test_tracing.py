"""OpenTelemetry tracing: off unless the OTEL_* variables ask (nothing imported), and on,
spans for a request (Django, with its database and Redis calls as children) and for Celery
tasks, in this process (in-memory exporter) and in a real worker (console exporter), whose
ids the log lines carry."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.test import Client
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, format_trace_id

from fabrknt.celery import app
from fabrknt.ops.logs import JsonFormatter
from fabrknt.ops.services import ping_key
from fabrknt.ops.tasks import ping
from fabrknt.ops.tests.workers import worker_command
from fabrknt.ops.tracing import enabled, tracing_instrument, tracing_uninstrument

REPO = Path(settings.BASE_DIR)
WORKER_DEADLINE_SECONDS = 90  # a cold worker start on a loaded machine (test_celery_worker)


@pytest.mark.parametrize(
    ("environ", "on"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317"}, False),
        ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_SDK_DISABLED": "false"}, True),
    ],
)
def test_the_otel_variables_switch_tracing(environ, on):
    assert enabled(environ) is on


def _wsgi_process(**environ: str) -> dict:
    """What a fresh web process (fabrknt.wsgi) loaded, with these OTEL_* variables."""
    script = (
        "import json, sys\n"
        "from django.conf import settings\n"
        "import fabrknt.wsgi\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('opentelemetry.'))\n"
        "print(json.dumps({'otel': loaded, 'middleware': settings.MIDDLEWARE[0],"
        " 'ingest': settings.INGEST_MIDDLEWARE[0]}))\n"
    )
    clean = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env={**clean, **environ},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.splitlines()[-1])


def test_off_by_default_nothing_of_opentelemetry_is_loaded():
    loaded = _wsgi_process()

    # redis-py loads OpenTelemetry's API for its own (off) observability; of tracing,
    # neither the SDK nor an instrumentation is loaded.
    assert [
        module
        for module in loaded["otel"]
        if module.startswith(("opentelemetry.instrumentation", "opentelemetry.sdk.trace"))
    ] == []
    assert loaded["middleware"] == "fabrknt.ops.metrics.middleware.RequestMetricsMiddleware"
    assert loaded["ingest"] == loaded["middleware"]


def test_switched_on_the_web_process_traces_both_handlers():
    loaded = _wsgi_process(OTEL_TRACES_EXPORTER="console")

    assert {"opentelemetry.instrumentation.django", "opentelemetry.sdk.trace"} <= set(
        loaded["otel"]
    )
    otel_middleware = "opentelemetry.instrumentation.django.middleware.otel_middleware."
    assert loaded["middleware"].startswith(otel_middleware)
    assert loaded["ingest"] == loaded["middleware"]  # the click fast path is traced too


@pytest.fixture
def spans():
    """Tracing on in this process, into memory."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing_instrument(tracer_provider=provider)
    try:
        yield exporter
    finally:
        tracing_uninstrument()


@pytest.fixture
def json_log():
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    formatter, stream = handler.formatter, handler.stream
    buffer = io.StringIO()
    handler.setFormatter(JsonFormatter())
    handler.setStream(buffer)
    try:
        yield buffer
    finally:
        handler.setFormatter(formatter)
        handler.setStream(stream)


def _lines(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
@pytest.mark.redis
def test_a_request_is_a_django_span_with_its_database_and_redis_calls_inside(spans):
    connections.close_all()  # the next connection is opened through the instrumented driver

    response = Client().get("/readyz")

    assert response.status_code == 200, response.content
    finished = spans.get_finished_spans()
    (server,) = [span for span in finished if span.kind == SpanKind.SERVER]
    assert server.name == "GET readyz"
    assert server.attributes["http.status_code"] == 200
    children = [
        span for span in finished if span.parent and span.parent.span_id == (server.context.span_id)
    ]
    systems = {span.attributes.get("db.system") for span in children}
    assert {"postgresql", "redis"} <= systems, [(s.name, dict(s.attributes)) for s in finished]
    assert {span.context.trace_id for span in children} == {server.context.trace_id}


@pytest.mark.django_db
@pytest.mark.urls("fabrknt.ops.tests.urls")
def test_log_lines_inside_a_span_carry_its_trace_and_span_ids(spans, json_log):
    Client(raise_request_exception=False).post("/leaky", data=b"{}", content_type="text/plain")

    (server,) = [s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER]
    logged = next(line for line in _lines(json_log) if line["logger"] == "fabrknt.ops.tests.urls")
    assert logged["trace_id"] == format_trace_id(server.context.trace_id)
    assert logged["span_id"] == f"{server.context.span_id:016x}"


def test_a_celery_task_is_a_span_and_its_log_lines_name_it(spans, json_log):
    token = uuid.uuid4().hex

    result = ping.apply(args=(token,))

    (run,) = [s for s in spans.get_finished_spans() if s.name == "run/ops.ping"]
    assert run.attributes["celery.task_name"] == "ops.ping"
    logged = next(line for line in _lines(json_log) if line["message"].startswith("Ping"))
    assert (logged["task_id"], logged["trace_id"]) == (
        result.id,
        format_trace_id(run.context.trace_id),
    )


@pytest.fixture
def traced_worker(tmp_path):
    """A real `celery worker` with tracing switched on by the OTEL_* variables (console
    exporter: spans on stdout) and JSON logs (stderr)."""
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            worker_command(loglevel=None),
            cwd=REPO,
            env={
                **os.environ,
                "PYTHONUNBUFFERED": "1",
                "LOG_FORMAT": "json",
                "OTEL_TRACES_EXPORTER": "console",
                "OTEL_BSP_SCHEDULE_DELAY": "100",
            },
            stdout=stdout,
            stderr=stderr,
        )
    app.conf.task_always_eager = False
    try:
        yield process, out, err
    finally:
        app.conf.task_always_eager = True
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.redis
@pytest.mark.celery_worker
def test_a_real_worker_continues_the_enqueuing_trace_in_its_spans_and_logs(traced_worker, spans):
    """`spans`: this process instrumented, so the message carries the trace context."""
    process, out, err = traced_worker
    token = uuid.uuid4().hex
    tracer = TracerProvider().get_tracer(__name__)
    started = time.monotonic()

    with tracer.start_as_current_span("enqueue") as enqueuing:
        result = ping.apply_async(args=(token,))
    trace_id = format_trace_id(enqueuing.get_span_context().trace_id)
    while cache.get(ping_key(token)) is None:
        assert process.poll() is None, err.read_text()
        assert time.monotonic() - started < WORKER_DEADLINE_SECONDS, err.read_text()
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)  # exits, flushing the exporter
    process.wait(timeout=20)

    # One JSON object per line from the moment logging is configured (before it, Celery
    # warns in plain text of running as root, as it does here).
    lines = err.read_text().splitlines()
    first = next(index for index, line in enumerate(lines) if line.startswith("{"))
    logged = [json.loads(line) for line in lines[first:]]
    pinged = next(line for line in logged if line["message"].startswith(f"Ping {token}"))
    assert (pinged["task_id"], pinged["task_name"], pinged["trace_id"]) == (
        result.id,
        "ops.ping",
        trace_id,
    )
    exported = out.read_text()
    assert '"name": "run/ops.ping"' in exported
    assert f'"trace_id": "0x{trace_id}"' in exported
    assert '"service.name": "fabrknt-worker"' in exported
