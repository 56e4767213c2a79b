"""Mail to people: an optional address verified by a link, notifications they chose, and a
one-click unsubscribe in every mail.

`notification_send` is the one way to mail a user about something (a weekly report, a
certificate, a key): it sends only to a verified address, only what the user wants, and
adds the unsubscribe link and the `List-Unsubscribe` headers (RFC 2369, RFC 8058).
Links are signed with django.core.signing, so they need no table: the verification link
names the user and the address and expires; the unsubscribe link names the user and what
to stop, and never expires (a mail may be read months later).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import NotificationKind, NotificationSettings, User
from fabrknt.api.errors import Conflict, InvalidInput, Unavailable

_VERIFY_SALT = "accounts.email-verification"
_UNSUBSCRIBE_SALT = "accounts.unsubscribe"
# What an unsubscribe link stops: one NotificationKind, or every one of them.
UNSUBSCRIBE_ALL = "all"
_MAX_EMAIL_LENGTH = 254  # RFC 5321's limit on a path, so on an address


class EmailNotConfigured(Unavailable):
    code = "email_not_configured"
    default_detail = "This server sends no mail (EMAIL_URL is not set)."


class VerificationRecentlySent(Conflict):
    code = "verification_recently_sent"
    default_detail = (
        "A verification mail was sent a moment ago: check your inbox, or try again in a minute."
    )


class EmailLinkInvalid(InvalidInput):
    code = "email_link_invalid"


@dataclass(frozen=True)
class Unsubscribed:
    user_id: uuid.UUID
    kinds: list[str]  # the NotificationKind values now off


def email_address_set(*, user: User, email: str) -> NotificationSettings:
    """Set the user's address (blank removes it). A new address is unverified until the
    link of the verification mail, sent after the commit, is followed; submitting the same
    unverified address again sends the mail again, at most once every
    EMAIL_VERIFICATION_RESEND_AFTER (a minute), so nobody floods an inbox through us."""
    if not settings.EMAIL_ENABLED:
        raise EmailNotConfigured()
    email = BaseUserManager.normalize_email(email.strip())
    if email:
        _email_validate(email)
    with transaction.atomic():
        row, _ = NotificationSettings.objects.select_for_update().get_or_create(user=user)
        if email and email == row.email and row.email_verified:
            return row
        now = timezone.now()
        recently = row.verification_sent_at is not None and (
            now - row.verification_sent_at < settings.EMAIL_VERIFICATION_RESEND_AFTER
        )
        if email and recently:
            raise VerificationRecentlySent()
        row.email = email
        row.email_verified_at = None
        if email:
            row.verification_sent_at = now
        row.save(update_fields=["email", "email_verified_at", "verification_sent_at", "updated_at"])
        if email:
            from accounts.tasks import send_email_verification  # tasks import services

            transaction.on_commit(lambda: send_email_verification.delay(str(user.pk)), robust=True)
    return row


def _email_validate(email: str) -> None:
    if len(email) > _MAX_EMAIL_LENGTH:
        raise InvalidInput(fields={"email": ["This address is too long."]})
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(fields={"email": ["Enter a valid email address."]}) from None


def email_verification_send(*, user: User) -> bool:
    """Mail the verification link to the user's unverified address. False when there is
    nothing to verify (no address, or already verified)."""
    row = NotificationSettings.objects.filter(user=user).first()
    if row is None or not row.email or row.email_verified:
        return False
    token = signing.dumps({"user": str(user.pk), "email": row.email}, salt=_VERIFY_SALT)
    body = render_to_string(
        "accounts/profile/email/verify.txt",
        {
            "verify_url": _absolute(reverse("account:email-verify", args=[token])),
            "valid_hours": int(settings.EMAIL_VERIFICATION_TTL.total_seconds() // 3600),
        },
    )
    _mail(
        user=user,
        to=row.email,
        subject="Confirm your email address",
        body=body,
        unsubscribe=UNSUBSCRIBE_ALL,
    )
    return True


def email_verify(*, token: str) -> NotificationSettings:
    """Mark the address a verification link names as verified (following it again is
    harmless). The link must be unexpired and name the address the account has now."""
    try:
        claims = signing.loads(token, salt=_VERIFY_SALT, max_age=settings.EMAIL_VERIFICATION_TTL)
    except signing.SignatureExpired:
        raise EmailLinkInvalid(
            "This link has expired: enter your address again on your account page for a new one."
        ) from None
    except signing.BadSignature:
        raise EmailLinkInvalid(
            "This link is not valid: copy the whole link from the mail."
        ) from None
    current = NotificationSettings.objects.filter(user_id=claims["user"], email=claims["email"])
    current.filter(email_verified_at__isnull=True).update(
        email_verified_at=timezone.now(), updated_at=timezone.now()
    )
    row = current.first()
    if row is None:
        raise EmailLinkInvalid("This link is for an address that is no longer on the account.")
    return row


def notification_unsubscribe_url(*, user: User, kind: str) -> str:
    """The signed one-click link that stops `kind` (or UNSUBSCRIBE_ALL) for the user."""
    token = signing.dumps({"user": str(user.pk), "kind": kind}, salt=_UNSUBSCRIBE_SALT)
    return _absolute(reverse("account:unsubscribe", args=[token]))


def notification_unsubscribe(*, token: str) -> Unsubscribed:
    """Switch off what an unsubscribe link names. Idempotent."""
    try:
        claims = signing.loads(token, salt=_UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        raise EmailLinkInvalid("This unsubscribe link is not valid.") from None
    kind = claims["kind"]
    kinds = NotificationKind.values if kind == UNSUBSCRIBE_ALL else [NotificationKind(kind).value]
    NotificationSettings.objects.filter(user_id=claims["user"]).update(
        updated_at=timezone.now(), **dict.fromkeys(kinds, False)
    )
    return Unsubscribed(user_id=uuid.UUID(claims["user"]), kinds=kinds)


def notification_preferences_set(*, user: User, wanted: dict[str, bool]) -> NotificationSettings:
    """Switch notifications on or off; `wanted` maps NotificationKind values to on/off."""
    fields = {NotificationKind(kind).value: bool(on) for kind, on in wanted.items()}
    with transaction.atomic():
        row, _ = NotificationSettings.objects.select_for_update().get_or_create(user=user)
        for field, on in fields.items():
            setattr(row, field, on)
        row.save(update_fields=[*fields, "updated_at"])
    return row


def notification_send(*, user: User, kind: str, subject: str, body: str) -> bool:
    """Mail a notification of `kind` to the user, if their address is verified and they
    want that kind; with the unsubscribe link and headers. Returns whether it was sent.

    Sends at once: call it from a task, not from a request."""
    row = NotificationSettings.objects.filter(user=user).first()
    if row is None or not row.email_verified or not row.wants(kind):
        return False
    _mail(user=user, to=row.email, subject=subject, body=body, unsubscribe=kind)
    return True


def _mail(*, user: User, to: str, subject: str, body: str, unsubscribe: str) -> None:
    unsubscribe_url = notification_unsubscribe_url(user=user, kind=unsubscribe)
    footer = render_to_string(
        "accounts/profile/email/footer.txt",
        {"unsubscribe_url": unsubscribe_url, "everything": unsubscribe == UNSUBSCRIBE_ALL},
    )
    EmailMessage(
        subject=f"Fabrknt Suite: {subject}",
        body=f"{body.rstrip()}\n\n-- \n{footer.strip()}\n",
        to=[to],
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    ).send()


def _absolute(path: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}{path}"
