"""The project's URL routes, read from the URL resolver, for the tests that must cover
every one of them (a new route without an entry fails those tests)."""

from __future__ import annotations

from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver


def url_routes() -> Iterator[tuple[str, URLPattern]]:
    """Every route of the project (its full pattern, e.g. `api/v1/roi/<uuid:campaign_id>`)
    with its pattern."""

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern), pattern

    yield from walk(get_resolver().url_patterns)


def view_class(pattern: URLPattern) -> type | None:
    """The class of a class-based view (DRF's or Django's), None for a function view."""
    return getattr(pattern.callback, "cls", None) or getattr(pattern.callback, "view_class", None)


def api_get_routes() -> dict[str, str]:
    """Every route of /api/v1/ whose view answers GET: name → route."""
    routes = {}
    for route, pattern in url_routes():
        view = view_class(pattern)
        if route.startswith("api/v1/") and view is not None and hasattr(view, "get"):
            routes[pattern.name] = route
    return routes
