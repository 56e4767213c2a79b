"""FABRIC's Celery tasks: thin wrappers over services."""

from __future__ import annotations

from celery import shared_task

from fabric.services.nda import nda_nonces_purge


@shared_task(name="fabric.purge_nda_nonces", soft_time_limit=60, time_limit=90)
def purge_nda_nonces() -> int:
    return nda_nonces_purge()
