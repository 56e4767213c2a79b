"""How the OpenAPI schema describes our authentication classes (drf-spectacular only knows
the stock ones). Imported by fabrknt.urls, beside the schema views, so the extensions are
registered before any schema is generated."""

from __future__ import annotations

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension


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
