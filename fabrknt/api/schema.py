"""How the OpenAPI schema describes our API beyond what drf-spectacular infers: our
authentication classes (it only knows the stock ones), the refusals every view can
answer with, and the daily quota's headers on what API keys call. Imported by
fabrknt.urls, beside the schema views, so the extensions are registered before any
schema is generated."""

from __future__ import annotations

from typing import Any

from drf_spectacular.authentication import SessionScheme as StockSessionScheme
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema

from fabrknt.api.errors import error_responses
from fabrknt.api.throttles import DefaultThrottle

# The usage plan's headers (fabrknt.api.quota), declared once: on every answer to a `read`
# or `write` API key of an operation DefaultThrottle counts, its 429 included.
QUOTA_HEADERS = {
    "X-RateLimit-Limit": {
        "description": "API key requests: the key's daily quota (its organization's)",
        "schema": {"type": "integer"},
    },
    "X-RateLimit-Remaining": {
        "description": "API key requests: what is left of today's quota (UTC day)",
        "schema": {"type": "integer"},
    },
    "X-RateLimit-Reset": {
        "description": "API key requests: the next midnight UTC, in seconds since the epoch",
        "schema": {"type": "integer"},
    },
}


class BearerJWTScheme(SimpleJWTScheme):
    target_class = "fabrknt.api.authentication.BearerJWTAuthentication"
    name = "bearerAuth"


class SessionScheme(StockSessionScheme):
    target_class = "fabrknt.api.authentication.SessionAuthentication"


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "fabrknt.api.authentication.ApiKeyAuthentication"
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": "An organization's key, `fab_<prefix>_<secret>`, limited to its scopes.",
        }


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's, plus the refusals the platform's layers give whatever the view
    (API.md, Conventions), so a view's `extend_schema` only names what is its own:

    - 400 when the operation takes a body or query parameters (field errors);
    - 401 and 403 when it authenticates callers: a bad token or key is refused even where
      anonymous callers are welcome, and a known caller may lack the access;
    - 404 when its path names an object (unknown, another organization's, or not an id),
      or when it is a paginated list (a `page` past the last);
    - 413 and 415 when it takes a body (the request guards' size and JSON-only rules);
    - 429 when it is rate limited.

    A status the view documents itself keeps the view's description.
    """

    def get_operation(self, *args: Any, **kwargs: Any) -> dict | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation["responses"]
        for status, response in error_responses(*self._refusal_statuses(operation)).items():
            if str(status) not in responses:
                responses[str(status)] = self._get_response_for_code(response, str(status))
        if self._counts_daily_quota(operation):
            for status, response in responses.items():
                if status.startswith("2") or status == "429":
                    response.setdefault("headers", {}).update(QUOTA_HEADERS)
        return operation

    def _counts_daily_quota(self, operation: dict) -> bool:
        """An API key may call it, and DefaultThrottle counts the key's quota."""
        key_allowed = any("apiKeyAuth" in scheme for scheme in operation.get("security", []))
        return key_allowed and any(
            issubclass(throttle, DefaultThrottle) for throttle in self.view.throttle_classes
        )

    def _refusal_statuses(self, operation: dict) -> list[int]:
        has_body = "requestBody" in operation
        parameters = operation.get("parameters", [])
        statuses = []
        if has_body or any(p["in"] == "query" for p in parameters):
            statuses.append(400)
        if self.view.authentication_classes:
            statuses += [401, 403]
        paginated = self._is_list_view() and self._get_paginator() is not None
        if paginated or any(p["in"] == "path" for p in parameters):
            statuses.append(404)
        if has_body:
            statuses += [413, 415]
        if self.view.throttle_classes:
            statuses.append(429)
        return statuses
