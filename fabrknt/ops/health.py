"""Readiness checks: can this process reach what it needs to serve requests, and what is
it falling back from?

Each check answers "ok", "down" or "not configured" and logs why when down; the public
answer names the component but never the error, which may carry hosts or credentials."""

from __future__ import annotations

import logging
import secrets
from functools import lru_cache

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connections
from kombu import Connection
from kombu.exceptions import OperationalError as KombuOperationalError

from fabrknt.redis_backoff import REDIS_ERRORS, redis_failed

logger = logging.getLogger(__name__)

OK = "ok"
DOWN = "down"
NOT_CONFIGURED = "not configured"
# How long the broker check may take before the component is called down.
BROKER_TIMEOUT_SECONDS = 1.0


def database_check() -> str:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        logger.error("Readiness: database is down: %s", error)
        return DOWN
    return OK


def cache_check() -> str:
    key = "ops:readyz"
    token = secrets.token_hex(8)
    try:
        if not _stored_and_read(key, token):
            logger.error("Readiness: cache did not return what was stored")
            return DOWN
    except REDIS_ERRORS as error:
        logger.error("Readiness: cache is down: %s", error)
        redis_failed(error, during="the readiness check")
        return DOWN
    return OK


def _stored_and_read(key: str, token: str) -> bool:
    """Whether the cache gives back what was just stored in it: with django-redis, the
    write and the read in one pipeline (one round trip)."""
    get_client = getattr(getattr(cache, "client", None), "get_client", None)
    if get_client is None:  # not django-redis: the local-memory cache
        cache.set(key, token, 10)
        return bool(cache.get(key) == token)
    name = cache.make_key(key)
    _, stored = get_client(write=True).pipeline().set(name, token, ex=10).get(name).execute()
    return bool(stored == token.encode())


@lru_cache(maxsize=4)
def _redis_broker(url: str) -> redis.Redis:
    # One client (and connection pool) per URL and process: a probe reuses its connection.
    return redis.Redis.from_url(
        url, socket_timeout=BROKER_TIMEOUT_SECONDS, socket_connect_timeout=BROKER_TIMEOUT_SECONDS
    )


def broker_check() -> str:
    if not settings.CELERY_BROKER_URL:
        return NOT_CONFIGURED  # tasks run eagerly in-process
    if settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        # A PING on a kept connection: one round trip, where a kombu connection opened
        # per probe cost a connection and eight.
        try:
            _redis_broker(settings.CELERY_BROKER_URL).ping()
        except REDIS_ERRORS as error:
            logger.error("Readiness: broker is down: %s", error)
            return DOWN
        return OK
    connection = Connection(
        settings.CELERY_BROKER_URL,
        connect_timeout=BROKER_TIMEOUT_SECONDS,
        transport_options={
            **settings.CELERY_BROKER_TRANSPORT_OPTIONS,
            "socket_timeout": BROKER_TIMEOUT_SECONDS,
        },
    )
    try:
        # max_retries=0: one attempt, no back-off sleeps inside a probe.
        # celery-types says int; kombu takes any number of seconds.
        connection.ensure_connection(
            max_retries=0,
            timeout=BROKER_TIMEOUT_SECONDS,  # type: ignore[arg-type]
        )
    except (KombuOperationalError, OSError) as error:
        logger.error("Readiness: broker is down: %s", error)
        return DOWN
    finally:
        connection.release()
    return OK


CHECKS = {"database": database_check, "cache": cache_check, "broker": broker_check}
# Without these the platform cannot serve. Without the others it falls back: API keys and
# clicks from and to the database, rate limits per process (fabrknt/redis_backoff.py).
REQUIRED = frozenset({"database"})


def readiness_checks() -> dict[str, str]:
    return {name: check() for name, check in CHECKS.items()}
