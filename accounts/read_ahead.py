"""What the round trip that reads a signed-in session reads ahead for the rest of its
request (accounts/sessions.py): the user's viewer lookup (accounts/cache.py) and, on an
API request, the rate-limit token its throttle would take next (fabrknt/api/throttles.py).

Per request: a context variable, emptied when each request starts, each part used once
and only for the user (and bucket) it was read for; whatever is not found here is read as
without it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from fabrknt.api.rate_limit import Decision
from fabrknt.readcache import Found


@dataclass
class ReadAhead:
    user_id: str
    viewer: Found | None
    token: tuple[str, Decision] | None  # the bucket's key, the decision of its token


@dataclass(frozen=True)
class WantedToken:
    """The bucket a signed-in caller's first throttle takes from: `prefix` + their id."""

    prefix: str
    per_minute: int


_wanted: ContextVar[WantedToken | None] = ContextVar("read_ahead_wanted", default=None)
_read: ContextVar[ReadAhead | None] = ContextVar("read_ahead", default=None)


@contextmanager
def token_wanted(wanted: WantedToken | None) -> Iterator[None]:
    """While the session is read inside this block, take `wanted`'s token in its round trip."""
    reset = _wanted.set(wanted)
    try:
        yield
    finally:
        _wanted.reset(reset)


def wanted_token() -> WantedToken | None:
    return _wanted.get()


def read_ahead(found: ReadAhead) -> None:
    _read.set(found)


def viewer_read_ahead(user_id: object) -> Found | None:
    found = _read.get()
    if found is None or found.user_id != str(user_id):
        return None
    viewer, found.viewer = found.viewer, None
    return viewer


def token_read_ahead(bucket: str) -> Decision | None:
    found = _read.get()
    if found is None or found.token is None:
        return None
    (key, decision), found.token = found.token, None
    return decision if key == bucket else None


def forget(**kwargs: Any) -> None:
    """request_started's receiver: nothing read for one request serves the next."""
    _read.set(None)
