"""Operational writes: worker pings."""

from __future__ import annotations

import logging
import socket

from django.core.cache import cache
from django.utils import timezone

PING_SECONDS = 300

logger = logging.getLogger(__name__)


def ping_key(token: str) -> str:
    return f"ops:ping:{token}"


def ping_record(*, token: str) -> dict[str, str]:
    """Leave proof in the shared cache that a worker ran a task for `token`."""
    answer = {"hostname": socket.gethostname(), "at": timezone.now().isoformat()}
    cache.set(ping_key(token), answer, PING_SECONDS)
    logger.info("Ping %s answered by %s", token, answer["hostname"])
    return answer
