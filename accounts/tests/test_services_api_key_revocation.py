"""A request in flight while a key is revoked must not put the key back into the cache:
neither the lookup that loaded the row just before the revocation nor the `last_used_at`
refresh. Each interleaving is forced with two threads against real PostgreSQL and Redis:
the in-flight request is paused at the exact point (after its SELECT, after its cache
write, before its UPDATE) while the revocation runs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection

from accounts.models import ApiKey
from accounts.services import api_keys
from accounts.services.api_keys import api_key_authenticate, api_key_issue, api_key_revoke
from accounts.tests.factories import OrganizationFactory

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

WAIT = 10  # seconds: a paused thread that is never resumed fails the test, not hangs it


def _pause_at(statement: str, reached: threading.Event, resume: threading.Event, *, after: bool):
    """A database hook (Django's execute_wrapper) that pauses the calling thread at its
    first statement starting with `statement` on the API key table."""

    def hook(execute, sql, params, many, context):
        matches = sql.startswith(statement) and '"accounts_apikey"' in sql
        if matches and not after and not reached.is_set():
            reached.set()
            assert resume.wait(WAIT)
        result = execute(sql, params, many, context)
        if matches and after and not reached.is_set():
            reached.set()
            assert resume.wait(WAIT)
        return result

    return hook


def _in_flight(hook, key: str) -> Callable[[], ApiKey | None]:
    """`api_key_authenticate` as another request's thread runs it, with `hook` on its own
    database connection."""

    def request() -> ApiKey | None:
        try:
            with connection.execute_wrapper(hook):
                return api_key_authenticate(key=key)
        finally:
            connection.close()

    return request


class _CacheWritePause:
    """The real cache, except that the in-flight thread pauses right after it writes the
    key's entry (so another request can look the key up at that moment)."""

    def __init__(self, entry: str, thread_name: str) -> None:
        self.entry, self.thread_name = entry, thread_name
        self.written, self.resume = threading.Event(), threading.Event()

    def __getattr__(self, name: str):
        return getattr(cache, name)

    def set(self, key, *args, **kwargs):
        cache.set(key, *args, **kwargs)
        if key == self.entry and threading.current_thread().name.startswith(self.thread_name):
            self.written.set()
            assert self.resume.wait(WAIT)


def test_a_key_loaded_before_its_revocation_is_not_cached_after_it(redis_client, monkeypatch):
    issued = api_key_issue(organization=OrganizationFactory(), name="edge", scopes=["read"])
    entry = f"apikey:v2:{issued.api_key.prefix}"
    loaded, revoked = threading.Event(), threading.Event()
    write_pause = _CacheWritePause(entry, thread_name="in-flight")
    monkeypatch.setattr(api_keys, "cache", write_pause)
    hook = _pause_at("SELECT", loaded, revoked, after=True)

    with ThreadPoolExecutor(1, thread_name_prefix="in-flight") as pool:
        # The request's cache misses, it loads the (still active) row, and stops there.
        answer = pool.submit(_in_flight(hook, issued.key))
        assert loaded.wait(WAIT)
        # Another process revokes the key: marker set, cache entry deleted.
        assert api_key_revoke(api_key=ApiKey.objects.get()) is True
        revoked.set()
        # If the request writes the entry back now, a third request must still refuse it.
        during = api_key_authenticate(key=issued.key) if write_pause.written.wait(2) else None
        write_pause.resume.set()
        in_flight = answer.result(timeout=WAIT)

    # Written back, the entry would authenticate the revoked key for another 60 s.
    assert cache.get(entry) is None
    assert api_key_authenticate(key=issued.key) is None
    assert (in_flight, during, cache.get(entry)) == (None, None, None)


def test_a_last_used_refresh_after_the_revocation_caches_nothing(redis_client, monkeypatch):
    issued = api_key_issue(organization=OrganizationFactory(), name="edge", scopes=["read"])
    entry = f"apikey:v2:{issued.api_key.prefix}"
    assert api_key_authenticate(key=issued.key) is not None  # cached, last_used_at set
    last_used = ApiKey.objects.get().last_used_at
    # Every call is due to refresh last_used_at (else once a minute).
    monkeypatch.setattr(api_keys, "_LAST_USED_RESOLUTION", timedelta(0))
    reached, revoked = threading.Event(), threading.Event()
    hook = _pause_at("UPDATE", reached, revoked, after=False)

    with ThreadPoolExecutor(1) as pool:
        # The request finds the active key in the cache and is about to refresh it.
        answer = pool.submit(_in_flight(hook, issued.key))
        assert reached.wait(WAIT)
        assert api_key_revoke(api_key=ApiKey.objects.get()) is True
        revoked.set()
        in_flight = answer.result(timeout=WAIT)

    assert cache.get(entry) is None
    assert api_key_authenticate(key=issued.key) is None
    assert in_flight is None
    assert ApiKey.objects.get().last_used_at == last_used  # a revoked row is not touched
