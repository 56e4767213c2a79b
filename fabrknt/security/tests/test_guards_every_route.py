"""Every write route of the API, as the URL resolver has it, behind the request guards
(API.md, "Conventions"): a body one byte over its route's limit is a 413 and one at the
limit passes the guard, whether its length is declared or the body is chunked; a body in
any media type but JSON (multipart on the two upload routes) is a 415; nothing is stored.

The requests go through the WSGI application gunicorn serves (`fabrknt.wsgi.application`),
so the click ingest paths take their own lean handler. The caller is a signed-in user
(a bearer token) and each body is a JSON object a create endpoint would accept: a guard
that let one through could store a row, which the row counts would show."""

from __future__ import annotations

import io
import json
import uuid

import pytest
from django.conf import settings
from django.db import transaction
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tests.factories import UserFactory
from fabrknt.tests.routes import api_write_routes
from fabrknt.tests.rows import row_counts
from fabrknt.tests.wsgi_calls import call
from fabrknt.wsgi import application
from pulse.tests import discord_relay_support

pytestmark = pytest.mark.django_db

KIB = 1024
MIB = 1024 * KIB
# The documented limits (API.md) of the routes that are not the API's 8 KiB, by URL name.
# Uploads are multipart: their file's limit plus the form's framing.
DOCUMENTED_LIMITS = {
    "webhook-alchemy": 2 * MIB,
    "webhook-helius": 2 * MIB,
    "pulse-github-webhook": 2 * MIB,
    "pulse-discord-webhook": 2 * MIB,
    "trace-clicks-batch": 256 * KIB,
    "fabric-nda-sign": 128 * KIB,
    "fabric-documents": 25 * MIB + 64 * KIB,
    "fabric-media": 8 * MIB + 64 * KIB,
}
UPLOADS = {"fabric-documents", "fabric-media"}
WRONG_MEDIA_TYPES = ("text/plain", "application/x-www-form-urlencoded", "application/xml")


def json_body(size: int) -> bytes:
    """A JSON object of exactly `size` bytes that names what the create endpoints need."""
    fields = {"name": "Acme", "campaign_id": str(uuid.uuid4()), "padding": ""}
    empty = len(json.dumps(fields).encode())
    body = json.dumps({**fields, "padding": "x" * (size - empty)}).encode()
    assert len(body) == size
    return body


@pytest.fixture
def bearer(settings) -> dict[str, str]:
    settings.RATE_LIMITS = {name: 10**9 for name in settings.RATE_LIMITS}
    # Configured webhooks: a body that passes the guards meets a signature check, not 503.
    settings.ALCHEMY_WEBHOOK_SIGNING_KEY = settings.HELIUS_WEBHOOK_AUTH = "configured"
    settings.GITHUB_WEBHOOK_SECRET = "configured"
    settings.DISCORD_RELAY_PUBLIC_KEY = discord_relay_support.PUBLIC_KEY
    return {"HTTP_AUTHORIZATION": f"Bearer {AccessToken.for_user(UserFactory())}"}


def test_the_documented_limits_are_the_settings():
    assert settings.API_BODY_LIMIT == 8 * KIB
    assert settings.WEBHOOK_BODY_LIMIT == DOCUMENTED_LIMITS["webhook-alchemy"]
    assert settings.CLICK_BATCH_BODY_LIMIT == DOCUMENTED_LIMITS["trace-clicks-batch"]
    names = {name for name, _, _ in api_write_routes()}
    assert set(DOCUMENTED_LIMITS) <= names, "a documented limit names no write route"


def test_every_write_route_refuses_a_body_over_its_limit(bearer):
    before = row_counts()
    routes = api_write_routes()
    answers: dict[tuple[str, str], tuple[int, int, int]] = {}
    for name, method, path in routes:
        limit = DOCUMENTED_LIMITS.get(name, 8 * KIB)
        over = call(application, method, path, json_body(limit + 1), **bearer)
        chunked = call(
            application,
            method,
            path,
            HTTP_TRANSFER_ENCODING="chunked",
            CONTENT_LENGTH="",
            **{"wsgi.input": io.BytesIO(json_body(limit + 1))},
            **bearer,
        )
        with transaction.atomic():  # a body at the limit may well create something
            at_limit = call(application, method, path, json_body(limit), **bearer)
            transaction.set_rollback(True)
        answers[(name, method)] = (over[0], chunked[0], at_limit[0])
        too_large = f"Request body is larger than this endpoint's {limit} bytes."
        assert json.loads(over[2]) == {"detail": too_large, "code": "too_large"}, name
        assert json.loads(chunked[2])["code"] == "too_large", name
        # At the limit the guard lets it through: the view answers (never with a 5xx).
        assert at_limit[0] not in (413, 415) and at_limit[0] < 500, (name, at_limit)

    assert len(routes) == 50
    assert {name: (o, c) for (name, _), (o, c, _) in answers.items()} == {
        name: (413, 413) for name, _, _ in routes
    }
    assert row_counts() == before


def test_every_write_route_refuses_a_body_that_is_not_json(bearer):
    before = row_counts()
    routes = api_write_routes()
    refused = 0
    for name, method, path in routes:
        for media_type in WRONG_MEDIA_TYPES:
            status, _, content = call(
                application, method, path, json_body(100), CONTENT_TYPE=media_type, **bearer
            )
            assert (status, json.loads(content)) == (
                415,
                {
                    "detail": f'Unsupported media type "{media_type}": '
                    "send Content-Type application/json.",
                    "code": "unsupported_media_type",
                },
            ), (name, method, media_type)
            refused += 1
        if name not in UPLOADS:
            # Multipart is JSON's only alternative, and only where a file is uploaded.
            status, _, _ = call(
                application, method, path, b"--b--\r\n", CONTENT_TYPE="multipart/form-data; b=b"
            )
            assert status == 415, (name, method)
            refused += 1

    assert refused == len(routes) * (len(WRONG_MEDIA_TYPES) + 1) - len(UPLOADS)
    assert row_counts() == before
