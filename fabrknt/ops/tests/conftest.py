"""The operations tests' fixtures: a clean shared metrics store, a test inside one minute,
and SQS (moto's server mode, started by the test)."""

from __future__ import annotations

import socket
import time
import uuid

import pytest
import redis
from django.conf import settings
from moto.server import ThreadedMotoServer

from fabrknt.celery import app
from fabrknt.ops.metrics.store import store

MAX_REDELIVERIES = 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _use_broker(url: str, options: dict) -> None:
    app.conf.broker_url = url
    app.conf.broker_transport_options = options
    app._pool = None  # as after a fork: connections and producers to the new broker
    app.amqp._producer_pool = None


@pytest.fixture
def sqs(settings, monkeypatch):
    """moto's server on a free port, and this process and its workers on it (a queue
    prefix of the test's own), tasks sent there rather than run in-process."""
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    url = f"sqs://testing:testing@127.0.0.1:{port}"
    prefix = f"t{uuid.uuid4().hex[:8]}-"
    env = {
        "CELERY_BROKER_URL": url,
        "CELERY_SQS_SECURE": "false",
        "CELERY_SQS_QUEUE_PREFIX": prefix,
        "CELERY_SQS_REGION": "us-east-1",
        "CELERY_SQS_WAIT_TIME_SECONDS": "1",
        "CELERY_MAX_REDELIVERIES": str(MAX_REDELIVERIES),
    }
    options = {
        "visibility_timeout": settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"],
        "region": "us-east-1",
        "queue_name_prefix": prefix,
        "is_secure": False,
        "wait_time_seconds": 1,
    }
    saved = app.conf.broker_url, app.conf.broker_transport_options
    monkeypatch.setenv("CELERY_BROKER_URL", url)  # Celery reads it before its own setting
    settings.CELERY_BROKER_URL = url
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = options
    settings.CELERY_MAX_REDELIVERIES = MAX_REDELIVERIES
    _use_broker(url, options)
    app.conf.task_always_eager = False
    try:
        yield env
    finally:
        app.conf.task_always_eager = True
        monkeypatch.undo()
        _use_broker(*saved)
        server.stop()


@pytest.fixture
def shared_metrics(redis_client: redis.Redis) -> redis.Redis:
    """The Redis of REDIS_URL with no metrics in it, what this process recorded before the
    test written there first (and so wiped)."""
    store.flush()
    redis_client.flushdb()
    return redis_client


@pytest.fixture
def one_minute() -> None:
    """Starts the test well inside a minute, so what it records and reads by the current
    minute falls in one."""
    into = time.time() % 60
    if into > 55:
        time.sleep(60.2 - into)


@pytest.fixture
def broker() -> redis.Redis:
    """The broker's Redis, emptied, with tasks sent to it (not run in-process)."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.flushdb()
    app.conf.task_always_eager = False
    yield client
    app.conf.task_always_eager = True
    client.flushdb()
