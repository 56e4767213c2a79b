"""The project's routes as the URL resolver has them: one walker for the tests that must
cover every route (request costs, the OpenAPI schema, the request guards, CSRF, the
authorization matrix)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver


def url_patterns_walk(patterns=None, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    """Every URL pattern with its whole route (`api/v1/projects/<uuid:pk>`), depth first."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from url_patterns_walk(entry.url_patterns, route)
        else:
            yield route, entry


def view_class(pattern: URLPattern) -> type | None:
    """The class behind a pattern's view (DRF's `cls`, Django's `view_class`); None for a
    function view."""
    callback = pattern.callback
    return getattr(callback, "cls", None) or getattr(callback, "view_class", None)


_PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?\w+>")


def example_path(route: str) -> str:
    """`route` as a path, each parameter an example of its converter (ids of nothing)."""

    def example(match: re.Match) -> str:
        return {"uuid": str(uuid.uuid4()), "int": "1"}.get(match["converter"], "x1")

    return "/" + _PARAMETER.sub(example, route)


WRITE_METHODS = ("POST", "PUT", "PATCH")


def api_write_routes() -> list[tuple[str, str, str]]:
    """(URL name, method, example path) of every route of /api/v1/ whose view writes."""
    found = []
    for route, pattern in url_patterns_walk():
        if not route.startswith("api/v1/"):
            continue
        view = view_class(pattern)
        assert view is not None, f"{route}: a function view, whose methods cannot be seen"
        found += [
            (pattern.name, method, example_path(route))
            for method in WRITE_METHODS
            if hasattr(view, method.lower())
        ]
    return found


def page_routes() -> list[tuple[str, str]]:
    """(route, example path) of every route outside the API, the admin's included."""
    routes = dict.fromkeys(route for route, _ in url_patterns_walk())  # admin/ twice
    return [
        (route, example_path(route))
        for route in routes
        # The admin's app index is a regular expression, which has no example path.
        if not route.startswith("api/") and "(?P<" not in route
    ]


def api_get_routes() -> dict[str, str]:
    """Every route of /api/v1/ whose view answers GET: name → route."""
    return {
        pattern.name: route
        for route, pattern in url_patterns_walk()
        if route.startswith("api/v1/") and hasattr(view_class(pattern), "get")
    }
