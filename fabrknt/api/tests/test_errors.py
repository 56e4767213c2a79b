"""Django's own validation errors become DRF's 400 shape, never a 500."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.urls("fabrknt.api.tests.urls")]


def test_field_errors_keep_their_fields(client):
    response = client.get("/api/v1/model-rule?kind=fields")

    assert response.status_code == 400
    assert response.json() == {"cidr": ["Not a network."], "code": "invalid"}


def test_plain_errors_go_under_detail(client):
    response = client.get("/api/v1/model-rule")

    assert response.status_code == 400
    assert response.json() == {"detail": "The rule conflicts with another.", "code": "invalid"}


NOT_FOUND = {"detail": "Not found.", "code": "not_found"}


@pytest.mark.urls("fabrknt.urls")
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/projects/not-a-uuid",  # the route wants a UUID: no route matches
        "/api/v1/organizations/null,null/members",
        "/api/v1/no-such-endpoint",
    ],
)
def test_an_api_path_that_matches_no_route_is_the_apis_404(client, path):
    response = client.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == NOT_FOUND


@pytest.mark.urls("fabrknt.urls")
def test_a_page_path_that_matches_no_route_is_still_a_page(client):
    response = client.get("/no-such-page")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.urls("fabrknt.urls")
def test_a_bad_host_on_the_api_is_the_apis_400(client):
    response = client.get("/api/v1/auth/nonce", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert response.json() == {"detail": "Bad request.", "code": "bad_request"}
