"""The Content-Security-Policy of an ordinary response is built once per process, and is
exactly django-csp's; a response a view changed, or one that used a nonce, is built by
django-csp as before."""

from __future__ import annotations

import pytest
from csp.constants import HEADER
from csp.decorators import csp_update
from csp.utils import build_policy
from django.http import HttpResponse
from django.test import RequestFactory

from fabrknt.security.middleware import ContentSecurityPolicyMiddleware


def _through(view, factory: RequestFactory | None = None) -> HttpResponse:
    request = (factory or RequestFactory()).get("/somewhere")
    middleware = ContentSecurityPolicyMiddleware(view)
    return middleware(request)


@pytest.mark.django_db
def test_an_ordinary_response_gets_django_csps_policy(client):
    response = client.get("/healthz")

    assert response[HEADER] == build_policy()


def test_a_view_that_changes_the_policy_gets_its_change():
    @csp_update({"img-src": ["https://images.example"]})
    def view(request):
        return HttpResponse("ok")

    header = _through(view)[HEADER]

    assert "https://images.example" in header
    assert header == build_policy(update={"img-src": ["https://images.example"]})


def test_a_response_that_used_a_nonce_is_built_by_django_csp():
    def view(request):
        return HttpResponse(str(request.csp_nonce))

    response = _through(view)

    assert response[HEADER] == build_policy(nonce=response.content.decode())


def test_a_response_with_its_own_header_keeps_it():
    def view(request):
        response = HttpResponse("ok")
        response[HEADER] = "default-src 'none'"
        return response

    assert _through(view)[HEADER] == "default-src 'none'"
