"""How the OpenAPI schema describes our API beyond what drf-spectacular infers: our
authentication classes (it only knows the stock ones), and the refusals every view can
answer with. Imported by fabrknt.urls, beside the schema views, so the extensions are
registered before any schema is generated."""

from __future__ import annotations

from typing import Any

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema

from fabrknt.api.errors import error_responses


class BearerJWTScheme(SimpleJWTScheme):
    target_class = "fabrknt.api.authentication.BearerJWTAuthentication"
    name = "bearerAuth"


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
        return operation

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
