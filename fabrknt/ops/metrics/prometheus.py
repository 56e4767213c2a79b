"""`/metrics`: the shared store in Prometheus' text format, through a prometheus-client
Collector that reads the values every process flushed (no second bookkeeping: the same
hash `operational_metrics()` reads beside its minutes).

Refused (403, as the IP rules refuse an address) unless the client is on loopback (a
sidecar, `curl` on the host) or sends `Authorization: Bearer <METRICS_SCRAPE_TOKEN>`. The
client is found as everywhere (`client_ip`, through TRUSTED_PROXIES), so a request that a
trusted proxy on this host forwards counts as its real client, not as loopback."""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from fabrknt.api.errors import error_body
from fabrknt.chain.signatures import shared_secret_valid
from fabrknt.ops.metrics.families import FAMILIES, HTTP_REQUEST_DURATION, Family
from fabrknt.ops.metrics.store import SUM, VALUE, MetricsBackend, default_backend, store
from fabrknt.redis_backoff import REDIS_ERRORS, redis_failed
from fabrknt.security.client_ip import client_ip

BEARER = "Bearer "


class SharedStoreCollector(Collector):
    """Yields every family from one read of the shared totals."""

    def __init__(self, backend: MetricsBackend) -> None:
        self.backend = backend

    def collect(self) -> Iterator[Metric]:
        by_family: dict[str, dict[tuple[str, ...], dict[int | str, float]]] = defaultdict(
            lambda: defaultdict(dict)
        )
        for (name, labels, part), value in self.backend.totals().items():
            family = FAMILIES.get(name)
            if family is not None and len(labels) == len(family.labels):
                by_family[name][labels][part] = value
        for family in FAMILIES.values():
            series = by_family.get(family.name, {})
            if family.kind == "histogram":
                yield _histogram(family, series)
            else:
                counter = CounterMetricFamily(family.name, family.help, labels=family.labels)
                for labels, parts in sorted(series.items()):
                    counter.add_metric(labels, parts.get(VALUE, 0.0))
                yield counter
        yield _requests_total(by_family.get(HTTP_REQUEST_DURATION.name, {}))
        backlog = self.backend.click_backlog()
        if backlog is not None:
            gauge = GaugeMetricFamily(
                "fabrknt_click_stream_entries",
                "Entries waiting in the Redis click streams (a batch entry holds many clicks)",
                labels=("stream",),
            )
            for stream, entries in backlog.items():
                gauge.add_metric((stream,), entries)
            yield gauge


def _histogram(family: Family, series: dict[tuple[str, ...], dict[int | str, float]]) -> Metric:
    histogram = HistogramMetricFamily(family.name, family.help, labels=family.labels)
    bounds = [floatToGoString(bound) for bound in family.buckets] + ["+Inf"]
    for labels, parts in sorted(series.items()):
        cumulative, buckets = 0.0, []
        for index, bound in enumerate(bounds):
            cumulative += parts.get(index, 0.0)
            buckets.append((bound, cumulative))
        histogram.add_metric(labels, buckets, parts.get(SUM, 0.0))
    return histogram


def _requests_total(series: dict[tuple[str, ...], dict[int | str, float]]) -> Metric:
    """The request counter most dashboards ask for: the latency histogram's counts."""
    counter = CounterMetricFamily(
        "fabrknt_http_requests",
        "Requests answered, by route, method and status class",
        labels=HTTP_REQUEST_DURATION.labels,
    )
    for labels, parts in sorted(series.items()):
        counter.add_metric(labels, sum(v for part, v in parts.items() if part != SUM))
    return counter


class QueuesAndBackupCollector(Collector):
    """What the queue and backup alarms watch, read at scrape time from the broker and the
    backups storage (fabrknt.ops.readings): a family is left out while its source cannot
    be read, so the alarm sees no data rather than a false zero."""

    def collect(self) -> Iterator[Metric]:
        from fabrknt.ops.readings import backup_read, queues_read  # imports the Celery app

        queues = queues_read()
        if queues is not None:
            depth = GaugeMetricFamily(
                "fabrknt_queue_depth", "Tasks waiting in the queue", labels=("queue",)
            )
            dead = GaugeMetricFamily(
                "fabrknt_queue_dead_letters",
                "Tasks in the queue's dead letters (retries or redeliveries exhausted)",
                labels=("queue",),
            )
            for queue in queues:
                depth.add_metric((queue["name"],), queue["depth"])
                dead.add_metric((queue["name"],), queue["dead_letter_depth"])
            yield depth
            yield dead
        readable, latest = backup_read()
        if readable and latest is not None:
            yield GaugeMetricFamily(
                "fabrknt_backup_age_seconds",
                "Age of the newest complete database backup",
                value=latest["age_seconds"],
            )


def scrape_allowed(request: HttpRequest) -> bool:
    try:
        if ipaddress.ip_address(client_ip(request)).is_loopback:
            return True
    except ValueError:
        pass  # an address that does not parse is no loopback
    header = request.headers.get("Authorization", "")
    return header.startswith(BEARER) and shared_secret_valid(
        secret=settings.METRICS_SCRAPE_TOKEN, given=header[len(BEARER) :]
    )


def metrics_exposition() -> bytes:
    """The text format of the shared store, this process's latest records included."""
    store.flush()
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SharedStoreCollector(default_backend()))
    registry.register(QueuesAndBackupCollector())
    return generate_latest(registry)


@never_cache
@require_safe
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not scrape_allowed(request):
        return JsonResponse(
            error_body(
                "Metrics are served to loopback or the scrape token.", code="permission_denied"
            ),
            status=403,
        )
    try:
        body = metrics_exposition()
    except REDIS_ERRORS as error:
        redis_failed(error, during="a metrics scrape")
        return JsonResponse(
            error_body("The metrics store (Redis) is unavailable.", code="unavailable"),
            status=503,
        )
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
