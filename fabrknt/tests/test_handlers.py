"""The WSGI application: the click ingest paths go to the lean handler, which runs every
request guard and answers exactly as Django's full stack does; other paths are Django's."""

from __future__ import annotations

import json

import pytest
from django.conf import settings

from accounts.tests.factories import OrganizationFactory
from fabrknt.handlers import INGEST_PATHS, IngestHandler
from fabrknt.security.models import IpRule
from fabrknt.tests.wsgi_calls import call
from fabrknt.wsgi import application
from trace.tests.callers import key_caller
from trace.tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db

GUARD_HEADERS = (
    "X-Request-ID",
    "Content-Security-Policy",
    "Permissions-Policy",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "X-Frame-Options",
    "Cross-Origin-Opener-Policy",
)


@pytest.fixture
def click_setup():
    organization = OrganizationFactory()
    campaign = CampaignFactory(organization=organization, landing_url="https://app.example/")
    caller = key_caller(organization, "ingest")
    return campaign, caller.headers["HTTP_X_API_KEY"]


def test_ingest_middleware_is_every_guard_without_the_browser_stack():
    assert settings.INGEST_MIDDLEWARE == [
        "fabrknt.ops.metrics.middleware.RequestMetricsMiddleware",
        "fabrknt.security.middleware.RequestIdMiddleware",
        "django.middleware.security.SecurityMiddleware",
        "fabrknt.security.middleware.FixedContentSecurityPolicyMiddleware",
        "fabrknt.security.middleware.SecurityHeadersMiddleware",
        "fabrknt.security.middleware.IpRuleMiddleware",
        "fabrknt.security.middleware.BodyLimitMiddleware",
        "fabrknt.security.middleware.JsonContentTypeMiddleware",
        "django.middleware.common.CommonMiddleware",
    ]


@pytest.mark.parametrize(
    ("path", "lean"),
    [
        ("/api/v1/clicks", True),
        ("/api/v1/clicks/batch", True),
        ("/api/v1/clicks/", False),
        ("/api/v1/identify", False),
        ("/healthz", False),
    ],
)
def test_only_the_ingest_paths_take_the_lean_handler(monkeypatch, path, lean):
    assert isinstance(application.ingest, IngestHandler)
    taken = []
    for name in ("ingest", "default"):
        handler = getattr(application, name)
        monkeypatch.setattr(
            application,
            name,
            lambda environ, start, name=name, handler=handler: (
                taken.append(name) or handler(environ, start)
            ),
        )

    call(application, "POST", path, b"{}")

    assert taken == ["ingest" if lean else "default"]
    assert (path in INGEST_PATHS) is lean


def test_a_click_through_the_application_is_accepted_with_every_guard_header(click_setup):
    campaign, key = click_setup
    body = json.dumps({"campaign_id": str(campaign.pk), "click_id": "lean-1"}).encode()

    status, headers, content = call(
        application, "POST", "/api/v1/clicks", body, HTTP_X_API_KEY=key, HTTP_X_REQUEST_ID="r-1"
    )

    assert (status, json.loads(content)) == (202, {"click_id": "lean-1"})
    assert all(name in headers for name in GUARD_HEADERS), headers
    assert headers["X-Request-ID"] == "r-1"
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "Set-Cookie" not in headers


def _cases(campaign, key: str) -> list[tuple[str, str, bytes, dict]]:
    # A click id of its own: the same click is accepted twice, idempotently.
    click = json.dumps({"campaign_id": str(campaign.pk), "click_id": "both-1"}).encode()
    unknown = json.dumps({"campaign_id": "0f2b4a4e-0000-4000-8000-000000000000"}).encode()
    batch = json.dumps({"clicks": [json.loads(click)]}).encode()
    keyed = {"HTTP_X_API_KEY": key}
    return [
        ("no credentials", "/api/v1/clicks", click, {}),
        ("bad key", "/api/v1/clicks", click, {"HTTP_X_API_KEY": "fab_nope"}),
        ("bad JSON", "/api/v1/clicks", b"{", keyed),
        ("unknown campaign", "/api/v1/clicks", unknown, keyed),
        ("invalid click", "/api/v1/clicks", b'{"campaign_id": 7}', keyed),
        ("not JSON", "/api/v1/clicks", click, {**keyed, "CONTENT_TYPE": "text/plain"}),
        ("too large", "/api/v1/clicks", b" " * (settings.API_BODY_LIMIT + 1) + click, keyed),
        ("bad length", "/api/v1/clicks", click, {**keyed, "CONTENT_LENGTH": "-3"}),
        ("foreign host", "/api/v1/clicks", click, {**keyed, "HTTP_HOST": "evil.example"}),
        ("batch not a list", "/api/v1/clicks/batch", b'{"clicks": 1}', keyed),
        ("batch", "/api/v1/clicks/batch", batch, keyed),
        ("blocked network", "/api/v1/clicks", click, {**keyed, "REMOTE_ADDR": "198.51.100.7"}),
    ]


def test_the_lean_handler_answers_as_the_full_stack_does(click_setup):
    campaign, key = click_setup
    IpRule.objects.create(cidr="198.51.100.0/24", action=IpRule.Action.BLOCK)
    seen = {}
    for name, path, body, meta in _cases(campaign, key):
        lean = call(application.ingest, "POST", path, body, **meta)
        full = call(application.default, "POST", path, body, **meta)
        seen[name] = lean[0]
        assert (lean[0], lean[2]) == (full[0], full[2]), name
        for header in GUARD_HEADERS[1:]:
            assert lean[1].get(header) == full[1].get(header), (name, header)
        # Refusals by the guards themselves included.
        assert all(header in lean[1] for header in GUARD_HEADERS), name

    assert seen == {
        "no credentials": 401,
        "bad key": 401,
        "bad JSON": 400,
        "unknown campaign": 404,
        "invalid click": 400,
        "not JSON": 415,
        "too large": 413,
        "bad length": 400,
        "foreign host": 400,
        "batch not a list": 400,
        "batch": 202,
        "blocked network": 403,
    }


@pytest.mark.parametrize("method", ["GET", "PUT", "OPTIONS"])
def test_other_methods_get_the_same_answer_on_both_handlers(click_setup, method):
    lean = call(application.ingest, method, "/api/v1/clicks")
    full = call(application.default, method, "/api/v1/clicks")

    assert (lean[0], lean[2]) == (full[0], full[2])
    assert lean[0] == (204 if method == "OPTIONS" else 405)
