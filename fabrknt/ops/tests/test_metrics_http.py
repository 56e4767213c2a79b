"""Requests through the Django test client into the shared store, out through `/metrics`
(parsed by prometheus-client's own parser) and `/api/v1/operational/metrics`; who may
read either; and a Redis outage, which no request notices."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from prometheus_client.parser import text_string_to_metric_families
from rest_framework_simplejwt.tokens import AccessToken

from accounts.services.api_keys import api_key_issue
from accounts.tests.factories import OrganizationFactory, UserFactory
from fabrknt.ops.metrics import operational_metrics
from fabrknt.ops.metrics.store import (
    CLICKS,
    ERRORS,
    REQUESTS,
    default_backend,
    minute_of,
    store,
)
from fabrknt.ops.metrics.webhooks import delivery_outcome
from trace.tests.factories import CampaignFactory, ProjectFactory

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db]

OUTSIDE = "203.0.113.7"  # TEST-NET-3: no loopback
TOKEN = "scrape-token-for-tests-0123456789"
FAMILIES = {
    "fabrknt_http_request_duration_seconds",
    "fabrknt_http_request_db_queries",
    "fabrknt_http_requests",
    "fabrknt_cache_requests",
    "fabrknt_celery_tasks",
    "fabrknt_celery_task_duration_seconds",
    "fabrknt_celery_task_queue_wait_seconds",
    "fabrknt_clicks_ingested",
    "fabrknt_webhook_deliveries",
    "fabrknt_click_stream_entries",
}


def scrape(client: Client | None = None, **headers: str) -> dict[str, dict]:
    """/metrics parsed: {family: {(sample name, sorted labels): value}}."""
    response = (client or Client()).get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return {
        family.name: {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for sample in family.samples
        }
        for family in text_string_to_metric_families(response.content.decode())
    }


def sample(families: dict[str, dict], family: str, name: str, **labels: str) -> float:
    return families[family].get((name, tuple(sorted(labels.items()))), 0.0)


def test_requests_are_exposed_by_route_method_and_status(shared_metrics):
    client = Client()
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    assert client.get("/no/such/page/4711").status_code == 404
    assert client.post("/healthz").status_code == 405

    families = scrape()

    assert FAMILIES <= set(families)
    duration = "fabrknt_http_request_duration_seconds"
    healthz = {"route": "/healthz", "method": "GET", "status": "2xx"}
    assert sample(families, duration, f"{duration}_count", **healthz) == 3
    assert sample(families, duration, f"{duration}_bucket", le="+Inf", **healthz) == 3
    assert sample(families, duration, f"{duration}_sum", **healthz) > 0
    requests = "fabrknt_http_requests"
    assert sample(families, requests, f"{requests}_total", **healthz) == 3
    assert (
        sample(
            families, requests, f"{requests}_total", route="/healthz", method="POST", status="4xx"
        )
        == 1
    )
    # the raw path is never a label: an unknown path counts as "unmatched"
    assert (
        sample(
            families, requests, f"{requests}_total", route="unmatched", method="GET", status="4xx"
        )
        == 1
    )
    assert "/no/such/page/4711" not in str(families)


def test_sql_statements_per_request_are_counted_by_route(shared_metrics):
    organization = OrganizationFactory()
    ProjectFactory(organization=organization)
    key = api_key_issue(organization=organization, name="read", scopes=["read"]).key
    client = Client(HTTP_X_API_KEY=key)
    statements = 0
    for _ in range(3):  # one capture each: a request's start resets Django's query log
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/projects").status_code == 200
        statements += len(queries.captured_queries)

    families = scrape()

    name = "fabrknt_http_request_db_queries"
    route = {"route": "/api/v1/projects", "method": "GET"}
    assert sample(families, name, f"{name}_count", **route) == 3
    assert statements > 0
    assert sample(families, name, f"{name}_sum", **route) == statements


def test_cache_hits_and_misses_are_counted(shared_metrics):
    before = scrape()
    assert cache.get("metrics-test-key") is None
    cache.set("metrics-test-key", "value")
    assert cache.get("metrics-test-key") == "value"
    assert cache.get_many(["metrics-test-key", "metrics-absent"]) == {"metrics-test-key": "value"}

    after = scrape()

    name = "fabrknt_cache_requests"

    def grew(result: str) -> float:
        return sample(after, name, f"{name}_total", result=result) - sample(
            before, name, f"{name}_total", result=result
        )

    assert (grew("hit"), grew("miss")) >= (2, 2)  # ours; a request may read the cache too


def test_clicks_are_counted_and_the_backlog_sampled(shared_metrics, one_minute):
    campaign = CampaignFactory()
    key = api_key_issue(organization=campaign.organization, name="in", scopes=["ingest"]).key
    client = Client(HTTP_X_API_KEY=key)
    for number in range(2):
        response = client.post(
            "/api/v1/clicks",
            {"campaign_id": str(campaign.pk), "click_id": f"metrics-{number}"},
            content_type="application/json",
        )
        assert response.status_code == 202, response.content

    families = scrape()

    assert sample(families, "fabrknt_clicks_ingested", "fabrknt_clicks_ingested_total") == 2
    entries = "fabrknt_click_stream_entries"
    assert sample(families, entries, entries, stream="singles") == 2
    now = minute_of(time.time())
    fields = default_backend().minutes(now, now)[now]
    assert fields[CLICKS] == 2
    assert fields["backlog"] == 2  # sampled in the flush: the two entries, not yet drained


def test_webhook_deliveries_are_counted_by_provider_and_outcome(shared_metrics, settings):
    settings.ALCHEMY_WEBHOOK_SIGNING_KEY = ""
    settings.GITHUB_WEBHOOK_SECRET = "app-secret"
    client = Client()
    assert client.post("/api/v1/webhooks/alchemy", {}, "application/json").status_code == 503
    github = {"HTTP_X_GITHUB_EVENT": "ping", "HTTP_X_GITHUB_DELIVERY": "d-1"}
    bad = client.post(
        "/api/v1/github/webhook",
        b"{}",
        "application/json",
        HTTP_X_HUB_SIGNATURE_256="sha256=" + "0" * 64,
        **github,
    )
    assert bad.status_code == 401

    families = scrape()

    name = "fabrknt_webhook_deliveries"
    total = f"{name}_total"
    assert sample(families, name, total, provider="alchemy", outcome="not_configured") == 1
    assert sample(families, name, total, provider="github", outcome="bad_signature") == 1


def test_a_receipt_names_its_outcome():
    from rest_framework.response import Response

    assert delivery_outcome(Response({"delivery": "d", "duplicate": False}, 202)) == "accepted"
    assert delivery_outcome(Response({"delivery": "d", "duplicate": True}, 200)) == "duplicate"
    assert delivery_outcome(Response({"outcome": "ignored", "detail": "x"})) == "ignored"
    assert delivery_outcome(Response({"detail": "x", "code": "invalid"}, 400)) == "invalid"


# --- who may scrape ---------------------------------------------------------------------


def test_loopback_scrapes_without_a_token(shared_metrics):
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="::1").get("/metrics").status_code == 200


def test_others_need_the_scrape_token(shared_metrics, settings):
    settings.METRICS_SCRAPE_TOKEN = TOKEN
    outside = Client(REMOTE_ADDR=OUTSIDE)

    refused = outside.get("/metrics")
    assert refused.status_code == 403
    assert refused.json() == {
        "detail": "Metrics are served to loopback or the scrape token.",
        "code": "permission_denied",
    }
    assert outside.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert outside.get("/metrics", HTTP_AUTHORIZATION=TOKEN).status_code == 403  # no scheme
    assert outside.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


def test_without_a_token_set_only_loopback_scrapes(shared_metrics, settings):
    settings.METRICS_SCRAPE_TOKEN = ""
    outside = Client(REMOTE_ADDR=OUTSIDE)
    assert outside.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 403


def test_a_client_behind_a_proxy_on_this_host_is_not_loopback(shared_metrics, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1/32"]
    proxied = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=OUTSIDE)
    assert proxied.get("/metrics").status_code == 403
    # while a client claiming loopback in the header, connecting directly, is itself
    direct = Client(REMOTE_ADDR=OUTSIDE, HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert direct.get("/metrics").status_code == 403


# --- the operational endpoint --------------------------------------------------------------

OPERATIONAL = "/api/v1/operational/metrics"


def test_operational_metrics_are_for_staff_only(shared_metrics):
    assert Client().get(OPERATIONAL).status_code == 401
    member = Client(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(UserFactory())}")
    assert member.get(OPERATIONAL).status_code == 403
    organization = OrganizationFactory()
    key = api_key_issue(organization=organization, name="k", scopes=["read", "write"]).key
    assert Client(HTTP_X_API_KEY=key).get(OPERATIONAL).status_code == 403
    session = Client()
    session.force_login(UserFactory(is_staff=True))
    assert session.get(OPERATIONAL).status_code == 200


def test_operational_metrics_report_the_recorded_minutes(shared_metrics, one_minute):
    last = minute_of(time.time() - 2) - 1
    default_backend().apply(
        {},
        {
            last: {REQUESTS: 120, ERRORS: 6, CLICKS: 30, "le:3": 120},
            last - 3: {REQUESTS: 60, "le:0": 60},
        },
    )
    staff = Client(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(UserFactory(is_staff=True))}")

    body = staff.get(OPERATIONAL).json()

    one, five, fifteen = body["windows"]
    assert one == {
        "minutes": 1,
        "requests": 120,
        "request_rate": 2.0,
        "latency_p50_ms": 37.5,
        "latency_p99_ms": 49.75,
        "server_errors": 6,
        "error_rate": 0.05,
        "clicks": 30,
        "click_ingest_rate": 0.5,
    }
    assert (five["requests"], five["server_errors"], five["latency_p50_ms"]) == (180, 6, 31.25)
    assert fifteen["requests"] == 180
    assert len(body["series"]) == 60
    assert body["series"][-1]["requests"] == 120
    assert body["series"][-4]["requests"] == 60
    assert body["click_backlog"] == 0
    (queue,) = body["queues"]
    assert queue["name"] == "default"
    assert {alarm["name"]: alarm["state"] for alarm in body["alarms"]} == {
        "http_5xx_rate": "alarm",
        "http_latency_p99": "ok",
        "dead_letters": "alarm" if queue["dead_letter_depth"] else "ok",
    }


def test_the_schema_describes_the_operational_response(shared_metrics):
    schema = Client().get("/api/v1/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/operational/metrics"]["get"]
    reference = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][reference.rsplit("/", 1)[-1]]
    assert set(component["properties"]) == {
        "generated_at",
        "complete_until",
        "windows",
        "click_backlog",
        "series",
        "queues",
        "alarms",
    }


# --- Redis down -------------------------------------------------------------------------


def test_with_redis_down_requests_are_served_and_counted_later(redis_server, settings):
    settings.REDIS_BACKOFF_SECONDS = 0.2
    store.flush()
    redis_server.stop()
    client = Client(raise_request_exception=False)

    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    store.flush()  # fails, and keeps them
    assert client.get("/healthz").status_code == 200
    assert client.get("/metrics").status_code == 503
    staff = Client(raise_request_exception=False)
    staff.force_login(UserFactory(is_staff=True))
    assert staff.get(OPERATIONAL).status_code == 503

    redis_server.start()
    time.sleep(0.25)
    families = scrape(client)

    name = "fabrknt_http_requests"
    healthz = {"route": "/healthz", "method": "GET", "status": "2xx"}
    assert sample(families, name, f"{name}_total", **healthz) == 4


def test_requests_served_now_are_in_the_next_minutes_window(shared_metrics, one_minute):
    client = Client()
    for _ in range(4):
        assert client.get("/healthz").status_code == 200
    assert client.get("/no/such/page").status_code == 404

    # As of the next minute, when this one has ended and every process has flushed it.
    one = operational_metrics(now=(minute_of(time.time()) + 1) * 60 + 5).windows[0]

    assert (one.requests, one.server_errors, one.error_rate) == (5, 0, 0.0)
    assert one.latency_p50_ms is not None and one.latency_p50_ms > 0


def test_without_redis_the_process_serves_its_own_figures(shared_metrics, settings):
    settings.REDIS_URL = ""
    client = Client()
    route = {"route": "/readyz", "method": "GET", "status": "2xx"}
    before = sample(scrape(client), "fabrknt_http_requests", "fabrknt_http_requests_total", **route)
    client.get("/readyz")
    client.get("/readyz")

    families = scrape(client)

    after = sample(families, "fabrknt_http_requests", "fabrknt_http_requests_total", **route)
    assert after - before == 2
    assert "fabrknt_click_stream_entries" not in families  # no stream: clicks go to the DB
    assert not shared_metrics.exists("fabrknt:metrics:totals")  # nothing went to Redis
    assert operational_metrics().click_backlog is None
