"""Every metric the platform records, declared once: what records it (the store) and what
exposes it (the Prometheus collector, the operational figures) read the same list.

Labels are bounded sets: a route is the URL pattern that matched (never the raw path), a
method one of the HTTP methods below, a status its class, a task its registered name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# Seconds. Fine around 50-100 ms, where the latency targets lie (p50 < 50 ms, p99 < 100 ms):
# percentiles are interpolated inside a bucket, so a bound at each target keeps them exact
# where an alarm decides.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
QUERY_BUCKETS = (0, 1, 2, 3, 5, 10, 20, 50, 100)
TASK_SECONDS_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)


@dataclass(frozen=True)
class Family:
    name: str  # as exposed; a counter's gets `_total` from prometheus-client
    kind: Literal["counter", "histogram"]
    help: str
    labels: tuple[str, ...]
    buckets: tuple[float, ...] = ()


HTTP_REQUEST_DURATION = Family(
    "fabrknt_http_request_duration_seconds",
    "histogram",
    "Time from the first middleware to the response, by route, method and status class",
    ("route", "method", "status"),
    LATENCY_BUCKETS,
)
HTTP_REQUEST_DB_QUERIES = Family(
    "fabrknt_http_request_db_queries",
    "histogram",
    "SQL statements a request executed, by route and method",
    ("route", "method"),
    QUERY_BUCKETS,
)
CACHE_REQUESTS = Family(
    "fabrknt_cache_requests",
    "counter",
    "Reads of the Django cache, by result (hit or miss)",
    ("result",),
)
CELERY_TASKS = Family(
    "fabrknt_celery_tasks",
    "counter",
    "Celery tasks run, by task and final state (success, failure, retry, ignored)",
    ("task", "state"),
)
CELERY_TASK_DURATION = Family(
    "fabrknt_celery_task_duration_seconds",
    "histogram",
    "How long a task ran, by task",
    ("task",),
    TASK_SECONDS_BUCKETS,
)
CELERY_TASK_QUEUE_WAIT = Family(
    "fabrknt_celery_task_queue_wait_seconds",
    "histogram",
    "From publishing a task to a worker starting it, by task and queue",
    ("task", "queue"),
    TASK_SECONDS_BUCKETS,
)
CLICKS_INGESTED = Family(
    "fabrknt_clicks_ingested",
    "counter",
    "Clicks accepted (into the click stream, or the database without Redis)",
    (),
)
WEBHOOK_DELIVERIES = Family(
    "fabrknt_webhook_deliveries",
    "counter",
    "Webhook deliveries by provider and outcome (accepted, duplicate, or the error code)",
    ("provider", "outcome"),
)

FAMILIES = {
    family.name: family
    for family in (
        HTTP_REQUEST_DURATION,
        HTTP_REQUEST_DB_QUERIES,
        CACHE_REQUESTS,
        CELERY_TASKS,
        CELERY_TASK_DURATION,
        CELERY_TASK_QUEUE_WAIT,
        CLICKS_INGESTED,
        WEBHOOK_DELIVERIES,
    )
}
