"""Email address, verification link, preferences, notification mails and unsubscribe,
through Django's in-memory mail outbox (the test runner's locmem backend)."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client

from accounts.models import NotificationKind, NotificationSettings
from accounts.services.notifications import (
    EmailLinkInvalid,
    EmailNotConfigured,
    VerificationRecentlySent,
    email_address_set,
    email_verify,
    notification_send,
    notification_unsubscribe_url,
)
from accounts.tests.factories import UserFactory
from fabrknt.api.errors import InvalidInput

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://127\.0\.0\.1:8000(/account/[^\s]+)")


def _links(message) -> list[str]:
    return LINK.findall(message.body)


def _set_and_send(user, email, capture):
    with capture(execute=True):
        return email_address_set(user=user, email=email)


def test_a_new_address_gets_a_verification_mail_with_an_unsubscribe_link(
    django_capture_on_commit_callbacks,
):
    user = UserFactory()

    row = _set_and_send(user, " Ada@Example.COM ", django_capture_on_commit_callbacks)

    assert (row.email, row.email_verified_at) == ("Ada@example.com", None)
    [message] = mail.outbox
    assert message.to == ["Ada@example.com"]
    assert message.subject == "Fabrknt Suite: Confirm your email address"
    assert message.from_email == "Fabrknt Suite <noreply@127.0.0.1>"
    verify, unsubscribe = _links(message)
    assert verify.startswith("/account/email/verify/")
    assert unsubscribe.startswith("/account/unsubscribe/")
    assert message.extra_headers["List-Unsubscribe"] == f"<http://127.0.0.1:8000{unsubscribe}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_following_the_link_verifies_the_address_and_again_is_harmless(
    django_capture_on_commit_callbacks,
):
    user = UserFactory()
    _set_and_send(user, "ada@example.com", django_capture_on_commit_callbacks)
    verify = _links(mail.outbox[0])[0]

    first = Client().get(verify)
    again = Client().get(verify)

    assert first.status_code == again.status_code == 200
    assert "Email address confirmed" in first.content.decode()
    row = NotificationSettings.objects.get(user=user)
    assert row.email_verified and row.email_verified_at is not None


def test_a_link_for_an_address_since_changed_verifies_nothing(
    django_capture_on_commit_callbacks, settings
):
    settings.EMAIL_VERIFICATION_RESEND_AFTER = timedelta(0)  # changed after the minute
    user = UserFactory()
    _set_and_send(user, "old@example.com", django_capture_on_commit_callbacks)
    old_link = _links(mail.outbox[0])[0]
    _set_and_send(user, "new@example.com", django_capture_on_commit_callbacks)

    response = Client().get(old_link)

    assert response.status_code == 400
    assert "no longer on the account" in response.content.decode()
    assert NotificationSettings.objects.get(user=user).email_verified_at is None


def test_an_expired_or_forged_link_verifies_nothing(settings, django_capture_on_commit_callbacks):
    user = UserFactory()
    _set_and_send(user, "ada@example.com", django_capture_on_commit_callbacks)
    token = urlsplit(_links(mail.outbox[0])[0]).path.rsplit("/", 1)[1]

    settings.EMAIL_VERIFICATION_TTL = timedelta(seconds=-1)
    with pytest.raises(EmailLinkInvalid, match="expired"):
        email_verify(token=token)
    settings.EMAIL_VERIFICATION_TTL = timedelta(days=3)
    with pytest.raises(EmailLinkInvalid, match="not valid"):
        email_verify(token=token[:-2] + "xx")
    assert NotificationSettings.objects.get(user=user).email_verified_at is None


@pytest.mark.parametrize("email", ["not-an-address", "a@b", "x" * 250 + "@example.com"])
def test_a_bad_address_is_refused_and_nothing_is_stored_or_sent(email):
    with pytest.raises(InvalidInput) as refusal:
        email_address_set(user=UserFactory(), email=email)

    assert list(refusal.value.fields) == ["email"]
    assert NotificationSettings.objects.count() == 0
    assert mail.outbox == []


def test_without_email_url_no_address_is_taken(settings):
    settings.EMAIL_ENABLED = False

    with pytest.raises(EmailNotConfigured):
        email_address_set(user=UserFactory(), email="ada@example.com")

    assert NotificationSettings.objects.count() == 0


def _verified(user, **preferences):
    return NotificationSettings.objects.create(
        user=user, email="ada@example.com", email_verified_at="2026-01-01T00:00Z", **preferences
    )


def test_a_notification_goes_to_a_verified_address_with_its_own_unsubscribe():
    user = UserFactory()
    _verified(user)

    sent = notification_send(
        user=user,
        kind=NotificationKind.CERTIFICATE_ISSUED,
        subject="Certificate issued",
        body="Your certificate is ready.",
    )

    assert sent is True
    [message] = mail.outbox
    assert message.subject == "Fabrknt Suite: Certificate issued"
    assert message.body.startswith("Your certificate is ready.\n\n-- \n")
    assert "To stop this kind of mail, open: http://127.0.0.1:8000/account/unsubscribe/" in (
        message.body
    )
    [unsubscribe] = _links(message)
    assert message.extra_headers["List-Unsubscribe"] == f"<http://127.0.0.1:8000{unsubscribe}>"

    # RFC 8058: the mail client POSTs, without a session or our CSRF token.
    response = Client(enforce_csrf_checks=True).post(unsubscribe, {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    row = NotificationSettings.objects.get(user=user)
    assert (row.certificate_issued, row.weekly_report, row.api_key_created) == (False, True, True)
    assert not notification_send(
        user=user, kind=NotificationKind.CERTIFICATE_ISSUED, subject="s", body="b"
    )
    assert len(mail.outbox) == 1


def test_opening_an_unsubscribe_link_only_asks():
    user = UserFactory()
    _verified(user)
    path = urlsplit(
        notification_unsubscribe_url(user=user, kind=NotificationKind.WEEKLY_REPORT)
    ).path

    response = Client().get(path)

    assert response.status_code == 200
    assert f'<form method="post" action="{path}">' in response.content.decode()
    assert NotificationSettings.objects.get(user=user).weekly_report is True
    assert Client().post(path.replace("/unsubscribe/", "/unsubscribe/x")).status_code == 400
    assert NotificationSettings.objects.get(user=user).weekly_report is True


@pytest.mark.parametrize(
    "row",
    [None, {"email": "ada@example.com"}, {"verified": True, "weekly_report": False}],
    ids=["no settings", "unverified", "kind switched off"],
)
def test_no_mail_without_a_verified_address_that_wants_it(row):
    user = UserFactory()
    if row == {"email": "ada@example.com"}:
        NotificationSettings.objects.create(user=user, email="ada@example.com")
    elif row is not None:
        _verified(user, weekly_report=False)

    assert not notification_send(
        user=user, kind=NotificationKind.WEEKLY_REPORT, subject="Weekly", body="b"
    )
    assert mail.outbox == []


def test_verification_mails_are_spaced_out(django_capture_on_commit_callbacks, settings):
    """Asking again and again (or for other addresses) within a minute sends one mail: a
    signed-in user cannot flood someone's inbox through us. The refusal stores nothing."""
    user = UserFactory()
    _set_and_send(user, "ada@example.com", django_capture_on_commit_callbacks)

    for address in ("ada@example.com", "victim@example.com"):
        with pytest.raises(VerificationRecentlySent):
            _set_and_send(user, address, django_capture_on_commit_callbacks)

    assert len(mail.outbox) == 1
    assert NotificationSettings.objects.get(user=user).email == "ada@example.com"
    settings.EMAIL_VERIFICATION_RESEND_AFTER = timedelta(0)
    _set_and_send(user, "ada@example.com", django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 2
