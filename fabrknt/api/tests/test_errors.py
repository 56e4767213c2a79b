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
