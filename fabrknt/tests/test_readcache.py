"""fabrknt/readcache.py on its own: versioned entries, a counter that vanished, an entry
stored late, Redis failing at each step, and the cache headers of static files."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import transaction
from django.http import HttpResponse
from django.test import RequestFactory

from fabrknt.readcache import GENERATION_PREFIX, Found, cached, changed, lookup_keys

pytestmark = pytest.mark.django_db


class Source:
    def __init__(self) -> None:
        self.value, self.builds = "one", 0

    def build(self) -> str:
        self.builds += 1
        return self.value


def _read(source: Source, *parts: object) -> str:
    return cached("test", scopes=["test:a", "test:b"], parts=parts, build=source.build)


def test_an_entry_is_built_once_per_generation_of_each_scope():
    source = Source()
    assert (_read(source), _read(source), _read(source, "other")) == ("one", "one", "one")
    assert source.builds == 2  # one per parts
    source.value = "two"
    changed("test:b")  # either scope retires it
    assert _read(source) == "two"
    assert source.builds == 3


def test_none_is_cached_too():
    calls = []
    for _ in range(2):
        cached("none", scopes=["test:a"], build=lambda: calls.append(1))
    assert len(calls) == 1


def test_a_vanished_counter_never_brings_back_an_old_entry():
    source = Source()
    _read(source)
    source.value = "two"
    cache.delete(GENERATION_PREFIX + "test:a")  # evicted, or flushed with the entries kept
    assert _read(source) == "two"


def test_an_entry_built_before_a_write_and_stored_after_it_is_never_served():
    # A slow reader looks up, a write bumps, a fast reader caches the new rows, then the
    # slow one stores what it read before the write over that entry.
    source, slow_reader = Source(), Source()
    stale = lookup_keys("test", scopes=["test:a", "test:b"])
    _read(source)  # the counters exist
    slow_found = cache.get_many(stale)
    source.value = slow_reader.value = "two"
    changed("test:a")
    assert _read(source) == "two"
    slow_reader.value = "one"  # what it read before the write
    found = Found(generations=[slow_found[key] for key in stale[:2]], entry=None)
    cached("test", scopes=["test:a", "test:b"], build=slow_reader.build, found=found)

    assert _read(source) == "two"  # its entry holds the old generations: a miss, rebuilt
    assert source.builds == 3


def test_a_write_is_retired_again_when_its_transaction_commits(
    django_capture_on_commit_callbacks,
):
    source = Source()
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            changed("test:a")
            source.value = "read before the commit"
            assert _read(source) == "read before the commit"  # a reader in between
            source.value = "committed"
    assert _read(source) == "committed"


def test_redis_down_reads_the_source_and_a_bump_does_not_raise(redis_server):
    source = Source()
    assert _read(source) == "one"
    redis_server.stop()
    source.value = "two"
    changed("test:a")  # logged, backed off
    assert _read(source) == "two"
    assert _read(source) == "two"
    assert source.builds == 3  # every read from the source, none raised


def test_a_hung_redis_costs_one_timeout_then_the_back_off(redis_server, settings):
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            **settings.CACHES["default"],
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        },
    }
    source = Source()
    _read(source)
    redis_server.pause()
    try:
        import time

        started = time.monotonic()
        for _ in range(20):
            assert _read(source) == "one"
        assert time.monotonic() - started < 2  # one timeout, then straight to the source
    finally:
        redis_server.stop()


@pytest.fixture
def collected(tmp_path, settings):
    """The static files as production serves them: collected, with hashed names."""
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    settings.DEBUG = False
    call_command("collectstatic", interactive=False, verbosity=0)
    return settings.STATIC_ROOT


def test_hashed_static_files_are_immutable_and_the_embed_script_is_not(collected):
    from django.contrib.staticfiles.storage import staticfiles_storage
    from whitenoise.middleware import WhiteNoiseMiddleware

    middleware = WhiteNoiseMiddleware(lambda request: HttpResponse(status=404))
    hashed = staticfiles_storage.url("trace/fab.js")
    assert hashed != "/static/trace/fab.js"
    response = middleware(RequestFactory().get(hashed))
    assert response.status_code == 200
    assert response["Cache-Control"] == "max-age=315360000, public, immutable"
    # The tracking script sites embed by its plain name: short-lived, or a fix would take
    # a year to reach them.
    plain = middleware(RequestFactory().get("/static/trace/fab.js"))
    assert plain.status_code == 200
    assert plain["Cache-Control"] == "max-age=60, public"
