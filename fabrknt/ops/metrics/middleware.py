"""Every request's latency, status class and SQL statements, by the route that matched.

The outermost middleware (first in settings.MIDDLEWARE, and so in INGEST_MIDDLEWARE), so a
guard's refusal is timed too. Recording touches memory only (`MetricsStore.request`); the
store's thread writes to Redis. Measured cost: README, "Metrics"."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from time import perf_counter
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest, HttpResponseBase

from fabrknt.ops.metrics.store import store

# No route matched, or a guard answered before routing (413, 415, a blocked address).
UNMATCHED = "unmatched"
# Anything else a client sends as a method is one label, not a new series each.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "other"
STATUS_CLASSES = ("1xx", "1xx", "2xx", "3xx", "4xx", "5xx")

# The statements of the request in progress in this thread: [count], or None outside one.
_request_queries: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "request_queries", default=None
)


def _count_query(execute: Callable[..., Any], sql, params, many, context) -> Any:
    counter = _request_queries.get()
    if counter is not None:
        counter[0] += 1
    return execute(sql, params, many, context)


def query_counter_install(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """`connection_created`: counts this connection's statements for the request that runs
    them, without a wrapper entered and left per request."""
    if _count_query not in connection.execute_wrappers:
        connection.execute_wrappers.append(_count_query)


def status_class(status: int) -> str:
    return STATUS_CLASSES[min(max(status // 100, 1), 5)]


class RequestMetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        queries = [0]
        token = _request_queries.set(queries)
        started = perf_counter()
        try:
            response = self.get_response(request)
        finally:
            _request_queries.reset(token)
        seconds = perf_counter() - started
        match = request.resolver_match
        method = request.method if request.method in METHODS else OTHER_METHOD
        store.request(
            "/" + match.route if match is not None else UNMATCHED,
            method or OTHER_METHOD,
            status_class(response.status_code),
            seconds,
            queries[0],
        )
        return response
