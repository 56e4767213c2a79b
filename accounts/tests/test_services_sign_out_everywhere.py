"""Signing out everywhere: every Django session of the user ends, refresh tokens are
spent, access tokens are refused; other users keep theirs."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.utils.crypto import salted_hmac
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from accounts.services.tokens import token_pair_issue
from accounts.services.users import user_sign_out_everywhere
from accounts.tests.clients import JsonClient
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _signed_in(client: Client) -> bool:
    client.get("/")
    return SESSION_KEY in client.session


def _bearer(access: str) -> JsonClient:
    client = JsonClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def test_every_session_and_token_of_the_user_ends_and_nobody_elses():
    user, other = UserFactory(), UserFactory()
    laptop, phone, others = _browser(user), _browser(user), _browser(other)
    pairs = [token_pair_issue(user=user) for _ in range(2)]
    other_pair = token_pair_issue(user=other)
    spent = token_pair_issue(user=user)
    assert JsonClient().post("/api/v1/auth/refresh", {"refresh": spent.refresh}).status_code == 200

    revoked = user_sign_out_everywhere(user=user)

    # Two unspent pairs, plus the one issued by the refresh above; the spent one stays spent.
    assert revoked == 3
    assert user.session_generation == 1
    assert not _signed_in(laptop) and not _signed_in(phone)
    assert _signed_in(others)
    for pair in pairs:
        refused = JsonClient().post("/api/v1/auth/refresh", {"refresh": pair.refresh})
        assert refused.status_code == 401
        me = _bearer(pair.access).get("/api/v1/me")
        assert me.status_code == 401
        assert me.json()["detail"] == "Token revoked: the account signed out everywhere."
    assert _bearer(other_pair.access).get("/api/v1/me").status_code == 200
    assert BlacklistedToken.objects.filter(token__user=other).count() == 0

    # A new sign-in works as before.
    fresh = token_pair_issue(user=user)
    assert _bearer(fresh.access).get("/api/v1/me").status_code == 200
    assert _signed_in(_browser(user))


def test_a_user_who_never_signed_out_everywhere_keeps_djangos_session_hash():
    # Sessions opened before the generation existed stay valid: the hash is Django's own.
    user = UserFactory()
    django_hash = salted_hmac(
        "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash",
        user.password,
        algorithm="sha256",
    ).hexdigest()

    assert user.get_session_auth_hash() == django_hash
    user_sign_out_everywhere(user=user)
    assert user.get_session_auth_hash() != django_hash
