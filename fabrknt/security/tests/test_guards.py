"""Body limits (413), JSON-only bodies (415) and parse errors (400) on the API."""

from __future__ import annotations

import io
import json

import pytest
from django.test import Client

from fabrknt.security.models import IpRule

pytestmark = [pytest.mark.django_db, pytest.mark.urls("fabrknt.security.tests.urls")]

KIB = 1024


def body_of_size(size: int, cidr: str = "10.0.0.0/8") -> bytes:
    """A valid JSON document of exactly `size` bytes."""
    empty = json.dumps({"cidr": cidr, "padding": ""}).encode()
    body = json.dumps({"cidr": cidr, "padding": "x" * (size - len(empty))}).encode()
    assert len(body) == size
    return body


def post_chunked(client: Client, path: str, body: bytes, content_type="application/json"):
    """What a WSGI server hands Django for `Transfer-Encoding: chunked`: the de-chunked
    stream and no CONTENT_LENGTH at all."""
    return client.request(
        PATH_INFO=path,
        REQUEST_METHOD="POST",
        CONTENT_TYPE=content_type,
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": io.BytesIO(body)},
    )


@pytest.mark.parametrize(
    ("path", "limit"),
    [
        ("/api/v1/rules", 8 * KIB),
        ("/api/v1/clicks/batch", 256 * KIB),
        ("/api/v1/webhooks/test", 2 * KIB * KIB),
    ],
)
def test_body_at_the_limit_passes_and_one_byte_more_is_413(client, path, limit):
    over = client.post(path, body_of_size(limit + 1), content_type="application/json")

    assert over.status_code == 413
    assert over.json() == {
        "detail": f"Request body is larger than this endpoint's {limit} bytes.",
        "code": "too_large",
    }
    assert IpRule.objects.count() == 0

    at_limit = client.post(path, body_of_size(limit), content_type="application/json")

    assert at_limit.status_code == 201
    assert at_limit.json() == {"cidr": "10.0.0.0/8", "received": limit}
    assert IpRule.objects.count() == 1


def test_limits_are_settings(client, settings):
    settings.API_BODY_LIMIT = 100

    response = client.post("/api/v1/rules", body_of_size(101), content_type="application/json")

    assert response.status_code == 413
    assert response.json()["detail"] == "Request body is larger than this endpoint's 100 bytes."
    assert IpRule.objects.count() == 0


def test_chunked_body_over_the_limit_is_413(client):
    response = post_chunked(client, "/api/v1/rules", body_of_size(8 * KIB + 1))

    assert response.status_code == 413
    assert IpRule.objects.count() == 0


def test_chunked_body_under_the_limit_reaches_the_view(client):
    response = post_chunked(client, "/api/v1/rules", body_of_size(500, cidr="192.0.2.0/24"))

    assert response.status_code == 201
    assert response.json() == {"cidr": "192.0.2.0/24", "received": 500}
    assert list(IpRule.objects.values_list("cidr", flat=True)) == ["192.0.2.0/24"]


def test_chunked_body_in_another_media_type_is_415(client):
    response = post_chunked(client, "/api/v1/rules", b"cidr=10.0.0.0/8", "text/plain")

    assert response.status_code == 415
    assert IpRule.objects.count() == 0


def test_invalid_content_length_is_400(client):
    response = client.post(
        "/api/v1/rules", b"{}", content_type="application/json", CONTENT_LENGTH="12x"
    )

    assert response.status_code == 400
    assert response.json() == {"detail": "Content-Length is not a valid length.", "code": "invalid"}
    assert IpRule.objects.count() == 0


def test_body_limits_leave_pages_alone(client):
    response = client.post("/page", body_of_size(20 * KIB), content_type="application/json")

    assert response.status_code == 200


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/xml", "application/jsonx"],
)
def test_body_that_is_not_json_is_415(client, content_type):
    response = client.post("/api/v1/rules", b'{"cidr": "10.0.0.0/8"}', content_type=content_type)

    assert response.status_code == 415
    assert response.json() == {
        "detail": f'Unsupported media type "{content_type}": send Content-Type application/json.',
        "code": "unsupported_media_type",
    }
    assert IpRule.objects.count() == 0


def test_multipart_body_is_415(client):
    response = client.post("/api/v1/rules", {"cidr": "10.0.0.0/8"})  # multipart/form-data

    assert response.status_code == 415
    assert IpRule.objects.count() == 0


def test_body_without_content_type_is_415(client):
    response = client.generic("POST", "/api/v1/rules", b'{"cidr": "10.0.0.0/8"}', content_type="")

    assert response.status_code == 415
    assert response.json()["detail"] == (
        'Unsupported media type "none": send Content-Type application/json.'
    )
    assert IpRule.objects.count() == 0


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "Application/JSON", "application/json"]
)
def test_json_with_parameters_passes(client, content_type):
    response = client.post("/api/v1/rules", b'{"cidr": "10.0.0.0/8"}', content_type=content_type)

    assert response.status_code == 201
    assert IpRule.objects.count() == 1


def test_post_without_a_body_needs_no_content_type(client):
    response = client.generic("POST", "/api/v1/rules", b"", content_type="")

    assert response.status_code == 400  # the view's own validation, not 415
    assert response.json() == {"cidr": ["This field is required."], "code": "invalid"}
    assert IpRule.objects.count() == 0


@pytest.mark.parametrize(
    "body",
    [
        b'{"cidr": ',
        b"\xff\xfe not utf-8",
        b"[" * 5000,
        b'{"a":' * 1600,
        b"NaN",
    ],
    ids=["truncated", "not-utf8", "deep-array", "deep-object", "nan"],
)
def test_malformed_json_is_400_never_500(client, body):
    response = client.post("/api/v1/rules", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")
    assert IpRule.objects.count() == 0
