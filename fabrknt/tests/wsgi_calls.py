"""Requests straight to a WSGI callable (`fabrknt.wsgi.application`, the one gunicorn
serves, or one of its handlers): every middleware and the click ingest's own handler, with
no server, port or HTTP parsing to pay for."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import RequestFactory


@contextmanager
def _test_database_kept() -> Iterator[None]:
    # As Django's test client does: a handler must not close the test's transaction.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        yield
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)


def wsgi_call(
    handler, method: str, path: str, body: bytes = b"", **meta
) -> tuple[int, dict, bytes]:
    """One request through a WSGI callable: (status, headers, body). Its database
    connection is this thread's, closed when the request finishes, as a server's is."""
    meta.setdefault("CONTENT_TYPE", "application/json")
    environ = RequestFactory().generic(method, path, body, **meta).environ
    answer = {}

    def start_response(status: str, headers: list, exc_info=None):
        answer["status"] = int(status.split()[0])
        answer["headers"] = dict(headers)

    response = handler(environ, start_response)
    try:
        content = b"".join(response)
    finally:
        response.close()
    return answer["status"], answer["headers"], content


def call(handler, method: str, path: str, body: bytes = b"", **meta) -> tuple[int, dict, bytes]:
    """`wsgi_call` inside the test's transaction: the request sees the test's rows."""
    with _test_database_kept():
        return wsgi_call(handler, method, path, body, **meta)
