"""Security headers on every response, and the request id in the response and the logs."""

from __future__ import annotations

import logging
import re

import pytest

from fabrknt.security.middleware import (
    CONTENT_SECURITY_POLICY,
    PERMISSIONS_POLICY,
    swagger_ui_content_security_policy,
)
from fabrknt.security.request_id import RequestIdLogFilter, current_request_id

pytestmark = [pytest.mark.django_db, pytest.mark.urls("fabrknt.security.tests.urls")]


def test_pages_get_the_security_headers(client):
    response = client.get("/page")

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Permissions-Policy"] == PERMISSIONS_POLICY
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_our_policy_forbids_inline_script_and_framing():
    directives = dict(part.split(" ", 1) for part in CONTENT_SECURITY_POLICY.split("; "))

    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


def test_swagger_ui_policy_only_admits_its_own_inline_style_by_hash():
    ours = dict(part.split(" ", 1) for part in CONTENT_SECURITY_POLICY.split("; "))
    swagger = dict(part.split(" ", 1) for part in swagger_ui_content_security_policy().split("; "))

    assert {name for name in ours if ours[name] != swagger[name]} == {"style-src"}
    assert re.fullmatch(r"'self'( 'sha256-[A-Za-z0-9+/]{43}=')+", swagger["style-src"])
    assert "unsafe" not in swagger_ui_content_security_policy()


def test_api_refusals_carry_the_request_id(client):
    response = client.post("/api/v1/rules", b"x", content_type="text/plain")

    assert response.status_code == 415
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


@pytest.mark.parametrize("incoming", ["abc-123", "A.b_c-9", "x" * 64])
def test_a_safe_incoming_request_id_is_echoed(client, incoming):
    response = client.get("/page", HTTP_X_REQUEST_ID=incoming)

    assert response["X-Request-ID"] == incoming


@pytest.mark.parametrize("incoming", ["", "x" * 65, "has space", "new\nline", "semi;colon", "é"])
def test_an_unsafe_incoming_request_id_is_replaced(client, incoming):
    response = client.get("/page", HTTP_X_REQUEST_ID=incoming)

    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_each_request_gets_its_own_id(client):
    first = client.get("/page")["X-Request-ID"]
    second = client.get("/page")["X-Request-ID"]

    assert first != second


@pytest.fixture
def logged(caplog):
    """Records as the LOGGING handlers see them: through the request-id filter."""
    caplog.handler.addFilter(RequestIdLogFilter())
    caplog.set_level(logging.INFO)
    return caplog


def test_log_lines_during_a_request_carry_its_id(client, logged):
    response = client.get("/page", HTTP_X_REQUEST_ID="trace-me-1")

    records = [r for r in logged.records if r.getMessage() == "serving the test page"]
    assert [r.request_id for r in records] == ["trace-me-1"]
    assert response["X-Request-ID"] == "trace-me-1"


def test_djangos_own_error_log_line_carries_the_id_and_it_is_cleared_after(client, logged):
    response = client.get("/missing", HTTP_X_REQUEST_ID="trace-me-2")

    assert response.status_code == 404
    records = [r for r in logged.records if r.name == "django.request"]
    assert [(r.getMessage(), r.request_id) for r in records] == [
        ("Not Found: /missing", "trace-me-2")
    ]
    assert current_request_id.get() == "-"


def test_the_log_format_prints_the_id(settings):
    formatter = logging.Formatter(settings.LOGGING["formatters"]["plain"]["format"])
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    token = current_request_id.set("abc")
    try:
        RequestIdLogFilter().filter(record)
    finally:
        current_request_id.reset(token)

    assert formatter.format(record).endswith("INFO x [abc] hello")
