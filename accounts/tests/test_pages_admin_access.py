"""Who reaches the operators' admin at /admin/: staff; a signed-in person who is not staff
gets a "Staff only" page; an anonymous visitor is sent to the wallet sign-in."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/admin/", "/admin/accounts/apikey/"])
def test_a_signed_in_non_staff_user_gets_a_staff_only_page_not_a_loop(client: Client, path):
    # Regression: the admin sent them to its login, the login to the wallet sign-in, which
    # said "already signed in, continue" back to /admin/: round and round.
    client.force_login(UserFactory(is_staff=False))

    response = client.get(path, follow=True)

    assert response.status_code == 403
    assert response.templates[0].name == "accounts/staff_only.html"
    html = response.content.decode()
    assert "<h1>Staff only</h1>" in html
    assert '<a class="button" href="/trace/">Back to your dashboard</a>' in html
    assert len(response.redirect_chain) == 1  # /admin/… → /admin/login/, then the page


def test_an_inactive_staff_user_is_not_let_in_either(client: Client):
    client.force_login(UserFactory(is_staff=True, is_active=False))

    # An inactive user's session is not a sign-in at all: the wallet sign-in page.
    response = client.get("/admin/", follow=True)

    assert response.redirect_chain[-1][0] == "/signin?next=%2Fadmin%2F"


def test_staff_reach_the_admin_and_its_login_sends_them_on(client: Client):
    client.force_login(UserFactory(is_staff=True))

    assert client.get("/admin/").status_code == 200
    response = client.get("/admin/login/?next=/admin/accounts/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/accounts/"
    assert client.get("/admin/login/?next=https://evil.example/")["Location"] == "/admin/"


def test_anonymous_visitors_still_go_to_the_wallet_sign_in(client: Client):
    response = client.get("/admin/", follow=True)

    assert [url for url, _ in response.redirect_chain] == [
        "/admin/login/?next=/admin/",
        "/signin?next=%2Fadmin%2F",
    ]
    assert response.status_code == 200
