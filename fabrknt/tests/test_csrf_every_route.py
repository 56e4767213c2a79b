"""CSRF on every route, as the URL resolver has them. A signed-in browser (session cookie
and CSRF cookie both set, as after any visit) that is made to POST without the token, or
with a wrong one, is refused with 403 on every page and admin route; on the API a session
POST without the X-CSRFToken header is refused by DRF's session authentication, and the
endpoints that take no session (sign-in, webhooks, click ingest) ignore the cookie. Every
page template's POST form carries the token. A page's form body over Django's limit is
refused (400) by the same check, token or not. Nothing is stored.

The one exception is named in CSRF_EXEMPT_PAGES with its reason."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from accounts.tests.factories import UserFactory
from fabrknt.security.middleware import upload_limit_for
from fabrknt.tests.routes import api_write_routes, page_routes
from fabrknt.tests.rows import row_counts

pytestmark = pytest.mark.django_db

CSRF_EXEMPT_PAGES = {
    # RFC 8058 one-click unsubscribe: a mail client POSTs without our token; the signed
    # token in the path is the credential (accounts/pages/profile.py).
    "account/unsubscribe/<str:token>": "unsubscribe",
}
CSRF_REFUSAL = "CSRF verification failed. Request aborted."
# API endpoints that authenticate no session: a session cookie sent to them is ignored
# (the caller is anonymous to them), so there is nothing for a forged request to borrow.
SESSIONLESS_API = {
    "auth-siwe",
    "auth-siws",
    "auth-refresh",
    "webhook-alchemy",
    "webhook-helius",
    "pulse-github-webhook",
    "pulse-discord-webhook",
    "trace-clicks",
    "trace-clicks-batch",
}


@pytest.fixture
def browser(settings) -> Client:
    """A staff member's browser, signed in, holding the CSRF cookie of an earlier visit."""
    settings.RATE_LIMITS = {name: 10**9 for name in settings.RATE_LIMITS}
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert client.get("/signin").status_code == 200
    assert client.cookies[settings.CSRF_COOKIE_NAME].value
    return client


def test_every_page_post_without_the_token_is_refused(browser):
    before = row_counts()
    routes = page_routes()
    refused, exempt = [], []
    for route, path in routes:
        wrong = {"csrfmiddlewaretoken": "A" * 64}
        # No token, and (outside the admin, whose views all share one wrapper) a wrong one.
        for token in ({},) if route.startswith("admin/") else ({}, wrong):
            response = browser.post(path, {"name": "Acme", "confirm": "on", **token})
            if response.status_code == 403 and CSRF_REFUSAL in response.content.decode():
                refused.append(route)
            else:
                exempt.append(route)

    assert sorted(set(exempt)) == sorted(CSRF_EXEMPT_PAGES)
    assert len(set(refused)) == len(routes) - len(CSRF_EXEMPT_PAGES) == 460
    assert row_counts() == before


def test_every_api_write_with_a_session_and_no_token_is_refused(browser):
    before = row_counts()
    answers = {}
    for name, method, path in api_write_routes():
        if upload_limit_for(path):  # multipart, the upload endpoints' media type
            response = browser.post(path, {"name": "Acme"})
        else:
            body = json.dumps({"name": "Acme"})
            response = browser.generic(method, path, body, "application/json")
        answers[name] = response.status_code
        if name in SESSIONLESS_API:
            assert response.status_code in (400, 401, 404, 503), (name, response.status_code)
        else:
            assert response.status_code == 403, (name, response.status_code)
            assert response.json()["detail"] == "CSRF Failed: CSRF token missing.", name

    assert len(answers) - len(SESSIONLESS_API) == 41
    assert row_counts() == before


def test_every_post_form_in_the_templates_carries_the_token():
    forms = 0
    for template in sorted(Path(settings.BASE_DIR, "templates").rglob("*.html")):
        text = template.read_text()
        for form in re.findall(r"<form\b[^>]*>.*?</form>", text, flags=re.S | re.I):
            if not re.match(r"<form\b[^>]*\bmethod=\"post\"", form, flags=re.I):
                continue
            forms += 1
            if template.name == "unsubscribe.html":  # CSRF_EXEMPT_PAGES
                assert "csrf_token" not in form
                continue
            assert "{% csrf_token %}" in form, template

    assert forms == 23


def test_every_page_refuses_a_form_body_over_djangos_limit(browser, settings):
    """Pages take forms, not JSON: their body guard is Django's DATA_UPLOAD_MAX_MEMORY_SIZE
    on the form's fields, met by the CSRF check (the first to read the form) even with the
    right token: a 400. Files are the upload services' to limit; the proxy in front takes
    no body over 30 MiB (deploy/nginx.conf)."""
    # Lowered from 2.5 MiB so that 116 oversize bodies cost little: the same check.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024
    before = row_counts()
    token = browser.cookies[settings.CSRF_COOKIE_NAME].value
    oversize = {"csrfmiddlewaretoken": token, "name": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
    pages = [(route, path) for route, path in page_routes() if not route.startswith("admin/")]

    answers = {route: browser.post(path, oversize).status_code for route, path in pages}

    assert len(answers) == 116
    exempt = set(CSRF_EXEMPT_PAGES)  # reads no form: its token is in the path
    assert {route: status for route, status in answers.items() if route not in exempt} == {
        route: 400 for route in answers if route not in exempt
    }
    assert row_counts() == before
