"""Sessions kept in the database and read from Redis (accounts/sessions.py): a signed-in
request reads no session row once its copy is cached, a sign-out ends the copy too, the
copy lives SESSION_CACHE_SECONDS at most, an API read's rate-limit token is taken in the
session's round trip, and while Redis is backed off or down sessions are read and written
in the database alone."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.signals import request_started
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.read_ahead import (
    ReadAhead,
    read_ahead,
    token_read_ahead,
    viewer_read_ahead,
)
from accounts.sessions import KEY_PREFIX, SessionStore
from accounts.tests.factories import WalletFactory
from fabrknt.api.rate_limit import Decision, bucket_key
from fabrknt.readcache import Found
from fabrknt.redis_backoff import redis_failed

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db]


def _session_queries(queries: CaptureQueriesContext) -> int:
    return sum('"django_session"' in q["sql"] for q in queries.captured_queries)


def _signed_in() -> tuple[Client, str]:
    client = Client()
    client.force_login(WalletFactory().user)
    return client, client.cookies[settings.SESSION_COOKIE_NAME].value


def test_redis_is_the_session_engine():
    assert settings.SESSION_ENGINE == "accounts.sessions"


def test_a_signed_in_request_reads_its_session_from_redis():
    client, key = _signed_in()
    cache.delete(KEY_PREFIX + key)  # as after its copy expired
    with CaptureQueriesContext(connection) as cold:
        assert SESSION_KEY in client.get("/").wsgi_request.session
    with CaptureQueriesContext(connection) as warm:
        assert SESSION_KEY in client.get("/").wsgi_request.session

    assert _session_queries(cold) == 1  # read from the database, then copied
    assert _session_queries(warm) == 0
    assert 0 < cache.ttl(KEY_PREFIX + key) <= settings.SESSION_CACHE_SECONDS


def test_signing_out_ends_the_cached_copy_too():
    client, key = _signed_in()
    client.get("/")
    stolen = Client()
    stolen.cookies[settings.SESSION_COOKIE_NAME] = key

    client.post("/signout")

    assert not cache.has_key(KEY_PREFIX + key)
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


def test_a_session_of_nobody_is_read_from_its_copy_too():
    store = SessionStore()
    store["next"] = "/trace/"
    store.save()  # a visitor's session, before any sign-in

    with CaptureQueriesContext(connection) as queries:
        assert SessionStore(store.session_key).load() == {"next": "/trace/"}
    assert _session_queries(queries) == 0


def test_an_api_read_takes_its_rate_limit_token_in_the_sessions_round_trip(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "user": 3}
    client, _ = _signed_in()
    user_id = client.session[SESSION_KEY]
    for _ in range(4):  # pages take no token
        assert client.get("/organizations/").status_code == 200

    statuses = [client.get("/api/v1/organizations").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]  # the user's bucket, taken by the session's script
    tokens = cache.client.get_client().hget(bucket_key(f"user:{user_id}"), "tokens")
    assert float(tokens) < 1


def test_what_was_read_ahead_serves_its_own_request_once_and_no_other():
    decision = Decision(allowed=True, retry_after=1)
    viewer = Found(generations=[1], entry=None)

    read_ahead(ReadAhead(user_id="a", viewer=viewer, token=("user:a", decision)))
    assert viewer_read_ahead("b") is None  # another user's
    assert token_read_ahead("ingest:user:a") is None  # another bucket's: dropped
    assert token_read_ahead("user:a") is None
    assert viewer_read_ahead("a") is viewer
    assert viewer_read_ahead("a") is None  # used once

    read_ahead(ReadAhead(user_id="a", viewer=viewer, token=("user:a", decision)))
    request_started.send(sender=None)  # the next request
    assert (viewer_read_ahead("a"), token_read_ahead("user:a")) == (None, None)
