"""Sessions kept in the database and read from Redis (SESSION_ENGINE when REDIS_URL is set;
README, "Read cache").

Every write goes to the database, then to a copy in Redis; a read asks Redis first, so a
signed-in page costs no session query. The copy is a hash holding the session's data and
its user's id, so that one Lua script reads, in the same round trip, the copy, the user's
viewer (accounts/cache.py: the read cache's generation and entry) and, when the request's
throttle will take a token from the user's bucket, that token (accounts/read_ahead.py):
who is asking, and their rate limit, cost one round trip. (The script names keys it
builds from the user's id: a single Redis, not a cluster.)

Redis is a helper here as everywhere (fabrknt/redis_backoff.py): while this process backs
off from it, or when a call fails, sessions are read and written in the database alone,
without waiting for a socket timeout. A copy lives SESSION_CACHE_SECONDS at most (not the
session's whole age): a session changed or ended while this process could not reach Redis
(a sign-out during an outage) is read as it was for that long at most once Redis answers
again. Asynchronous callers (the live server's handshake) read the database.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache as memoize
from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseStore
from django.core.cache import caches
from redis import Redis
from redis.commands.core import Script
from redis.typing import EncodableT

from accounts.cache import viewer_lookup_keys
from accounts.read_ahead import ReadAhead, read_ahead, wanted_token
from fabrknt.api.rate_limit import TAKE_TOKEN_FUNCTION, bucket_key, token_decision
from fabrknt.readcache import Found
from fabrknt.redis_backoff import REDIS_ERRORS, redis_failed, redis_skipped

KEY_PREFIX = "session:"
_USER = "{user}"  # where a user's id goes in the key templates (ARGV)

# KEYS[1]: the copy. ARGV: the viewer's generation key and entry key, each as the text
# before and after the user's id; the bucket's key before the user's id ('' for no token),
# its capacity and refill per second. Returns {} without a copy, {data} for a session of
# nobody, else {data, user, generation, entry, allowed (-1: no token), wait}.
_SIGNED_IN_READ = (
    TAKE_TOKEN_FUNCTION
    + """
local copy = redis.call('HMGET', KEYS[1], 'data', 'user')
if not copy[1] then return {} end
local user = copy[2]
if not user then return {copy[1]} end
local viewer = redis.call('MGET', ARGV[1] .. user .. ARGV[2], ARGV[3] .. user .. ARGV[4])
local allowed, wait = -1, 0
if ARGV[5] ~= '' then
  allowed, wait = take_token(ARGV[5] .. user, tonumber(ARGV[6]), tonumber(ARGV[7]))
end
return {copy[1], user, viewer[1], viewer[2], allowed, tostring(wait)}
"""
)


@memoize
def _script(client: Redis) -> Script:
    return client.register_script(_SIGNED_IN_READ)


class SessionStore(DatabaseStore):
    # Django's, which django-stubs leave out.
    _session: dict[str, Any]
    _get_session_from_db: Any

    @property
    def _cache(self) -> Any:
        return caches[settings.SESSION_CACHE_ALIAS]

    def _copy_key(self, session_key: str) -> str:
        return self._cache.client.make_key(KEY_PREFIX + session_key)

    def _lifetime(self, **expiry: Any) -> int:
        return min(self.get_expiry_age(**expiry), settings.SESSION_CACHE_SECONDS)

    def load(self) -> dict[str, Any]:
        if redis_skipped() or not self.session_key:
            return super().load()
        try:
            data = self._read_copy(self.session_key)
        except REDIS_ERRORS as error:
            redis_failed(error, during="session read")
            return super().load()
        if data is not None:
            return data
        stored = self._get_session_from_db()
        if stored is None:
            return {}
        data = self.decode(stored.session_data)
        self._write_copy(data, self._lifetime(expiry=stored.expire_date))
        return data

    def _read_copy(self, session_key: str) -> dict[str, Any] | None:
        """The copy's data, None without one; what was read ahead with it kept for the
        request (accounts/read_ahead.py)."""
        client = self._cache.client
        generation, entry = (
            client.make_key(key).split(_USER, 1) for key in viewer_lookup_keys(_USER)
        )
        wanted = wanted_token()
        token: list[str | float]
        if wanted is None or wanted.per_minute <= 0:
            wanted, token = None, ["", 0, 0]
        else:
            token = [bucket_key(wanted.prefix), wanted.per_minute, wanted.per_minute / 60.0]
        redis = client.get_client(write=True)
        reply = _script(redis)(
            keys=[self._copy_key(session_key)],
            args=[*generation, *entry, *token],
            client=redis,
        )
        if not reply:
            return None
        data = self.serializer().loads(reply[0])
        if len(reply) > 1:
            user, found_generation, found_entry, taken, wait = reply[1:]
            user = user.decode()
            viewer = Found(
                generations=[None if found_generation is None else int(found_generation)],
                entry=None if found_entry is None else client.decode(found_entry),
            )
            bucket = None if wanted is None else (wanted.prefix + user, token_decision(taken, wait))
            read_ahead(ReadAhead(user_id=user, viewer=viewer, token=bucket))
        return data

    def _write_copy(self, data: dict[str, Any], lifetime: int) -> None:
        if not self.session_key:
            return
        copy: dict[EncodableT, EncodableT] = {"data": self.serializer().dumps(data)}
        if data.get(SESSION_KEY):
            copy["user"] = str(data[SESSION_KEY])
        key = self._copy_key(self.session_key)

        def write(redis: Redis) -> None:
            pipeline = redis.pipeline(transaction=True)
            pipeline.delete(key)
            pipeline.hset(key, mapping=copy)
            pipeline.expire(key, max(1, lifetime))
            pipeline.execute()

        self._change_copy("write", write)

    def save(self, must_create: bool = False) -> None:
        super().save(must_create)
        self._write_copy(self._session, self._lifetime())

    def delete(self, session_key: str | None = None) -> None:
        super().delete(session_key)
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        key = self._copy_key(session_key)
        self._change_copy("delete", lambda redis: redis.delete(key))

    def _change_copy(self, what: str, change: Callable[[Redis], object]) -> None:
        """A write of the copy, after the database's: skipped while Redis is backed off."""
        if redis_skipped():
            return
        try:
            change(self._cache.client.get_client(write=True))
        except REDIS_ERRORS as error:
            redis_failed(error, during=f"session cache {what}")
