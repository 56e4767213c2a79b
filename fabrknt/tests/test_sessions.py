"""Sessions kept in the database and read from Redis (fabrknt/sessions.py): a signed-in
request reads no session row once its copy is cached, a sign-out ends the copy too, the
copy lives SESSION_CACHE_SECONDS at most, and while Redis is backed off or down sessions
are read and written in the database alone."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import WalletFactory
from fabrknt.redis_backoff import redis_failed
from fabrknt.sessions import SessionStore

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db]


def _session_queries(queries: CaptureQueriesContext) -> int:
    return sum('"django_session"' in q["sql"] for q in queries.captured_queries)


def _signed_in() -> tuple[Client, str]:
    client = Client()
    client.force_login(WalletFactory().user)
    return client, client.cookies[settings.SESSION_COOKIE_NAME].value


def test_redis_is_the_session_engine():
    assert settings.SESSION_ENGINE == "fabrknt.sessions"


def test_a_signed_in_request_reads_its_session_from_redis():
    client, key = _signed_in()
    cache.delete(SessionStore.cache_key_prefix + key)  # as after its copy expired
    with CaptureQueriesContext(connection) as cold:
        assert SESSION_KEY in client.get("/").wsgi_request.session
    with CaptureQueriesContext(connection) as warm:
        assert SESSION_KEY in client.get("/").wsgi_request.session

    assert _session_queries(cold) == 1  # read from the database, then copied
    assert _session_queries(warm) == 0
    assert 0 < cache.ttl(SessionStore.cache_key_prefix + key) <= settings.SESSION_CACHE_SECONDS


def test_signing_out_ends_the_cached_copy_too():
    client, key = _signed_in()
    client.get("/")
    stolen = Client()
    stolen.cookies[settings.SESSION_COOKIE_NAME] = key

    client.post("/signout")

    assert cache.get(SessionStore.cache_key_prefix + key) is None
    assert not Session.objects.filter(session_key=key).exists()
    assert SESSION_KEY not in stolen.get("/").wsgi_request.session


def test_while_redis_is_backed_off_sessions_live_in_the_database_alone():
    client, key = _signed_in()
    redis_failed(ConnectionError("gone"), during="a test")

    with CaptureQueriesContext(connection) as queries:
        assert SESSION_KEY in client.get("/").wsgi_request.session
    assert _session_queries(queries) == 1
    client.post("/signout")  # its copy cannot be deleted now: it lives its short life out

    assert not Session.objects.filter(session_key=key).exists()


def test_with_redis_down_a_sign_in_and_its_pages_work(redis_server):
    redis_server.kill()
    client, key = _signed_in()  # written to the database; the copy fails, logged

    assert SESSION_KEY in client.get("/").wsgi_request.session
    assert Session.objects.filter(session_key=key).exists()
