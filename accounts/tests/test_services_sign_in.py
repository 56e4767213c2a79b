"""accounts/services/sign_in.py below the API: the siwe package, RPC lookup, nonce races."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import override_settings
from web3 import HTTPProvider

from accounts.models import SignInNonce
from accounts.services.sign_in import (
    SignInRefused,
    _nonce_spend,
    chain_rpc_provider,
    sign_in_nonce_issue,
)
from accounts.tests.signing import new_evm_account, personal_sign, siwe_text


def test_siwe_package_imports_parses_and_verifies():
    # siwe 4.4.0 fails at import with abnf 2.9.x; this keeps the pinned pair honest.
    import siwe

    account = new_evm_account()
    text = siwe_text(address=account.address, nonce="abcdEFGH1234")
    message = siwe.SiweMessage.from_message(text)
    message.verify(personal_sign(account, text))
    with pytest.raises(siwe.InvalidSignature):
        message.verify(personal_sign(new_evm_account(), text))
    assert message.prepare_message() == text


@override_settings(CHAIN_RPC_URLS={"eip155:8453": "http://127.0.0.1:9/rpc"})
def test_rpc_provider_comes_from_chain_rpc_urls():
    provider = chain_rpc_provider(8453)
    assert isinstance(provider, HTTPProvider)
    assert provider.endpoint_uri == "http://127.0.0.1:9/rpc"
    assert chain_rpc_provider(1) is None


@pytest.mark.django_db
def test_a_nonce_is_spent_once():
    nonce = sign_in_nonce_issue()
    _nonce_spend(value=nonce.value, now=nonce.created_at)
    with pytest.raises(SignInRefused, match="Nonce already used."):
        _nonce_spend(value=nonce.value, now=nonce.created_at)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_attempts_with_one_nonce_spend_it_exactly_once():
    nonce = sign_in_nonce_issue()
    attempts = 6
    barrier = threading.Barrier(attempts)
    outcomes: list[str] = []

    def attempt() -> None:
        barrier.wait()
        try:
            _nonce_spend(value=nonce.value, now=nonce.created_at)
            outcomes.append("spent")
        except SignInRefused as refusal:
            outcomes.append(refusal.reason)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["Nonce already used."] * (attempts - 1) + ["spent"]
    assert SignInNonce.objects.get().used_at is not None
