"""The header's wallet comes with the session's user (accounts.backends): one query for
both, the wallet signed in with most recently, and sessions begun under ModelBackend
(before this backend) still signed in."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory, WalletFactory

pytestmark = pytest.mark.django_db

HEADER = 'data-testid="signed-in-wallet" title="{}"'


def _wallet_queries(queries: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith('SELECT "accounts_wallet"')
    ]


def test_header_wallet_is_the_latest_signed_in_without_a_query_of_its_own(client: Client):
    user = UserFactory()
    now = timezone.now()
    WalletFactory(user=user, address="0x" + "1" * 40, last_signed_in_at=now - dt.timedelta(days=2))
    latest = WalletFactory(user=user, address="0x" + "2" * 40, last_signed_in_at=now)
    WalletFactory(user=user, address="0x" + "3" * 40, last_signed_in_at=None)  # never: last
    client.force_login(user)  # the first backend: SessionUserBackend

    with CaptureQueriesContext(connection) as queries:
        html = client.get("/").content.decode()

    assert HEADER.format(latest.address) in html
    assert _wallet_queries(queries) == []  # read on the user's row


def test_a_user_without_wallet_shows_the_username(client: Client):
    user = UserFactory(username="ada")
    client.force_login(user)
    html = client.get("/").content.decode()
    assert 'data-testid="signed-in-wallet">' in html
    assert "ada" in html


def test_session_begun_under_model_backend_stays_signed_in(client: Client):
    wallet = WalletFactory(address="0x" + "4" * 40)
    client.force_login(wallet.user, backend="django.contrib.auth.backends.ModelBackend")

    with CaptureQueriesContext(connection) as queries:
        html = client.get("/").content.decode()

    assert HEADER.format(wallet.address) in html
    assert len(_wallet_queries(queries)) == 1  # looked up, as before


def test_an_inactive_users_session_is_signed_out(client: Client):
    wallet = WalletFactory()
    client.force_login(wallet.user)
    wallet.user.is_active = False
    wallet.user.save(update_fields=["is_active"])
    html = client.get("/").content.decode()
    assert "signed-in-wallet" not in html
    assert 'href="/signin"' in html
