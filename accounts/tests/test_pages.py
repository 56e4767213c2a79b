"""The web shell's pages: landing, sign-in and sign-out, through Django's test client."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.utils import timezone

from accounts.tests.factories import UserFactory, WalletFactory

pytestmark = pytest.mark.django_db

# A <script> without src=, or a style="" attribute: both blocked by the CSP (default-src 'self').
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"\sstyle=", re.IGNORECASE)


def _html(response) -> str:
    return response.content.decode()


def test_landing_renders_with_nav_for_anonymous(client: Client) -> None:
    response = client.get("/")

    html = _html(response)
    assert response.status_code == 200
    assert response.templates[0].name == "home.html"
    assert 'class="brand" href="/">Fabrknt Suite</a>' in html
    assert 'href="/trace/">TRACE</a>' in html
    assert 'href="/pulse/teams/">PULSE</a>' in html
    assert 'href="/fabric/">FABRIC</a>' in html
    assert html.count('href="/fabric/"') == 2  # nav + product card
    assert 'href="/admin/"' not in html
    assert html.count('href="/signin"') == 2  # header and call to action
    assert 'href="/api/v1/docs/"' in html
    assert "Go to dashboard" not in html
    assert "Sign out" not in html


def test_landing_for_signed_in_user_shows_wallet_and_sign_out(client: Client) -> None:
    wallet = WalletFactory(address="0x52908400098527886E0F7030069857D2E4169EE7")
    client.force_login(wallet.user)

    html = _html(client.get("/"))

    assert '<span class="site-account__wallet" data-testid="signed-in-wallet"' in html
    assert 'title="0x52908400098527886E0F7030069857D2E4169EE7"' in html
    assert "0x5290…9EE7" in html
    assert '<form class="site-account__signout" method="post" action="/signout">' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'href="/signin"' not in html
    assert '<a class="button" href="/trace/">Go to dashboard</a>' in html


def test_fabric_sell_and_inbox_links_for_signed_in_users_only(client: Client) -> None:
    sell = '<a class="site-nav__link" href="/fabric/sell/">Sell</a>'
    inbox = '<a class="site-nav__link" href="/fabric/inbox/">Inbox</a>'
    assert 'href="/fabric/sell/"' not in _html(client.get("/"))
    assert 'href="/fabric/inbox/"' not in _html(client.get("/"))

    client.force_login(WalletFactory().user)

    home = _html(client.get("/"))
    assert '<a class="site-nav__link" href="/fabric/">FABRIC</a>' in home
    assert sell in home and inbox in home
    # The section's own link is the active one; FABRIC's for the other FABRIC pages.
    selling = _html(client.get("/fabric/sell/"))
    assert '<a class="site-nav__link is-active" href="/fabric/sell/">Sell</a>' in selling
    assert '<a class="site-nav__link" href="/fabric/">FABRIC</a>' in selling
    assert '<a class="site-nav__link is-active" href="/fabric/inbox/">Inbox</a>' in _html(
        client.get("/fabric/inbox/")
    )
    market = _html(client.get("/fabric/"))
    assert '<a class="site-nav__link is-active" href="/fabric/">FABRIC</a>' in market
    assert sell in market and inbox in market


def test_header_shows_most_recently_used_wallet(client: Client) -> None:
    user = UserFactory()
    WalletFactory(user=user, address="0x1111111111111111111111111111111111111111")
    WalletFactory(
        user=user,
        namespace="solana",
        chain="solana:mainnet",
        address="9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM",
        last_signed_in_at=timezone.now(),
    )
    client.force_login(user)

    html = _html(client.get("/"))

    assert "9WzDXw…AWWM" in html
    assert "0x1111…1111" not in html


def test_admin_link_only_for_staff(client: Client) -> None:
    member = UserFactory(is_staff=False)
    staff = UserFactory(is_staff=True)

    client.force_login(member)
    assert 'href="/admin/"' not in _html(client.get("/"))
    assert 'href="/ops/"' not in _html(client.get("/"))

    client.force_login(staff)
    assert '<a class="site-nav__link" href="/admin/">Admin</a>' in _html(client.get("/"))
    assert '<a class="site-nav__link" href="/ops/">Operations</a>' in _html(client.get("/"))


@pytest.mark.parametrize("path", ["/", "/signin"])
def test_pages_use_no_inline_script_or_style(client: Client, path: str) -> None:
    html = _html(client.get(path))

    assert INLINE_SCRIPT.findall(html) == []
    assert INLINE_STYLE.findall(html) == []
    assert '<link rel="stylesheet" href="/static/css/app.css">' in html


def test_signin_page_renders_with_script_and_csrf_cookie(client: Client) -> None:
    response = client.get("/signin")

    html = _html(response)
    assert response.status_code == 200
    assert response.templates[0].name == "accounts/signin.html"
    assert '<section class="signin" id="signin" data-next="/trace/">' in html
    assert 'id="signin-ethereum"' in html
    assert "Sign in with Ethereum wallet" in html
    assert 'id="signin-solana"' in html
    assert '<script src="/static/vendor/js-sha3/sha3.min.js" defer></script>' in html
    assert '<script src="/static/js/wallet.js" defer></script>' in html
    assert '<script src="/static/js/signin.js" defer></script>' in html
    # The script echoes this cookie as X-CSRFToken on its POSTs.
    assert "csrftoken" in response.cookies


def test_signin_keeps_a_local_next_path(client: Client) -> None:
    html = _html(client.get("/signin", {"next": "/trace/campaigns/?page=2"}))

    assert 'data-next="/trace/campaigns/?page=2"' in html


@pytest.mark.parametrize(
    "next_value",
    [
        "https://evil.example/",
        "http://testserver.evil.example/",
        "//evil.example/path",
        "/\\evil.example",
        "javascript:alert(1)",
        "trace/",
        "",
    ],
)
def test_signin_ignores_a_next_that_leaves_the_site(client: Client, next_value: str) -> None:
    html = _html(client.get("/signin", {"next": next_value}))

    assert 'data-next="/trace/"' in html
    assert "evil" not in html
    assert "javascript:" not in html


def test_signin_page_for_signed_in_user_offers_to_continue(client: Client) -> None:
    client.force_login(WalletFactory().user)

    html = _html(client.get("/signin", {"next": "/trace/x"}))

    assert "You are already signed in." in html
    assert '<a href="/trace/x">Continue</a>' in html


def test_signout_post_logs_out_and_redirects_home() -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(WalletFactory().user)
    client.get("/")  # sets the CSRF cookie as the header form would
    token = client.cookies["csrftoken"].value

    response = client.post("/signout", {"csrfmiddlewaretoken": token})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert SESSION_KEY not in client.session
    assert "Sign out" not in _html(client.get("/"))


def test_signout_get_is_405_and_keeps_the_session(client: Client) -> None:
    user = WalletFactory().user
    client.force_login(user)

    response = client.get("/signout")

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert client.session[SESSION_KEY] == str(user.pk)


def test_signout_without_csrf_token_is_refused_and_keeps_the_session() -> None:
    client = Client(enforce_csrf_checks=True)
    user = WalletFactory().user
    client.force_login(user)

    response = client.post("/signout")

    assert response.status_code == 403
    assert client.session[SESSION_KEY] == str(user.pk)


def test_signin_and_home_refuse_post(client: Client) -> None:
    assert client.post("/").status_code == 405
    assert client.post("/signin").status_code == 405


def test_the_admin_login_sends_people_to_the_wallet_sign_in(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/"

    followed = client.get(response["Location"])
    assert followed.status_code == 302
    assert followed["Location"] == "/signin?next=%2Fadmin%2F"

    assert client.get("/admin/login/?next=https://evil.example/")["Location"] == (
        "/signin?next=%2Fadmin%2F"
    )
