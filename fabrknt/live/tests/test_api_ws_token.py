"""POST /api/v1/ws-token: a user's single-use token for /ws/live (60 s)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from accounts.services.api_keys import api_key_issue
from accounts.tests.factories import MembershipFactory
from fabrknt.live.tokens import live_token_consume

pytestmark = pytest.mark.django_db

URL = "/api/v1/ws-token"
JSON = "application/json"


def test_a_user_gets_a_token_that_works_once():
    user = MembershipFactory().user
    before = timezone.now()
    response = Client().post(
        URL, content_type=JSON, HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}"
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "expires_at"}
    expires_at = dt.datetime.fromisoformat(body["expires_at"])
    assert (
        before + dt.timedelta(seconds=59) < expires_at <= timezone.now() + dt.timedelta(seconds=60)
    )
    assert live_token_consume(body["token"]) == user
    assert live_token_consume(body["token"]) is None


def test_a_session_gets_one_too():
    client = Client()
    client.force_login(MembershipFactory().user)
    assert client.post(URL, content_type=JSON).status_code == 200


def test_anonymous_and_api_keys_are_refused():
    membership = MembershipFactory()
    key = api_key_issue(organization=membership.organization, name="k", scopes=["read"]).key
    anonymous = Client().post(URL, content_type=JSON)
    with_key = Client().post(URL, content_type=JSON, HTTP_X_API_KEY=key)
    assert (anonymous.status_code, with_key.status_code) == (401, 403)
    assert anonymous.json()["code"] == "not_authenticated"


def test_get_is_not_allowed():
    user = MembershipFactory().user
    response = Client().get(URL, HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    assert response.status_code == 405
