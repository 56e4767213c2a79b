"""Log lines: one JSON object per line (LOG_FORMAT=json, production's default) or one
readable line (plain, development's), from every stdlib `logging` call — ours, Django's,
Celery's — through structlog's ProcessorFormatter (settings.LOGGING).

Each line carries who and what it is about, read from context, never from the database:

- `request_id`: the request's (RequestIdMiddleware, put on each record by
  RequestIdLogFilter), also inside the tasks it enqueued;
- `user_id`: the signed-in user, once the request has authenticated one (a session or a
  bearer JWT); a line logged before that, or by an anonymous request, has none;
- `organization_id`: the API key's organization, or the organization whose object the
  request opened (`log_context_bind`, called by `accounts.selectors.CallerAccess`);
- `task_id`, `task_name`: the Celery task running (in a worker, or eagerly);
- `trace_id`, `span_id`: the current OpenTelemetry span, when tracing is on.

Secrets are scrubbed from every field (fabrknt/ops/redaction.py) in both formats.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

import structlog
from celery._state import get_current_task
from django.utils.functional import SimpleLazyObject, empty
from structlog.typing import EventDict, Processor, WrappedLogger

from fabrknt.ops import tracing
from fabrknt.ops.redaction import redact_event
from fabrknt.security.request_id import current_request

# Ids a request or task binds as it learns them (the organization it works in, the
# caller of the click fast path, which has no `request.user`); cleared when it ends.
_bound: ContextVar[dict[str, str] | None] = ContextVar("log_context", default=None)


def log_context_bind(**ids: object) -> None:
    """Adds `ids` (user_id, organization_id) to the log lines of the current request or
    task, until it ends."""
    bound = dict(_bound.get() or {})
    bound.update({name: str(value) for name, value in ids.items() if value is not None})
    _bound.set(bound)


def log_context_clear(**kwargs: object) -> None:
    """Forgets the bound ids (a signal receiver: request_finished, task_postrun)."""
    _bound.set(None)


def _authenticated_user(request: object) -> object | None:
    """`request.user` if the request already knows it; never evaluates the lazy user
    (a database query inside a log call)."""
    user = getattr(request, "__dict__", {}).get("user")
    if isinstance(user, SimpleLazyObject):
        wrapped = user._wrapped  # noqa: SLF001 (the lazy object's documented state)
        return None if wrapped is empty else wrapped
    return user


def add_request_context(
    logger: WrappedLogger, method_name: str, event_dict: EventDict
) -> EventDict:
    request = current_request.get()
    if request is not None:
        user = _authenticated_user(request)
        if user is not None and getattr(user, "is_authenticated", False):
            if user.pk is not None:  # type: ignore[attr-defined]
                event_dict["user_id"] = str(user.pk)  # type: ignore[attr-defined]
            # An API key's principal (fabrknt.api.authentication.ApiKeyPrincipal).
            organization_id = getattr(user, "organization_id", None)
            if organization_id is not None:
                event_dict["organization_id"] = str(organization_id)
    bound = _bound.get()
    if bound:
        event_dict.update(bound)
    return event_dict


def add_task_context(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    # Celery's own TaskFormatter reads the running task the same way.
    task = get_current_task()
    if task is not None and task.request.id:
        event_dict["task_id"] = task.request.id
        event_dict["task_name"] = task.name
    return event_dict


def add_trace_context(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    if tracing.active():
        event_dict.update(tracing.current_ids())
    return event_dict


def add_record_fields(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """What a stdlib record adds: the level, the logger, `extra=` fields. Django's
    `request` extra becomes its method and path: the request's repr would print the
    query string."""
    record: logging.LogRecord = event_dict["_record"]
    event_dict["level"] = record.levelname.lower()
    event_dict["logger"] = record.name
    for key, value in record.__dict__.items():
        if key not in _RECORD_ATTRIBUTES and not key.startswith("_"):
            event_dict.setdefault(key, value)
    if event_dict.get("request_id") == "-":  # RequestIdLogFilter's "none"
        del event_dict["request_id"]
    request = event_dict.pop("request", None)
    if isinstance(getattr(request, "method", None), str):
        event_dict["method"] = request.method
        event_dict["path"] = request.path
    event_dict.pop("server_time", None)  # runserver's, a duplicate of the timestamp
    return event_dict


# A LogRecord's own attributes (what is left are `extra=` fields, and the request id
# that RequestIdLogFilter puts on every record).
_RECORD_ATTRIBUTES = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys() | {"message", "asctime"}
)

_PRE_CHAIN: list[Processor] = [
    structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
    add_record_fields,
    add_request_context,
    add_task_context,
    add_trace_context,
]
_FINISH: list[Processor] = [
    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
    structlog.processors.format_exc_info,
    structlog.processors.StackInfoRenderer(),
    redact_event,
    structlog.processors.EventRenamer("message"),
]


_HEAD = ("timestamp", "level", "logger", "message")


def order_fields(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """The fixed fields first, for a person reading the raw lines."""
    head = {key: event_dict.pop(key) for key in _HEAD if key in event_dict}
    return head | dict(event_dict)


class JsonFormatter(structlog.stdlib.ProcessorFormatter):
    """One JSON object per line: timestamp, level, logger, message, the context ids,
    `extra=` fields, `exception` (the traceback as text)."""

    def __init__(self) -> None:
        super().__init__(
            foreign_pre_chain=_PRE_CHAIN,
            processors=[*_FINISH, order_fields, structlog.processors.JSONRenderer(default=repr)],
        )


def render_plain(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> str:
    """`<time> <LEVEL> <logger> [<request id>] <message> key=value...`, then the traceback."""
    head = (
        f"{event_dict.pop('timestamp')} {event_dict.pop('level').upper()} "
        f"{event_dict.pop('logger')} [{event_dict.pop('request_id', '-')}] "
        f"{event_dict.pop('message')}"
    )
    exception = event_dict.pop("exception", None)
    fields = "".join(f" {key}={value}" for key, value in event_dict.items())
    return f"{head}{fields}" + (f"\n{exception}" if exception else "")


class PlainFormatter(structlog.stdlib.ProcessorFormatter):
    """For a terminal: the same fields, redacted the same way, on one readable line."""

    def __init__(self) -> None:
        super().__init__(foreign_pre_chain=_PRE_CHAIN, processors=[*_FINISH, render_plain])
