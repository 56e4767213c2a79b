"""Accounts' Celery tasks: thin wrappers over services."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task

from accounts.models import User
from accounts.services.notifications import email_verification_send
from accounts.services.sign_in import sign_in_nonces_purge


@shared_task(name="accounts.purge_sign_in_nonces", soft_time_limit=60, time_limit=90)
def purge_sign_in_nonces() -> int:
    return sign_in_nonces_purge()


@shared_task(
    name="accounts.send_email_verification",
    soft_time_limit=30,
    time_limit=60,
    autoretry_for=(SMTPException, OSError),
    retry_backoff=True,
    max_retries=3,
)
def send_email_verification(user_id: str) -> bool:
    user = User.objects.filter(pk=user_id).first()
    return user is not None and email_verification_send(user=user)
