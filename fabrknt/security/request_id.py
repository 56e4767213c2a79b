"""The current request and its id, carried to every log line through context variables."""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.http import HttpRequest

current_request_id: ContextVar[str] = ContextVar("request_id", default="-")
# For the log lines' user and organization (fabrknt/ops/logs.py), read without a query.
current_request: ContextVar[HttpRequest | None] = ContextVar("request", default=None)


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True
