"""The WSGI application: Django's handler, with a lean one in front of the click ingest.

`POST /api/v1/clicks` and `/api/v1/clicks/batch` are called thousands of times a second
by machines (a dapp's backend, an edge forwarder) with an API key or a bearer token,
never with a browser session. For them `IngestHandler` runs `settings.INGEST_MIDDLEWARE`:
every request guard of `settings.MIDDLEWARE` (request id, IP rules, body limit, JSON only,
security headers, allowed hosts) without what only a browser needs (static files,
sessions, CSRF, session users, messages), and resolves against `fabrknt.ingest_urls`,
which holds those two routes alone. The views are the same functions the full stack
routes, so a request gets the same answer on either handler (tests check both).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponseBase
from django.utils.module_loading import import_string

INGEST_PATHS = frozenset({"/api/v1/clicks", "/api/v1/clicks/batch"})
INGEST_URLCONF = "fabrknt.ingest_urls"


class IngestHandler(WSGIHandler):
    """Django's WSGI handler with `settings.INGEST_MIDDLEWARE` and the ingest URLconf."""

    def load_middleware(self, is_async: bool = False) -> None:
        # The chain Django's BaseHandler.load_middleware builds, from another list. Every
        # guard is a plain callable middleware: none has view, template or exception hooks.
        self._view_middleware: list[Callable[..., Any]] = []
        self._template_response_middleware: list[Callable[..., Any]] = []
        self._exception_middleware: list[Callable[..., Any]] = []
        # django-stubs does not declare BaseHandler._get_response, the view-calling step.
        handler = convert_exception_to_response(self._get_response)  # type: ignore[attr-defined]
        for middleware_path in reversed(settings.INGEST_MIDDLEWARE):
            middleware = import_string(middleware_path)(handler)
            handler = convert_exception_to_response(middleware)
        self._middleware_chain = handler

    def get_response(self, request: HttpRequest) -> HttpResponseBase:
        request.urlconf = INGEST_URLCONF
        return super().get_response(request)


class Application:
    """The WSGI callable: the ingest paths to `IngestHandler`, everything else to Django's."""

    def __init__(self) -> None:
        self.default = WSGIHandler()
        self.ingest = IngestHandler()

    def __call__(self, environ: dict, start_response):
        handler = self.ingest if environ.get("PATH_INFO") in INGEST_PATHS else self.default
        return handler(environ, start_response)
