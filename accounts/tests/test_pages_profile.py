"""The "Your account" pages through Django's test client: every form valid, refused with a
message and nothing stored, and out of reach of anyone not signed in."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client

from accounts.models import NotificationSettings, SignInNonce, Wallet
from accounts.services.sign_in import sign_in_nonce_issue
from accounts.services.wallet_links import wallet_link_statement
from accounts.tests.factories import WalletFactory
from accounts.tests.signing import new_evm_account, personal_sign, siwe_text
from accounts.tests.test_pages import INLINE_SCRIPT, INLINE_STYLE

pytestmark = pytest.mark.django_db


@pytest.fixture
def wallet() -> Wallet:
    return WalletFactory(address="0x52908400098527886E0F7030069857D2E4169EE7")


@pytest.fixture
def browser(wallet) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(wallet.user)
    return client


def _post(client: Client, path: str, data: dict | None = None, **kwargs):
    """A POST as the page's form sends it: with the CSRF token from the cookie."""
    client.get("/account/")
    token = client.cookies["csrftoken"].value
    return client.post(path, {"csrfmiddlewaretoken": token, **(data or {})}, **kwargs)


def _html(response) -> str:
    return response.content.decode()


def _link_body(user, account=None, **overrides) -> dict:
    account = account or new_evm_account()
    text = siwe_text(
        address=account.address,
        nonce=sign_in_nonce_issue().value,
        chain_id=8453,
        statement=wallet_link_statement(user=user),
    )
    body = {"protocol": "siwe", "message": text, "signature": personal_sign(account, text)}
    return {**body, **overrides}


# --- the page --------------------------------------------------------------------------------


def test_the_account_page_lists_wallets_and_is_linked_from_the_header(browser, wallet):
    response = browser.get("/account/")

    html = _html(response)
    assert response.status_code == 200
    assert response.templates[0].name == "accounts/profile/account.html"
    assert '<a class="site-nav__link site-account__link" href="/account/">Your account</a>' in html
    assert '<span class="wallet-list__address" title="0x5290' in html
    assert f'data-statement="Link this wallet to Fabrknt Suite account {wallet.user_id}."' in html
    assert "This is your only wallet, so it cannot be unlinked." in html
    assert "/unlink" not in html
    assert '<script src="/static/js/wallet.js" defer></script>' in html
    assert '<script src="/static/js/link-wallet.js" defer></script>' in html
    assert INLINE_SCRIPT.findall(html) == [] and INLINE_STYLE.findall(html) == []
    assert "No email address: you get no mail." in html


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/account/"),
        ("post", "/account/wallets/link"),
        ("post", "/account/email"),
        ("post", "/account/notifications"),
        ("get", "/account/sign-out-everywhere"),
        ("post", "/account/sign-out-everywhere"),
    ],
)
def test_anonymous_visitors_are_sent_to_sign_in_and_nothing_is_stored(client, method, path):
    data = {"email": "ada@example.com"} if method == "post" else None
    response = getattr(client, method)(path, data)

    assert response.status_code == 302
    assert response["Location"] == f"/signin?next={path}"
    assert NotificationSettings.objects.count() == 0


@pytest.mark.parametrize(
    "path", ["/account/wallets/link", "/account/email", "/account/notifications"]
)
def test_a_post_without_the_csrf_token_is_refused(browser, path):
    response = browser.post(path, {"email": "ada@example.com"})

    assert response.status_code == 403
    assert NotificationSettings.objects.count() == 0


# --- linking ---------------------------------------------------------------------------------


def test_linking_a_wallet_as_the_browser_submits_it(browser, wallet):
    account = new_evm_account()
    body = _link_body(wallet.user, account)
    # HTML form encoding sends every line break as CRLF; the wallet signed LF.
    body["message"] = body["message"].replace("\n", "\r\n")

    response = _post(browser, "/account/wallets/link", body, follow=True)

    assert response.status_code == 200
    linked = Wallet.objects.get(address=account.address)
    assert (linked.user, linked.chain) == (wallet.user, "eip155:8453")
    html = _html(response)
    assert f"Wallet {account.address[:6]}…{account.address[-4:]} is linked to your account." in html
    assert html.count('class="wallet-list__item"') == 2
    assert html.count(">Unlink</a>") == 2


@pytest.mark.parametrize(
    ("case", "status", "message"),
    [
        ("bad signature", 400, "Signature does not match the message&#x27;s address."),
        ("missing signature", 400, "This field is required."),
        ("unknown protocol", 400, "Select a valid choice."),
        ("another account", 409, "This wallet belongs to another account."),
    ],
)
def test_a_refused_link_says_why_and_stores_nothing(browser, wallet, case, status, message):
    account = new_evm_account()
    body = _link_body(wallet.user, account)
    if case == "bad signature":
        body["signature"] = personal_sign(new_evm_account(), body["message"])
    elif case == "missing signature":
        body["signature"] = ""
    elif case == "unknown protocol":
        body["protocol"] = "btc"
    else:
        WalletFactory(address=account.address)

    response = _post(browser, "/account/wallets/link", body)

    assert response.status_code == status
    assert message in _html(response)
    assert not Wallet.objects.filter(user=wallet.user, address=account.address).exists()
    assert wallet.user.wallets.count() == 1


# --- unlinking -------------------------------------------------------------------------------


def test_unlinking_asks_first_then_unlinks(browser, wallet):
    other = WalletFactory(user=wallet.user)
    path = f"/account/wallets/{other.pk}/unlink"

    confirm = browser.get(path)
    assert confirm.status_code == 200
    assert "<h1>Unlink this wallet?</h1>" in _html(confirm)
    assert wallet.user.wallets.count() == 2

    response = _post(browser, path, follow=True)

    assert response.redirect_chain == [("/account/", 302)]
    assert list(wallet.user.wallets.all()) == [wallet]
    assert f"Wallet {other.address[:6]}…{other.address[-4:]} is unlinked." in _html(response)


def test_the_last_wallet_is_not_unlinked(browser, wallet):
    response = _post(browser, f"/account/wallets/{wallet.pk}/unlink")

    assert response.status_code == 409
    assert "This is the only wallet of your account" in _html(response)
    assert Wallet.objects.filter(pk=wallet.pk).exists()


def test_another_users_wallet_is_a_404_and_stays(browser):
    theirs = WalletFactory()
    WalletFactory(user=theirs.user)

    assert browser.get(f"/account/wallets/{theirs.pk}/unlink").status_code == 404
    assert _post(browser, f"/account/wallets/{theirs.pk}/unlink").status_code == 404
    assert Wallet.objects.filter(pk=theirs.pk).exists()


def test_unlinking_needs_sign_in_and_the_csrf_token(client, wallet):
    other = WalletFactory(user=wallet.user)
    path = f"/account/wallets/{other.pk}/unlink"

    assert client.post(path)["Location"] == f"/signin?next={path}"
    forged = Client(enforce_csrf_checks=True)
    forged.force_login(wallet.user)
    assert forged.post(path).status_code == 403
    assert wallet.user.wallets.count() == 2


# --- email and notifications -----------------------------------------------------------------


def test_adding_an_address_mails_the_link_and_the_page_says_so(
    browser, wallet, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(browser, "/account/email", {"email": "ada@example.com"}, follow=True)

    html = _html(response)
    assert "We sent a link to ada@example.com: open it to confirm the address." in html
    assert "is waiting for confirmation" in html
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]
    verify = next(line for line in mail.outbox[0].body.splitlines() if "/verify/" in line)
    assert browser.get(verify.removeprefix("http://127.0.0.1:8000")).status_code == 200
    assert "Mail goes to <strong>ada@example.com</strong> (confirmed)." in _html(
        browser.get("/account/")
    )


def test_a_bad_address_is_shown_with_the_reason_and_nothing_is_stored(browser):
    response = _post(browser, "/account/email", {"email": "not an address"})

    assert response.status_code == 400
    assert "Email address: Enter a valid email address." in _html(response)
    assert NotificationSettings.objects.count() == 0
    assert mail.outbox == []


def test_removing_the_address(browser, wallet):
    NotificationSettings.objects.create(
        user=wallet.user, email="ada@example.com", email_verified_at="2026-01-01T00:00Z"
    )

    response = _post(browser, "/account/email", {"email": ""}, follow=True)

    assert "Your email address is removed" in _html(response)
    row = NotificationSettings.objects.get()
    assert (row.email, row.email_verified_at) == ("", None)


def test_without_mail_the_page_offers_no_address(browser, settings):
    settings.EMAIL_ENABLED = False

    assert "This server sends no mail" in _html(browser.get("/account/"))
    response = _post(browser, "/account/email", {"email": "ada@example.com"})
    assert response.status_code == 503
    assert NotificationSettings.objects.count() == 0


def test_notification_choices_are_saved(browser, wallet):
    response = _post(browser, "/account/notifications", {"certificate_issued": "on"}, follow=True)

    assert "Your notification choices are saved." in _html(response)
    row = NotificationSettings.objects.get(user=wallet.user)
    assert (row.weekly_report, row.certificate_issued, row.api_key_created) == (
        False,
        True,
        False,
    )
    html = _html(response)
    assert 'name="certificate_issued" id="id_certificate_issued" checked' in html


# --- sign out everywhere ---------------------------------------------------------------------


def test_sign_out_everywhere_asks_then_ends_every_session(browser, wallet):
    elsewhere = Client()
    elsewhere.force_login(wallet.user)

    confirm = browser.get("/account/sign-out-everywhere")
    assert "<h1>Sign out everywhere?</h1>" in _html(confirm)

    response = _post(browser, "/account/sign-out-everywhere", follow=True)

    assert response.redirect_chain == [("/signin", 302)]
    assert "You are signed out of every session" in _html(response)
    assert SESSION_KEY not in browser.session
    elsewhere.get("/")
    assert SESSION_KEY not in elsewhere.session
    wallet.user.refresh_from_db()
    assert wallet.user.session_generation == 1


def test_sign_out_everywhere_without_the_csrf_token_changes_nothing(browser, wallet):
    assert browser.post("/account/sign-out-everywhere").status_code == 403
    wallet.user.refresh_from_db()
    assert wallet.user.session_generation == 0
    assert SignInNonce.objects.count() == 0
