"""Who reaches the operators' admin at /admin/: staff; a signed-in person who is not staff
gets a "Staff only" page; an anonymous visitor is sent to the wallet sign-in."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client

from accounts.tests.factories import UserFactory
from fabrknt.tests.routes import example_path, url_patterns_walk

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


def test_no_admin_page_opens_to_a_signed_in_non_staff_user(client: Client):
    """Every route of the admin (each ModelAdmin's list, add, change, delete and history
    pages, the app indexes, autocomplete...), as the URL resolver has them."""
    client.force_login(UserFactory(is_staff=False))
    app_indexes = {f"/admin/{model._meta.app_label}/" for model in admin.site._registry}
    paths = {
        example_path(route)
        for route, _ in url_patterns_walk()
        if route.startswith("admin/") and "(?P<" not in route  # the app index: below
    } | app_indexes

    answers = {path: client.get(path) for path in sorted(paths - {"/admin/login/"})}

    assert len(answers) == 353
    # The admin sends them to its login, which is the "Staff only" page (the first test).
    sent_to_login = {path: f"/admin/login/?next={path}" for path in answers}
    sent_to_login["/admin/logout/"] = "/admin/"  # Django's: to the index, then the login
    assert {path: response.get("Location") for path, response in answers.items()} == (sent_to_login)
    assert {response.status_code for response in answers.values()} == {302}
    assert client.get("/admin/login/", follow=True).status_code == 403
