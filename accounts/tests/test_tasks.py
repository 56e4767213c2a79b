from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.models import SignInNonce
from accounts.services.sign_in import sign_in_nonce_issue
from accounts.tasks import purge_sign_in_nonces


def test_purge_deletes_spent_and_expired_nonces_only(db):
    live = sign_in_nonce_issue()
    spent = sign_in_nonce_issue()
    SignInNonce.objects.filter(pk=spent.pk).update(used_at=timezone.now())
    expired = sign_in_nonce_issue()
    SignInNonce.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert purge_sign_in_nonces.delay().get() == 2

    assert list(SignInNonce.objects.values_list("value", flat=True)) == [live.value]
