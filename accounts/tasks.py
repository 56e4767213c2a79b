"""Accounts' Celery tasks: thin wrappers over services."""

from __future__ import annotations

from celery import shared_task

from accounts.services.sign_in import sign_in_nonces_purge


@shared_task(name="accounts.purge_sign_in_nonces", soft_time_limit=60, time_limit=90)
def purge_sign_in_nonces() -> int:
    return sign_in_nonces_purge()
