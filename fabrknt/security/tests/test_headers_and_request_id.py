"""Security headers on every response, and the request id in the response and the logs."""

from __future__ import annotations

import json
import logging
import re

import pytest

from fabrknt.ops.logs import JsonFormatter, PlainFormatter
from fabrknt.security.middleware import PERMISSIONS_POLICY
from fabrknt.security.request_id import RequestIdLogFilter, current_request_id
from fabrknt.security.swagger_ui import swagger_ui_style_hashes

pytestmark = [pytest.mark.django_db, pytest.mark.urls("fabrknt.security.tests.urls")]

OUR_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def directives(policy: str) -> dict[str, str]:
    return dict(part.split(" ", 1) for part in policy.split("; "))


def test_pages_get_the_security_headers(client):
    response = client.get("/page")

    assert response.status_code == 200
    assert directives(response["Content-Security-Policy"]) == OUR_POLICY
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Permissions-Policy"] == PERMISSIONS_POLICY
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_our_policy_forbids_inline_script_and_framing(client):
    policy = client.get("/page")["Content-Security-Policy"]

    assert directives(policy)["default-src"] == "'self'"
    assert directives(policy)["script-src"] == "'self'"
    assert directives(policy)["style-src"] == "'self'"
    assert directives(policy)["frame-ancestors"] == "'none'"
    assert directives(policy)["object-src"] == "'none'"
    assert "unsafe" not in policy


def test_refusals_and_not_found_get_the_policy_too(client):
    assert directives(client.get("/missing")["Content-Security-Policy"]) == OUR_POLICY
    refused = client.post("/api/v1/rules", b"x", content_type="text/plain")
    assert directives(refused["Content-Security-Policy"]) == OUR_POLICY


@pytest.mark.urls("fabrknt.urls")
def test_swagger_ui_policy_only_admits_its_own_inline_style_by_hash(client):
    policy = client.get("/api/v1/docs/")["Content-Security-Policy"]
    swagger = directives(policy)

    assert {name for name in OUR_POLICY if OUR_POLICY[name] != swagger[name]} == {"style-src"}
    assert swagger.keys() == OUR_POLICY.keys()
    assert re.fullmatch(r"'self'( 'sha256-[A-Za-z0-9+/]{43}=')+", swagger["style-src"])
    assert swagger["style-src"] == " ".join(["'self'", *swagger_ui_style_hashes()])
    assert "unsafe" not in policy


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


@pytest.mark.parametrize("log_format", ["plain", "json"])
def test_the_log_format_prints_the_id(log_format):
    formatter = PlainFormatter() if log_format == "plain" else JsonFormatter()
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    token = current_request_id.set("abc")
    try:
        RequestIdLogFilter().filter(record)
    finally:
        current_request_id.reset(token)

    line = formatter.format(record)
    if log_format == "plain":
        assert line.endswith("INFO x [abc] hello")
    else:
        assert json.loads(line) | {"timestamp": "t"} == {
            "timestamp": "t",
            "level": "info",
            "logger": "x",
            "message": "hello",
            "request_id": "abc",
        }
