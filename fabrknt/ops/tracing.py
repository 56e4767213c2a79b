"""OpenTelemetry tracing, off unless the standard OTEL_* environment variables ask for it.

On when OTEL_TRACES_EXPORTER names an exporter (`otlp`, `console`; not `none`) or an OTLP
endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), unless
OTEL_SDK_DISABLED is true. Off, nothing of OpenTelemetry is even imported: no cost.
Everything else (endpoint, headers, protocol, sampler, service name, resource attributes,
batch sizes) is the SDK's own reading of the OTEL_* variables.

Each process starts it once: the web process in fabrknt/wsgi.py, asgi.py and manage.py;
Celery workers on `worker_init` / `worker_process_init` (fabrknt/celery.py). Starting has
two halves because an exporter (its gRPC channel, its batch thread) does not survive a
fork: `tracing_instrument` patches Django, psycopg, Redis, Celery and requests (safe
before a fork, spans go to whatever provider is set later), `tracing_export_start` sets
the provider that exports, in the process that serves (gunicorn's `post_fork`, a prefork
Celery child).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

_TRUE = {"true", "1", "yes", "on"}
# Set once spans may exist in this process: log lines then carry trace and span ids.
_instrumented = False
_exporting = False
# settings.INGEST_MIDDLEWARE as it was before the Django instrumentation added its own.
_ingest_middleware: list[str] | None = None


def enabled(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the OTEL_* variables switch tracing on (see the module's doc)."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() in _TRUE:
        return False
    exporters = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporters:
        return exporters != "none"
    return bool(
        environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def active() -> bool:
    return _instrumented


def current_ids() -> dict[str, str]:
    """The current span's trace and span ids, as the exporters write them (hex)."""
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {
        "trace_id": trace.format_trace_id(context.trace_id),
        "span_id": trace.format_span_id(context.span_id),
    }


def tracing_start(*, service: str, export: bool = True) -> bool:
    """Instruments this process and (with `export`) starts exporting, when the OTEL_*
    variables ask for it; once per process. Whether tracing is on."""
    if not enabled():
        return False
    tracing_instrument()
    if export:
        tracing_export_start(service=service)
    return True


def tracing_instrument(tracer_provider: TracerProvider | None = None) -> None:
    """Patches Django (the middleware, the ingest handler's too), psycopg, Redis, Celery
    and requests. Without `tracer_provider`, spans go to the global one."""
    global _instrumented, _ingest_middleware
    if _instrumented:
        return
    from django.conf import settings
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.instrumentation.requests import RequestsInstrumentor

    before = list(settings.MIDDLEWARE)
    DjangoInstrumentor().instrument(tracer_provider=tracer_provider)
    # The click fast path's handler (fabrknt/handlers.py) builds its own middleware chain.
    _ingest_middleware = list(settings.INGEST_MIDDLEWARE)
    added = [path for path in settings.MIDDLEWARE if path not in before]
    settings.INGEST_MIDDLEWARE = [*added, *_ingest_middleware]
    PsycopgInstrumentor().instrument(tracer_provider=tracer_provider)
    RedisInstrumentor().instrument(tracer_provider=tracer_provider)
    CeleryInstrumentor().instrument(tracer_provider=tracer_provider)
    RequestsInstrumentor().instrument(tracer_provider=tracer_provider)
    _instrumented = True


def tracing_uninstrument() -> None:
    """Undoes `tracing_instrument` (tests switch tracing on and off in one process)."""
    global _instrumented, _ingest_middleware
    from django.conf import settings
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.instrumentation.requests import RequestsInstrumentor

    for instrumentor in (
        DjangoInstrumentor(),
        PsycopgInstrumentor(),
        RedisInstrumentor(),
        CeleryInstrumentor(),
        RequestsInstrumentor(),
    ):
        instrumentor.uninstrument()
    if _ingest_middleware is not None:
        settings.INGEST_MIDDLEWARE = _ingest_middleware
        _ingest_middleware = None
    _instrumented = False


def tracing_export_start(*, service: str) -> None:
    """Sets the global tracer provider, exporting through OTEL_TRACES_EXPORTER's exporters
    (`otlp` by default) in batches; once per process."""
    global _exporting
    if _exporting or not enabled():
        return
    from opentelemetry import trace
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: service}))
    provider = TracerProvider(resource=resource)  # sampler: OTEL_TRACES_SAMPLER
    for exporter in _exporters(os.environ):
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _exporting = True


def _exporters(environ: Mapping[str, str]) -> list[SpanExporter]:
    names = [
        name.strip().lower()
        for name in environ.get("OTEL_TRACES_EXPORTER", "otlp").split(",")
        if name.strip()
    ]
    exporters: list[SpanExporter] = []
    for name in names:
        if name == "otlp":
            exporters.append(_otlp_exporter(environ))
        elif name == "console":
            from opentelemetry.sdk.trace.export import ConsoleSpanExporter

            exporters.append(ConsoleSpanExporter())
        elif name != "none":
            raise ValueError(f"OTEL_TRACES_EXPORTER: unknown exporter {name!r}")
    return exporters


def _otlp_exporter(environ: Mapping[str, str]) -> SpanExporter:
    """OTLP over gRPC (the Python SDK's default) or http/protobuf, as
    OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL says; the exporter reads its endpoint, headers,
    certificates and timeout from the environment itself."""
    protocol = (
        environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "grpc"
    ).strip()
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    if protocol == "http/protobuf":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter as OTLPHttpSpanExporter,
        )

        return OTLPHttpSpanExporter()
    raise ValueError(f"OTEL_EXPORTER_OTLP_PROTOCOL: {protocol!r} is not grpc or http/protobuf")
