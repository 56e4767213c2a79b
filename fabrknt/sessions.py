"""Sessions kept in the database and read from Redis (SESSION_ENGINE when REDIS_URL is set;
README, "Read cache").

Django's `cached_db` engine: every write goes to the database, then to the cache; a read
asks the cache first, so a signed-in page costs no session query. Redis is a helper here
as everywhere (fabrknt/redis_backoff.py): while this process backs off from it, or when a
call fails, sessions are read and written in the database alone, without waiting for a
socket timeout.

A cached copy lives SESSION_CACHE_SECONDS at most (not the session's whole age): a session
changed or ended while this process could not reach Redis (a sign-out during an outage)
is read as it was for that long at most once Redis answers again.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.backends.db import SessionStore as DatabaseStore
from django.core.cache.backends.base import BaseCache

from fabrknt.redis_backoff import REDIS_ERRORS, redis_failed, redis_skipped


class SessionStore(cached_db.SessionStore):
    # Django's, which django-stubs leave out.
    _cache: BaseCache
    _session: dict[str, Any]
    _get_session_from_db: Any

    def _cache_lifetime(self, **expiry: Any) -> int:
        return min(self.get_expiry_age(**expiry), settings.SESSION_CACHE_SECONDS)

    def load(self) -> dict[str, Any]:
        if redis_skipped():
            return DatabaseStore.load(self)
        try:
            data = self._cache.get(self.cache_key)
        except REDIS_ERRORS as error:
            redis_failed(error, during="session read")
            return DatabaseStore.load(self)
        if data is not None:
            return data
        stored = self._get_session_from_db()
        if stored is None:
            return {}
        data = self.decode(stored.session_data)
        self._cache_call(
            "fill",
            self._cache.set,
            self.cache_key,
            data,
            self._cache_lifetime(expiry=stored.expire_date),
        )
        return data

    def exists(self, session_key: str) -> bool:
        # The database holds every session; the cache only copies of some.
        return DatabaseStore.exists(self, session_key)

    def save(self, must_create: bool = False) -> None:
        DatabaseStore.save(self, must_create)
        self._cache_call(
            "write", self._cache.set, self.cache_key, self._session, self._cache_lifetime()
        )

    def delete(self, session_key: str | None = None) -> None:
        DatabaseStore.delete(self, session_key)
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        self._cache_call("delete", self._cache.delete, self.cache_key_prefix + session_key)

    def _cache_call(self, what: str, call: Any, *args: Any) -> None:
        if redis_skipped():
            return
        try:
            call(*args)
        except REDIS_ERRORS as error:
            redis_failed(error, during=f"session cache {what}")
