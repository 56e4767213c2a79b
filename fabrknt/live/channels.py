"""Which live channels exist and who may subscribe to them.

A channel is `ops` (staff only) or `<kind>:<id>` where the kind is one of
settings.LIVE_CHANNEL_KINDS, whose function (in the product app that owns the object) says
whether the user may see that object. A channel the user may not see answers exactly as
one that does not exist."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from accounts.models import User

OPS = "ops"
MAX_CHANNEL_LENGTH = 100

Visibility = Callable[..., bool]


@cache
def _kind_visibility(kind: str) -> Visibility | None:
    path = settings.LIVE_CHANNEL_KINDS.get(kind)
    return import_string(path) if path else None


def channel_allowed(*, user: User, channel: str) -> bool:
    """Whether `user` may subscribe to `channel`; False for a channel that cannot exist."""
    if channel == OPS:
        return bool(user.is_staff)
    kind, separator, object_id = channel.partition(":")
    if not separator or not object_id or len(channel) > MAX_CHANNEL_LENGTH:
        return False
    visible = _kind_visibility(kind)
    return visible is not None and visible(user=user, object_id=object_id)
