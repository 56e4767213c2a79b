"""FABRIC's Celery tasks: thin wrappers over services."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task

from fabric.services.deal_notifications import message_notify, offer_step_notify
from fabric.services.offers import offers_expire


# A retry mails everyone of the step again: rare (the mail server refused), and a second
# copy of a notification is better than none.
@shared_task(
    name="fabric.notify_offer_step",
    soft_time_limit=60,
    time_limit=90,
    autoretry_for=(SMTPException, OSError),
    retry_backoff=True,
    max_retries=3,
)
def notify_offer_step(step_id: int) -> int:
    return offer_step_notify(step_id=step_id)


@shared_task(
    name="fabric.notify_message",
    soft_time_limit=60,
    time_limit=90,
    autoretry_for=(SMTPException, OSError),
    retry_backoff=True,
    max_retries=3,
)
def notify_message(message_id: str) -> int:
    return message_notify(message_id=message_id)


@shared_task(name="fabric.expire_offers", soft_time_limit=120, time_limit=180)
def expire_offers() -> int:
    return offers_expire()
