"""/healthz and /readyz: liveness, and readiness naming every component that is down: 503
only without the database; without the cache or the broker the platform falls back, so it
is 200 "degraded". Outages are real: a redis-server of the test's own, stopped."""

from __future__ import annotations

import time

import pytest
from django.db import OperationalError, connection

from fabrknt.ops.services import ping_key
from fabrknt.ops.tasks import ping

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_broker(settings):
    settings.CELERY_BROKER_URL = ""


def test_healthz_answers_ok(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_only_answers_reads(client):
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


def test_readyz_ok_without_a_broker(client, no_broker):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "broker": "not configured"},
    }


@pytest.mark.celery_worker  # needs the Redis broker of CELERY_BROKER_URL up
def test_readyz_ok_with_a_live_broker(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "broker": "ok"},
    }


def test_readyz_is_degraded_while_the_cache_is_down(client, redis_server, no_broker):
    redis_server.stop()

    response = client.get("/readyz")

    assert response.status_code == 200  # the platform falls back and keeps serving
    assert response.json() == {
        "status": "degraded",
        "down": ["cache"],
        "checks": {"database": "ok", "cache": "down", "broker": "not configured"},
    }


def test_readyz_is_degraded_while_the_broker_is_down_within_its_timeout(
    client, settings, redis_server
):
    settings.CELERY_BROKER_URL = redis_server.url(1)
    assert client.get("/readyz").json()["status"] == "ok"
    redis_server.stop()
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

    started = time.monotonic()
    response = client.get("/readyz")
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "down": ["broker"],
        "checks": {"database": "ok", "cache": "ok", "broker": "down"},
    }
    assert elapsed < 2.0


def test_readyz_names_every_stopped_component(client, settings, redis_server):
    settings.CELERY_BROKER_URL = redis_server.url(1)
    redis_server.stop()

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["down"] == ["cache", "broker"]


def test_readyz_error_detail_stays_in_the_logs(client, settings, caplog):
    settings.CELERY_BROKER_URL = "redis://:hunter2@127.0.0.1:1/0"

    response = client.get("/readyz")

    assert response.json()["down"] == ["broker"]
    assert "hunter2" not in response.content.decode()
    assert any(r.getMessage().startswith("Readiness: broker is down") for r in caplog.records)


def test_probes_are_exempt_from_the_ssl_redirect(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    settings.CELERY_BROKER_URL = ""

    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/api/v1/auth/nonce").status_code == 301


def test_ping_task_leaves_proof_in_the_cache():
    from django.core.cache import cache

    result = ping.delay("token-1")

    assert result.get()["hostname"]
    assert cache.get(ping_key("token-1"))["hostname"] == result.get()["hostname"]


def test_readyz_names_a_stopped_database(client, no_broker):
    def database_down(execute, sql, params, many, context):
        raise OperationalError("connection refused")

    # Django's own hook around every query on this connection: the database "stops".
    with connection.execute_wrapper(database_down):
        response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "down": ["database"],
        "checks": {"database": "down", "cache": "ok", "broker": "not configured"},
    }


def test_readyz_is_unavailable_when_the_database_is_down_whatever_else_is(
    client, redis_server, no_broker
):
    def database_down(execute, sql, params, many, context):
        raise OperationalError("connection refused")

    redis_server.stop()
    with connection.execute_wrapper(database_down):
        response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "down": ["database", "cache"],
        "checks": {"database": "down", "cache": "down", "broker": "not configured"},
    }
