"""The OpenAPI schema covers every /api/v1/ route; Swagger UI is served without a CDN and
runs under our Content-Security-Policy."""

from __future__ import annotations

import re

import pytest
from csp.utils import build_policy
from django.contrib.admindocs.views import simplify_regex
from django.core.management import call_command

from fabrknt.security.swagger_ui import swagger_ui_style_hashes
from fabrknt.tests.routes import url_patterns_walk

pytestmark = pytest.mark.django_db

NOT_DOCUMENTED = {"/api/v1/schema/", "/api/v1/docs/"}


def routes() -> list[str]:
    """Every URL the project routes, as a path with its parameters written `{}`."""
    return [
        re.sub(r"<[^>]+>", "{}", simplify_regex(route))
        for route, pattern in url_patterns_walk()
        if "format" not in pattern.pattern.regex.groupindex
    ]


def api_routes() -> set[str]:
    return {r for r in routes() if r.startswith("/api/v1/")} - NOT_DOCUMENTED


@pytest.fixture
def schema(client) -> dict:
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_schema_is_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Fabrknt Suite API"


def test_every_api_route_is_in_the_schema(schema):
    documented = {re.sub(r"\{[^}]+\}", "{}", path) for path in schema["paths"]}

    assert api_routes(), "no /api/v1/ routes found"
    assert sorted(api_routes() - documented) == []


def test_schema_describes_both_ways_to_authenticate(schema):
    schemes = schema["components"]["securitySchemes"]

    assert schemes["bearerAuth"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert schemes["apiKeyAuth"]["type"] == "apiKey"
    assert schemes["apiKeyAuth"]["in"] == "header"
    assert schemes["apiKeyAuth"]["name"] == "X-API-Key"


@pytest.mark.parametrize("credential", ["HTTP_X_API_KEY", "HTTP_AUTHORIZATION"])
def test_the_schema_and_docs_read_no_credentials(client, credential):
    # Public, like the sign-in endpoints: a revoked key or an expired token sent along is
    # the anonymous caller, not a 401.
    stale = {"HTTP_X_API_KEY": "fab_revoked_key", "HTTP_AUTHORIZATION": "Bearer expired"}
    for path in ("/api/v1/schema/", "/api/v1/docs/"):
        assert client.get(path, **{credential: stale[credential]}).status_code == 200


def test_swagger_ui_loads_only_local_assets(client):
    response = client.get("/api/v1/docs/")
    html = response.content.decode()

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == build_policy(
        update={"style-src": list(swagger_ui_style_hashes())}
    )
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert len(sources) == 5  # favicon, css, two bundles, the start-up script
    assert [s for s in sources if re.match(r"(https?:)?//", s)] == []
    # No inline script: the policy would block it.
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []


def test_swagger_ui_start_up_script_is_served_as_javascript(client):
    page = client.get("/api/v1/docs/").content.decode()
    script_url = re.search(r'<script src="([^"]*script=[^"]*)"', page).group(1)

    response = client.get(script_url.replace("&amp;", "&"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle(" in response.content
    assert b"/api/v1/schema/" in response.content


def test_the_schema_is_valid_openapi(tmp_path):
    path = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))

    assert path.read_text().startswith("openapi: 3.1.0")


def _statuses(schema: dict, method: str, path: str) -> list[str]:
    return sorted(schema["paths"][path][method]["responses"])


@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        # A paginated list: bad credentials, no access, a page past the last, rate limits.
        ("get", "/api/v1/campaigns", ["200", "400", "401", "403", "404", "429"]),
        ("get", "/api/v1/me", ["200", "401", "403", "429"]),
        ("get", "/api/v1/projects/{id}", ["200", "401", "403", "404", "429"]),
        ("post", "/api/v1/organizations", ["201", "400", "401", "403", "413", "415", "429"]),
        (
            "delete",
            "/api/v1/organizations/{organization_id}/api-keys/{key_id}",
            ["204", "401", "403", "404", "429"],
        ),
        # Open to anyone and authenticating no one: no 401 or 403 to give.
        ("get", "/api/v1/certificates/keys", ["200", "429"]),
    ],
)
def test_operations_document_the_refusals_every_layer_can_give(schema, method, path, statuses):
    assert _statuses(schema, method, path) == statuses


def test_refusals_are_described_by_the_error_body(schema):
    responses = schema["paths"]["/api/v1/me"]["get"]["responses"]

    assert responses["401"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert sorted(schema["components"]["schemas"]["Error"]["required"]) == ["code", "detail"]


QUOTA_HEADERS = ["X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"]


def test_api_key_operations_describe_the_daily_quota_headers(schema):
    """README, "Usage plans": every answer to a read or write key, its 429 included."""
    for method, path in [("get", "/api/v1/projects"), ("post", "/api/v1/campaigns")]:
        operation = schema["paths"][path][method]
        assert {"apiKeyAuth": []} in operation["security"]
        for status in ("200" if method == "get" else "201", "429"):
            headers = operation["responses"][status]["headers"]
            assert sorted(headers) == QUOTA_HEADERS, (path, status)
            assert all(header["schema"] == {"type": "integer"} for header in headers.values())
        assert "headers" not in operation["responses"]["404" if method == "get" else "400"]
    # No key, no quota: an operation that authenticates no one says nothing of it.
    keys = schema["paths"]["/api/v1/certificates/keys"]["get"]["responses"]
    assert all("headers" not in response for response in keys.values())
    documented = [
        (path, method)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if "headers" in operation["responses"].get("429", {})
    ]
    assert len(documented) > 30
