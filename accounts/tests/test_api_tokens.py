"""POST /api/v1/auth/refresh: rotation with the old refresh token refused, and /me."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from accounts.services.api_keys import api_key_issue
from accounts.services.tokens import RefreshRefused, token_pair_issue, token_refresh
from accounts.tests.clients import JsonClient
from accounts.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

REFRESH = "/api/v1/auth/refresh"


def _bearer(access: str) -> JsonClient:
    client = JsonClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def test_refresh_rotates_and_the_used_refresh_token_is_refused(api):
    user = UserFactory()
    first = token_pair_issue(user=user)

    response = api.post(REFRESH, {"refresh": first.refresh}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh"}
    assert body["refresh"] != first.refresh
    assert _bearer(body["access"]).get("/api/v1/me").json()["id"] == str(user.pk)

    replay = api.post(REFRESH, {"refresh": first.refresh}, format="json")
    assert replay.status_code == 401
    assert replay.json() == {
        "detail": "Refresh token refused: Token is blacklisted.",
        "code": "refresh_refused",
    }
    assert BlacklistedToken.objects.count() == 1

    # The rotated token works once more.
    assert api.post(REFRESH, {"refresh": body["refresh"]}, format="json").status_code == 200
    assert BlacklistedToken.objects.count() == 2


@pytest.mark.parametrize("garbage", ["garbage", "a.b.c", "x" * 500])
def test_garbage_refresh_token_is_401(api, garbage):
    response = api.post(REFRESH, {"refresh": garbage}, format="json")
    assert response.status_code == 401
    assert response.json()["detail"].startswith("Refresh token refused:")
    assert BlacklistedToken.objects.count() == 0


def test_an_access_token_is_not_a_refresh_token(api):
    pair = token_pair_issue(user=UserFactory())
    response = api.post(REFRESH, {"refresh": pair.access}, format="json")
    assert response.status_code == 401


def test_refresh_token_of_a_deleted_or_disabled_user_is_401(api):
    gone, disabled = UserFactory(), UserFactory()
    gone_pair, disabled_pair = token_pair_issue(user=gone), token_pair_issue(user=disabled)
    gone.delete()
    disabled.is_active = False
    disabled.save()

    for pair in (gone_pair, disabled_pair):
        response = api.post(REFRESH, {"refresh": pair.refresh}, format="json")
        assert response.status_code == 401
    assert BlacklistedToken.objects.count() == 0


def test_refresh_without_a_token_is_400(api):
    assert api.post(REFRESH, {}, format="json").status_code == 400


def test_me_shows_wallets_and_organizations(api):
    membership = MembershipFactory(role="viewer")
    user = membership.user
    pair = token_pair_issue(user=user)

    response = _bearer(pair.access).get("/api/v1/me")

    assert response.status_code == 200
    assert response.json() == {
        "id": str(user.pk),
        "wallets": [],
        "organizations": [
            {
                "id": str(membership.organization.pk),
                "name": membership.organization.name,
                "role": "viewer",
            }
        ],
    }


def test_me_is_for_users_not_api_keys_or_anonymous(api):
    issued = api_key_issue(organization=MembershipFactory().organization, name="k", scopes=["read"])
    assert api.get("/api/v1/me").status_code == 401
    api.credentials(HTTP_X_API_KEY=issued.key)
    assert api.get("/api/v1/me").status_code == 403


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_of_one_token_rotate_it_once():
    pair = token_pair_issue(user=UserFactory())
    attempts = 5
    barrier = threading.Barrier(attempts)
    outcomes: list[str] = []

    def attempt() -> None:
        barrier.wait()
        try:
            token_refresh(refresh=pair.refresh)
            outcomes.append("rotated")
        except RefreshRefused:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["refused"] * (attempts - 1) + ["rotated"]
    assert BlacklistedToken.objects.count() == 1
