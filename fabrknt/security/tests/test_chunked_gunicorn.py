"""Chunked request bodies through a real WSGI server (gunicorn de-chunks them and passes no
Content-Length): the body limit holds, and a body under it still reaches the view."""

from __future__ import annotations

import http.client
import json

import pytest
from django.conf import settings

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def server(gunicorn) -> int:
    return gunicorn(REDIS_URL="")


def post_chunked(port: int, path: str, body: bytes) -> tuple[int, dict]:
    connection_ = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    chunks = [body[i : i + 1000] for i in range(0, len(body), 1000)]
    connection_.request(
        "POST",
        path,
        body=iter(chunks),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        encode_chunked=True,
    )
    response = connection_.getresponse()
    answer = response.status, json.loads(response.read())
    connection_.close()
    return answer


def test_chunked_bodies_through_gunicorn(server):
    refresh = json.dumps({"refresh": "not-a-token"}).encode()
    oversized = json.dumps({"refresh": "x" * (settings.API_BODY_LIMIT + 1)}).encode()

    read_status, read_body = post_chunked(server, "/api/v1/auth/refresh", refresh)
    over_status, over_body = post_chunked(server, "/api/v1/auth/refresh", oversized)

    # 401, not 400 "refresh: required": the view read the chunked body and judged the token.
    assert read_status == 401, read_body
    assert over_status == 413
    assert over_body == {
        "detail": f"Request body is larger than this endpoint's {settings.API_BODY_LIMIT} bytes.",
        "code": "too_large",
    }
