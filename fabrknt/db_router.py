"""Reads from a PostgreSQL read replica, with read-your-writes (DATABASE_REPLICA_URL).

When DATABASE_REPLICA_URL is set, settings add the `replica` alias and
ReplicaReadsMiddleware decides per request whether its reads may go there: only a request
with a safe method (GET, HEAD, OPTIONS) from a caller who has not written within
DATABASE_REPLICA_PIN_SECONDS. Everything else reads and writes the primary (`default`):

- writes, whatever loaded the object (`db_for_write` is always `default`), and every query
  Django marks as one for writing: `select_for_update`, `get_or_create`,
  `update_or_create`, `update`, `delete`;
- reads inside a transaction (an `atomic` block on `default`), so a block reads what it
  locks and writes;
- Celery tasks, management commands, the shell and the ingest paths: the switch is a
  contextvar that only the middleware turns on, for the request it serves;
- migrations: `allow_migrate` refuses the replica.

Read-your-writes: a request with an unsafe method, or a safe one that wrote to the primary
(a session saved, a key's last use refreshed), pins its caller to the primary for the
window: a caller with a credential header (X-API-Key, Authorization) by a short cache key
named after the header's hash, any other caller (a browser session, an anonymous visitor)
by a signed cookie that expires with the window. Other callers keep reading the replica.
Without the replica alias the middleware removes itself and the router has no opinion.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import MiddlewareNotUsed
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse

from fabrknt.redis_backoff import REDIS_ERRORS, redis_failed, redis_skipped

REPLICA = "replica"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PIN_COOKIE = "fabrknt_primary"
_PIN_SALT = "fabrknt.db_router.pin"
_PIN_CACHE_PREFIX = "dbpin:"
# What a statement that reads, or only manages a transaction, starts with; anything else
# on the primary during a safe request counts as a write.
_NOT_WRITES = ("SELECT", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "SHOW")

_replica_reads: ContextVar[bool] = ContextVar("fabrknt_replica_reads", default=False)


def replica_configured() -> bool:
    return REPLICA in connections.settings


class ReplicaRouter:
    """Reads to the replica only while the middleware allows it for this request, and
    never inside a transaction; writes and migrations to `default`."""

    def db_for_read(self, model: type, **hints: Any) -> str | None:
        if not _replica_reads.get():
            return None
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        return REPLICA

    def db_for_write(self, model: type, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the replica is a copy of the primary: the same rows

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return False if db == REPLICA else None


class _WriteWatch:
    """An execute wrapper on the primary's connection: notes a statement that writes."""

    def __init__(self) -> None:
        self.wrote = False

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: Any):
        if not self.wrote and not sql.lstrip().upper().startswith(_NOT_WRITES):
            self.wrote = True
        return execute(sql, params, many, context)


def _credential_key(request: HttpRequest) -> str | None:
    credential = request.headers.get("X-API-Key") or request.headers.get("Authorization")
    if not credential:
        return None
    return _PIN_CACHE_PREFIX + hashlib.sha256(credential.encode()).hexdigest()


def _pinned(request: HttpRequest, credential_key: str | None) -> bool:
    """Whether this caller wrote within the window. Without Redis, a credential's caller
    is taken as pinned: the primary is always right, only slower to ask."""
    if credential_key is None:
        value = request.get_signed_cookie(
            PIN_COOKIE,
            default=None,
            salt=_PIN_SALT,
            max_age=settings.DATABASE_REPLICA_PIN_SECONDS,
        )
        return value is not None
    if redis_skipped():
        return True
    try:
        return cache.get(credential_key) is not None
    except REDIS_ERRORS as error:
        redis_failed(error, during="reading a replica pin")
        return True


def _pin(response: HttpResponse, credential_key: str | None) -> None:
    seconds = settings.DATABASE_REPLICA_PIN_SECONDS
    if credential_key is None:
        response.set_signed_cookie(
            PIN_COOKIE,
            "1",
            salt=_PIN_SALT,
            max_age=math.ceil(seconds),
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
        return
    if redis_skipped():
        return  # pinned anyway while Redis is down (_pinned)
    try:
        cache.set(credential_key, 1, timeout=seconds)
    except REDIS_ERRORS as error:
        redis_failed(error, during="pinning a caller to the primary")


class ReplicaReadsMiddleware:
    """Turns replica reads on for the safe requests of unpinned callers, and pins a
    caller who wrote."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        if not replica_configured():
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        credential_key = _credential_key(request)
        if request.method not in SAFE_METHODS:
            response = self.get_response(request)
            _pin(response, credential_key)
            return response
        watch = _WriteWatch()
        token = _replica_reads.set(not _pinned(request, credential_key))
        try:
            with connections[DEFAULT_DB_ALIAS].execute_wrapper(watch):
                response = self.get_response(request)
        finally:
            _replica_reads.reset(token)
        if watch.wrote:
            _pin(response, credential_key)
        return response
