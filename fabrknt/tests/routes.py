"""The project's routes as the URL resolver has them: one walker for the tests that must
cover every route (request costs, the OpenAPI schema, the request guards, CSRF)."""

from __future__ import annotations

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
